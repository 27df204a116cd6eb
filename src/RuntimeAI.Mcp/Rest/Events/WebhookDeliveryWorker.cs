using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>
/// Sends the webhook outbox: turns newly stored events into deliveries, POSTs each due delivery
/// signed (<see cref="WebhookSignature"/>), and on failure schedules the next attempt with
/// exponential backoff in the store, or dead-letters it after the last attempt. All state is in
/// the store, so a restart resumes where it stopped; all timing goes through the injected
/// <see cref="TimeProvider"/>. Every replica runs one; each delivery is claimed by one worker for
/// one attempt (<see cref="IWebhookStore.ClaimDueAsync"/>), so it is sent once per attempt, and a
/// claim left by a dead process is retried by another after <see cref="WebhookDeliveryOptions.ClaimLease"/>.
/// </summary>
public sealed partial class WebhookDeliveryWorker : BackgroundService
{
    private const int EnqueueBatch = 500;
    private const int SendBatch = 32;

    private readonly IWebhookStore _store;
    private readonly InventoryChangeFeed _feed;
    private readonly WebhookDeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDeliveryWorker> _logger;
    private readonly HttpClient _http;
    private TaskCompletionSource _wake = NewSignal();

    /// <summary>Creates the worker; it owns its HTTP client (no redirects: a delivery goes where its owner said, nowhere else).</summary>
    public WebhookDeliveryWorker(IWebhookStore store, InventoryChangeFeed feed, EventsOptions options, TimeProvider time, ILogger<WebhookDeliveryWorker> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _feed = feed;
        _options = options.Webhooks;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("RuntimeAI-Webhooks", "1"));
    }

    /// <summary>Asks the worker to look at the store now (a new event, a redelivery) instead of at its next poll.</summary>
    public void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>One pass: enqueue what is new, then attempt every due delivery once. Returns the attempts made.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        while (await _store.EnqueueNewEventsAsync(_time.GetUtcNow(), EnqueueBatch, cancellationToken).ConfigureAwait(false) > 0)
        {
        }

        var attempts = 0;
        IReadOnlyList<DueDelivery> due;
        do
        {
            // Claimed, not listed: a replica's worker running the same pass gets other deliveries, never these.
            due = await _store.ClaimDueAsync(_time.GetUtcNow(), _options.ClaimLease, SendBatch, cancellationToken).ConfigureAwait(false);
            foreach (var delivery in due)
            {
                await AttemptAsync(delivery, cancellationToken).ConfigureAwait(false);
                attempts++;
            }
        }
        while (due.Count == SendBatch);

        return attempts;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _feed.Changed += OnInventoryChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Armed before the pass, so a wake during the pass makes the wait below return at once.
                var signal = NewSignal();
                Volatile.Write(ref _wake, signal);
                try
                {
                    await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogPassFailed(ex.Message);
                }

                var wait = _options.PollInterval;
                try
                {
                    if (await _store.NextDueAtAsync(stoppingToken).ConfigureAwait(false) is { } next)
                    {
                        var untilNext = next - _time.GetUtcNow();
                        wait = untilNext < wait ? untilNext : wait;
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogPassFailed(ex.Message);
                }

                if (wait > TimeSpan.Zero)
                {
                    using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    var delay = Task.Delay(wait, _time, delayCancel.Token);
                    await Task.WhenAny(signal.Task, delay).ConfigureAwait(false);
                    await delayCancel.CancelAsync().ConfigureAwait(false);
                    await delay.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        finally
        {
            _feed.Changed -= OnInventoryChanged;
        }
    }

    /// <summary>The JSON body of a delivery: its id, the subscription, the event's log position, the event.</summary>
    public static byte[] Body(DueDelivery due)
    {
        ArgumentNullException.ThrowIfNull(due);
        var body = new JsonObject
        {
            ["delivery_id"] = due.Delivery.Id,
            ["subscription_id"] = due.Delivery.SubscriptionId,
            ["cursor"] = due.Delivery.EventSeq.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["event"] = EventJson.ToNode(due.Event),
        };
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private async Task AttemptAsync(DueDelivery due, CancellationToken stoppingToken)
    {
        var body = Body(due);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, due.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.DeliveryHeader, due.Delivery.Id);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(due.Secret, timestamp, body));
        request.Headers.Add(WebhookSignature.EventTypeHeader, due.Event.Type);

        int? status = null;
        string error;
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                await _store.MarkDeliveredAsync(due.Delivery.Id, status.Value, _time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                return;
            }

            error = $"the receiver answered HTTP {status}";
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            error = $"no answer within {_options.AttemptTimeout.TotalSeconds:0.###} s";
        }
        catch (HttpRequestException ex)
        {
            error = "could not reach the receiver: " + ex.Message;
        }

        var attempts = due.Delivery.Attempts + 1;
        DateTimeOffset? retryAt = attempts >= _options.MaxAttempts ? null : _time.GetUtcNow() + _options.DelayAfter(attempts);
        await _store.MarkFailedAsync(due.Delivery.Id, status, error, retryAt, stoppingToken).ConfigureAwait(false);
        if (retryAt is null)
        {
            LogDeadLettered(due.Delivery.Id, due.Delivery.SubscriptionId, attempts, error);
        }
        else
        {
            LogAttemptFailed(due.Delivery.Id, attempts, error, retryAt.Value);
        }
    }

    private void OnInventoryChanged(object? sender, InventoryChange change)
    {
        if (change.MayTouchRuntimes)
        {
            Wake();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook outbox pass failed: {Reason}")]
    private partial void LogPassFailed(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "webhook delivery {DeliveryId} attempt {Attempt} failed ({Reason}); next attempt at {RetryAt:O}")]
    private partial void LogAttemptFailed(string deliveryId, int attempt, string reason, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook delivery {DeliveryId} of subscription {SubscriptionId} dead-lettered after {Attempts} attempts ({Reason}); an admin can redeliver it")]
    private partial void LogDeadLettered(string deliveryId, string subscriptionId, int attempts, string reason);
}
