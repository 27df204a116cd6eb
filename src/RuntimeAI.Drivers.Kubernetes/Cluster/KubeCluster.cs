using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Exceptions;
using Polly;
using Polly.Retry;
using RuntimeAI.Core.Drivers;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>
/// One Kubernetes API (a kubeconfig context), configured by KubernetesClient from the kubeconfig:
/// typed calls on the library's models through <see cref="CallAsync{T}"/> (<see cref="KubeApi"/>),
/// and the requests no model covers (KubeVirt subresources, server-side Tables, metrics, watches)
/// through <see cref="SendAsync"/> and <see cref="StreamLinesAsync"/>, all on one connection with the
/// kubeconfig's credentials (<see cref="KubeConnection"/>). Every call is bounded by the request
/// timeout and goes through one Polly retry (429, 5xx, transport errors, timeouts) and one error
/// mapping, so a driver only sees <see cref="KubeApiException"/> with a clear message.
/// </summary>
public sealed class KubeCluster : IDisposable
{
    /// <summary>Accept header of a server-side Table (compact rows, as kubectl get prints them).</summary>
    public const string TableAccept = "application/json;as=Table;g=meta.k8s.io;v=v1";

    private readonly KubeConnection _connection;
    private readonly KubeApi _api;
    private readonly ResiliencePipeline _retry;

    /// <summary>Connects (lazily: nothing is sent until the first call) to the cluster a kubeconfig context names.</summary>
    /// <param name="options">Kubeconfig, context, retry settings; validated here.</param>
    /// <param name="time">Clock for retry delays.</param>
    /// <exception cref="ArgumentException">The options or the kubeconfig are invalid (the message says which).</exception>
    public KubeCluster(KubeClusterOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        Options = options;
        KubernetesClientConfiguration config;
        try
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeconfigPath, options.Context);
        }
        catch (Exception ex) when (ex is KubeConfigException or KubernetesClientException or IOException or FormatException)
        {
            throw new ArgumentException(
                $"kubeconfig '{options.KubeconfigPath}'{(options.Context is null ? "" : $" context '{options.Context}'")} cannot be used: {ex.Message}. " +
                "Check the file with `kubectl --kubeconfig FILE config view` and pass an existing --context.", ex);
        }

        (ContextName, Server, _connection, _retry) = Connect(config, options, time);
        _api = new KubeApi(ExchangeAsync);
    }

    private KubeCluster(KubernetesClientConfiguration config, KubeClusterOptions options, TimeProvider time)
    {
        Options = options;
        (ContextName, Server, _connection, _retry) = Connect(config, options, time);
        _api = new KubeApi(ExchangeAsync);
    }

    /// <summary>
    /// Connects to the cluster an in-memory kubeconfig names (e.g. the one a vcluster writes to its
    /// <c>vc-NAME</c> Secret), with the same retries and error mapping as a configured cluster.
    /// </summary>
    /// <param name="kubeconfig">The kubeconfig's bytes (YAML).</param>
    /// <param name="name">What the cluster is called in messages, e.g. <c>vcluster dev</c>.</param>
    /// <param name="isSandbox">True when the cluster is simulated.</param>
    /// <param name="time">Clock for retry delays.</param>
    /// <returns>The cluster; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The kubeconfig cannot be used (the message says why).</exception>
    public static KubeCluster FromKubeconfig(byte[] kubeconfig, string name, bool isSandbox, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(kubeconfig);
        ArgumentNullException.ThrowIfNull(time);
        KubernetesClientConfiguration config;
        try
        {
            using var stream = new MemoryStream(kubeconfig);
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(stream);
        }
        catch (Exception ex) when (ex is KubeConfigException or KubernetesClientException or IOException or FormatException or ArgumentException)
        {
            throw new ArgumentException($"the kubeconfig of {name} cannot be used: {ex.Message}", ex);
        }

        // A nested API answers fast or not at all: one retry, a short timeout.
        return new KubeCluster(config, new KubeClusterOptions
        {
            KubeconfigPath = name,
            Context = name,
            IsSandbox = isSandbox,
            MaxRetries = 1,
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, time);
    }

    private static (string Context, string Server, KubeConnection Connection, ResiliencePipeline Retry) Connect(KubernetesClientConfiguration config, KubeClusterOptions options, TimeProvider time)
    {
        var context = options.Context ?? config.CurrentContext ?? "default";
        var connection = KubeConnection.Open(config);
        var retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && args.Outcome.Exception is { } ex && IsTransient(ex, args.Context.CancellationToken)),
            })
            .Build();
        return (context, config.Host, connection, retry);
    }

    /// <summary>The options this cluster was built from.</summary>
    public KubeClusterOptions Options { get; }

    /// <summary>The kubeconfig context in use.</summary>
    public string ContextName { get; }

    /// <summary>The API server address.</summary>
    public string Server { get; }

    /// <summary>Runs a typed library call with retries and error mapping.</summary>
    /// <typeparam name="T">What the call returns.</typeparam>
    /// <param name="what">What the call does, for the error message (e.g. <c>scale statefulset vcluster-a/a</c>).</param>
    /// <param name="call">The call.</param>
    /// <param name="cancellationToken">Cancels the call and its retries.</param>
    /// <returns>The call's result.</returns>
    /// <exception cref="KubeApiException">The call failed (after retries for transient failures).</exception>
    public async Task<T> CallAsync<T>(string what, Func<KubeApi, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await _retry.ExecuteAsync(async ct => await call(_api, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Map(what, ex, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>Like <see cref="CallAsync{T}"/>, but a 404 returns null.</summary>
    public async Task<T?> TryCallAsync<T>(string what, Func<KubeApi, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await CallAsync(what, call, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException ex) when (ex.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends a request the library does not model (subresources, Tables, metrics, custom objects as
    /// JSON), with the library's HttpClient and credentials, retries and error mapping.
    /// </summary>
    /// <param name="method">HTTP method.</param>
    /// <param name="path">API path, e.g. <c>/apis/kubevirt.io/v1/namespaces/ns/virtualmachines</c>.</param>
    /// <param name="body">Request body, or null.</param>
    /// <param name="contentType">Content type of the body (default JSON).</param>
    /// <param name="accept">Accept header (e.g. <see cref="TableAccept"/>); default JSON.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The parsed JSON answer, or null when the body was empty.</returns>
    /// <exception cref="KubeApiException">The request failed.</exception>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, string contentType = "application/json", string? accept = null)
    {
        var text = await SendTextAsync(method, path, body?.ToJsonString(), cancellationToken, contentType, accept).ConfigureAwait(false);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>
    /// Like <see cref="SendAsync"/>, but returns the answer's body as text (pod logs are plain text).
    /// </summary>
    /// <param name="method">HTTP method.</param>
    /// <param name="path">API path with its query string.</param>
    /// <param name="payload">Request body, or null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <param name="contentType">Content type of the body (default JSON).</param>
    /// <param name="accept">Accept header; default JSON.</param>
    /// <returns>The body (empty when there was none).</returns>
    /// <exception cref="KubeApiException">The request failed.</exception>
    public async Task<string> SendTextAsync(HttpMethod method, string path, string? payload, CancellationToken cancellationToken, string contentType = "application/json", string? accept = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        var what = $"{method.Method} {path}";
        try
        {
            return await _retry.ExecuteAsync(
                async ct => await ExchangeAsync(method, path, payload, contentType, accept ?? "application/json", ct).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Map(what, ex, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>One JSON request without retries (<see cref="KubeApi"/> runs inside <see cref="CallAsync{T}"/>'s).</summary>
    private Task<string> ExchangeAsync(HttpMethod method, string path, string? payload, string contentType, CancellationToken cancellationToken) =>
        ExchangeAsync(method, path, payload, contentType, "application/json", cancellationToken);

    /// <summary>
    /// One request, bounded by the request timeout; returns the body of a successful answer and
    /// throws <see cref="RawStatusException"/> (mapped by the caller) for any other.
    /// </summary>
    private async Task<string> ExchangeAsync(HttpMethod method, string path, string? payload, string contentType, string accept, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.RequestTimeout);
        using var request = await _connection.CreateRequestAsync(method, path, timeout.Token).ConfigureAwait(false);
        if (payload is not null)
        {
            request.Content = new StringContent(payload, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _connection.Http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new RawStatusException(response.StatusCode, text);
        }

        return text;
    }

    /// <summary>
    /// Opens a streaming GET (a watch) and yields its body line by line until the server ends it.
    /// No retries: the caller resumes from the last resourceVersion it saw. A non-success answer is
    /// mapped like every other call (<see cref="KubeApiException"/>).
    /// </summary>
    /// <param name="path">API path with its query string.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <returns>The body's lines.</returns>
    public async IAsyncEnumerable<string> StreamLinesAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        HttpResponseMessage response;
        try
        {
            using var request = await _connection.CreateRequestAsync(HttpMethod.Get, path, cancellationToken).ConfigureAwait(false);
            request.Headers.TryAddWithoutValidation("Accept", "application/json");

            // Headers only: the body is the stream, read below without the client's request timeout.
            response = await _connection.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                response.Dispose();
                throw new RawStatusException(response.StatusCode, text);
            }
        }
        catch (Exception ex) when (Map($"GET {path}", ex, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        using (response)
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    // The connection dropped: the stream ends, the watcher resumes.
                    yield break;
                }

                if (line is null)
                {
                    yield break;
                }

                if (line.Length > 0)
                {
                    yield return line;
                }
            }
        }
    }

    /// <summary>GET a path as JSON; null on 404.</summary>
    public async Task<JsonNode?> TryGetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException ex) when (ex.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Health probe: <c>GET /readyz</c> once, without retries (a backend that needs retries to answer is
    /// the signal safe mode exists for).
    /// </summary>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>Healthy with the server version, or not with the reason.</returns>
    public async Task<BackendHealth> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.RequestTimeout);
            using var request = await _connection.CreateRequestAsync(HttpMethod.Get, "readyz", timeout.Token).ConfigureAwait(false);
            using var response = await _connection.Http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? new BackendHealth(true, $"Kubernetes API {Server} (context {ContextName}) ready")
                : new BackendHealth(false, $"Kubernetes API {Server} (context {ContextName}) answered /readyz with HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return new BackendHealth(false, $"Kubernetes API {Server} (context {ContextName}) does not answer: {ex.Message}");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _connection.Dispose();

    private static bool IsTransient(Exception ex, CancellationToken token) => ex switch
    {
        RawStatusException raw => IsTransientStatus(raw.Status),
        HttpRequestException or IOException => true,
        OperationCanceledException => !token.IsCancellationRequested,
        _ => false,
    };

    private static bool IsTransientStatus(HttpStatusCode? status) =>
        status is HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError;

    private KubeApiException? Map(string what, Exception ex, CancellationToken cancellationToken)
    {
        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var (status, body) = ex switch
        {
            RawStatusException raw => ((HttpStatusCode?)raw.Status, raw.Body),
            HttpRequestException or IOException or OperationCanceledException => ((HttpStatusCode?)null, null),
            _ => ((HttpStatusCode?)null, (string?)null),
        };
        if (ex is not (RawStatusException or HttpRequestException or IOException or OperationCanceledException))
        {
            return null;
        }

        var (reason, apiMessage) = ParseStatus(body);
        var code = KubeApiException.CodeFor(status, reason);
        var detail = status is null
            ? ex is OperationCanceledException
                ? string.Create(CultureInfo.InvariantCulture, $"no answer from the Kubernetes API {Server} within {Options.RequestTimeout.TotalSeconds:0.###} s")
                : $"no answer from the Kubernetes API {Server}: {ex.Message}"
            : $"{apiMessage ?? ex.Message} (HTTP {(int)status.Value} {reason ?? status.Value.ToString()})";
        var fix = code switch
        {
            "unreachable" => $" after {Options.MaxRetries} retries; check that the cluster answers (`kubectl --context {ContextName} get --raw /readyz`)",
            "throttled" => $" after {Options.MaxRetries} retries; the API server is rate limiting, try again later",
            "forbidden" when apiMessage?.Contains("quota", StringComparison.OrdinalIgnoreCase) == true => "; free quota in the namespace or choose a smaller size",
            "forbidden" => "; the kubeconfig's user lacks the permission (`kubectl auth can-i`)",
            "unauthorized" => "; the kubeconfig's credentials were refused, refresh them",
            "conflict" => "; the object changed meanwhile, read it again and retry",
            _ => string.Empty,
        };
        return new KubeApiException(status, reason, $"{what}: {detail}{fix}", ex) { Code = code };
    }

    private static (string? Reason, string? Message) ParseStatus(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }

        try
        {
            var node = JsonNode.Parse(body);
            return (node?["reason"]?.GetValue<string>(), node?["message"]?.GetValue<string>());
        }
        catch (JsonException)
        {
            return (null, body.Length > 200 ? body[..200] : body);
        }
    }

    /// <summary>A non-success answer to a raw request, before mapping.</summary>
    private sealed class RawStatusException(HttpStatusCode status, string body)
        : Exception(string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)status}"))
    {
        public HttpStatusCode Status { get; } = status;

        public string Body { get; } = body;
    }
}
