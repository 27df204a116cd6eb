using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using RuntimeAI.Kubernetes.Auth;
using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Client;

/// <summary>One HTTP call to the API: built afresh for every attempt.</summary>
internal sealed record KubeRequest(HttpMethod Method, string PathAndQuery, string Operation)
{
    /// <summary>The body, already serialized.</summary>
    public byte[]? Body { get; init; }

    /// <summary>Content type of <see cref="Body"/> (no charset parameter: the API wants the bare media type).</summary>
    public string? ContentType { get; init; }

    /// <summary>The Accept header.</summary>
    public string Accept { get; init; } = "application/json";

    /// <summary>Safe to repeat after a response was (possibly) produced: retried on 429/5xx/timeouts, not only on connect errors.</summary>
    public bool Idempotent { get; init; } = true;

    /// <summary>Return as soon as headers arrive (watch, log follow); the caller owns the body.</summary>
    public bool Streaming { get; init; }
}

/// <summary>
/// Sends requests through a retry-and-timeout pipeline, authenticates them, and turns failures
/// into <see cref="KubeApiException"/>s carrying the API's Status. Never logs headers.
/// </summary>
internal sealed class KubeHttpTransport : IDisposable
{
    private static readonly HashSet<HttpStatusCode> s_retryableStatus =
    [
        HttpStatusCode.TooManyRequests,
        HttpStatusCode.InternalServerError,
        HttpStatusCode.BadGateway,
        HttpStatusCode.ServiceUnavailable,
        HttpStatusCode.GatewayTimeout,
    ];

    private readonly HttpClient _http;
    private readonly string _serverPrefix;
    private readonly KubeCredentialSource _credentials;
    private readonly ResiliencePipeline<HttpResponseMessage> _idempotent;
    private readonly ResiliencePipeline<HttpResponseMessage> _nonIdempotent;
    private readonly KubeApiClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public KubeHttpTransport(Uri server, HttpMessageHandler handler, KubeCredentialSource credentials, KubeApiClientOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _http = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the pipeline times each attempt instead
        };

        // A server URL may carry a path (a proxy such as Rancher's, or a virtual cluster served under
        // a prefix): API paths are appended to it, never resolved against the host root.
        _serverPrefix = server.GetLeftPart(UriPartial.Path).TrimEnd('/');
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
        _credentials = credentials;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _idempotent = BuildPipeline(idempotent: true);
        _nonIdempotent = BuildPipeline(idempotent: false);
    }

    public KubeCredentialSource Credentials => _credentials;

    /// <summary>Sends and returns a successful response; throws on any failure.</summary>
    public async Task<HttpResponseMessage> SendAsync(KubeRequest request, CancellationToken cancellationToken)
    {
        var pipeline = request.Idempotent ? _idempotent : _nonIdempotent;
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(
                async token => await SendOnceAsync(request, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new TimeoutException($"{request.Operation} timed out after {_options.RequestTimeout.TotalSeconds:0.###} s.", ex);
        }
        catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException(ex.HttpRequestError, $"{request.Operation} failed: {ex.Message}", ex, ex.StatusCode);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await CreateErrorAsync(response, request.Operation, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads an error body into the matching exception type.</summary>
    public async Task<KubeApiException> CreateErrorAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        KubeStatus? status = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrWhiteSpace(text))
            {
                status = text.TrimStart().StartsWith('{')
                    ? JsonSerializer.Deserialize(text, KubeJsonContext.Default.KubeStatus)
                    : new KubeStatus { Message = Truncate(text.Trim(), 500) };
            }
        }
        catch (JsonException)
        {
            // A proxy in front of the API may answer with something that is not a Status.
        }

        return KubeApiException.Create(operation, response.StatusCode, status, GetRetryAfter(response));
    }

    private async Task<HttpResponseMessage> SendOnceAsync(KubeRequest request, CancellationToken cancellationToken)
    {
        var response = await SendAuthenticatedAsync(request, forceRefresh: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized && _credentials.CanRefresh)
        {
            // Exec and file tokens expire or rotate; one retry with fresh credentials is what kubectl does.
            response.Dispose();
            response = await SendAuthenticatedAsync(request, forceRefresh: true, cancellationToken).ConfigureAwait(false);
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendAuthenticatedAsync(KubeRequest request, bool forceRefresh, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(request.Method, new Uri(_serverPrefix + request.PathAndQuery, UriKind.Absolute));
        message.Headers.TryAddWithoutValidation("Accept", request.Accept);
        var authorization = await _credentials.GetAuthorizationAsync(forceRefresh, cancellationToken).ConfigureAwait(false);
        if (authorization is not null)
        {
            message.Headers.Authorization = authorization;
        }

        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue(request.ContentType ?? "application/json");
        }

        var started = _timeProvider.GetTimestamp();
        var completion = request.Streaming ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead;
        var response = await _http.SendAsync(message, completion, cancellationToken).ConfigureAwait(false);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            // Method, path and status only: headers (Authorization) and bodies (Secrets) are never logged.
            _logger.LogDebug("{Method} {Path} -> {Status} in {Elapsed} ms", request.Method, request.PathAndQuery, (int)response.StatusCode,
                (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }

        return response;
    }

    private ResiliencePipeline<HttpResponseMessage> BuildPipeline(bool idempotent)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _timeProvider };
        if (_options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = _options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                MaxDelay = _options.MaxRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, idempotent)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfterDelay(args.Outcome.Result)),
                OnRetry = args =>
                {
                    _logger.LogDebug("Retrying after {Outcome} (attempt {Attempt}, waiting {Delay} ms)",
                        args.Outcome.Result is { } r ? ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name,
                        args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            });
        }

        builder.AddTimeout(_options.RequestTimeout);
        return builder.Build();
    }

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, bool idempotent)
    {
        if (outcome.Exception is HttpRequestException httpError)
        {
            // A connect failure means the server never saw the request, so even a create may be repeated.
            return idempotent || httpError.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
        }

        if (!idempotent)
        {
            return false;
        }

        return outcome.Exception is TimeoutRejectedException or IOException
            || (outcome.Result is { } response && s_retryableStatus.Contains(response.StatusCode));
    }

    private TimeSpan? RetryAfterDelay(HttpResponseMessage? response)
    {
        var retryAfter = response is null ? null : GetRetryAfter(response);
        if (retryAfter is null)
        {
            return null; // fall back to exponential backoff
        }

        return retryAfter.Value > _options.MaxRetryDelay ? _options.MaxRetryDelay : retryAfter.Value;
    }

    private TimeSpan? GetRetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _timeProvider.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    public void Dispose() => _http.Dispose();
}
