using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Events.Webhooks;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// A real webhook receiver on loopback port 0 (Kestrel), verifying each request the way
/// docs/events.md tells receivers to, and answering with whatever status the test sets.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeProvider _time;

    private WebhookReceiver(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    /// <summary>Set by the test after creating the subscription.</summary>
    public string? Secret { get; set; }

    /// <summary>The status the next requests get.</summary>
    public int Answer { get; set; } = 200;

    /// <summary>How long the next requests wait before they are answered (a hung receiver).</summary>
    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<Received> Requests { get; } = new();

    public Uri Url { get; private set; } = null!;

    public sealed record Received(string DeliveryId, int Answered, bool SignatureValid, JsonObject Body, string EventType)
    {
        /// <summary>When the request arrived (wall clock, whatever clock the receiver verifies with).</summary>
        public DateTimeOffset At { get; init; } = TimeProvider.System.GetUtcNow();
    }

    public static async Task<WebhookReceiver> StartAsync(TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, time ?? TimeProvider.System);
        app.MapPost("/hook", (RequestDelegate)receiver.HandleAsync);
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First().TrimEnd('/') + "/hook");
        return receiver;
    }

    /// <summary>Requests answered 2xx, by delivery id.</summary>
    public IReadOnlyList<Received> Accepted => Requests.Where(r => r.Answered is >= 200 and < 300).ToList();

    public async Task WaitForAsync(Func<WebhookReceiver, bool> condition, TimeSpan timeout, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition(this))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds} s; received {Requests.Count} request(s): " +
                    string.Join(", ", Requests.Select(r => $"{r.DeliveryId}→{r.Answered}")));
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var valid = Secret is not null && WebhookSignature.Verify(Secret,
            context.Request.Headers[WebhookSignature.SignatureHeader], context.Request.Headers[WebhookSignature.TimestampHeader],
            body, _time.GetUtcNow(), WebhookSignature.DefaultTolerance);
        var answer = Answer;
        Requests.Enqueue(new Received(context.Request.Headers[WebhookSignature.DeliveryHeader].ToString(), answer, valid,
            JsonNode.Parse(body)!.AsObject(), context.Request.Headers[WebhookSignature.EventTypeHeader].ToString()));
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        context.Response.StatusCode = answer;
    }
}
