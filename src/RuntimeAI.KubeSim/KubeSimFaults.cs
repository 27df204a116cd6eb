using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim;

/// <summary>
/// Fault injection for tests of clients and drivers: added latency, error responses for matching requests,
/// dropped watches, and an API that stops answering. Faults apply to the host API and every virtual cluster API.
/// </summary>
public sealed class KubeSimFaults
{
    private readonly Lock _gate = new();
    private readonly List<ErrorRule> _rules = [];
    private readonly List<(string Namespace, string Prefix, double Factor)> _usage = [];
    private readonly TimeProvider _time;
    private readonly Action _dropWatches;
    private readonly Action<string, bool> _setNodeReady;
    private TaskCompletionSource _answering = NewOpenGate();
    private TaskCompletionSource _watching = NewOpenGate();
    private TimeSpan _latency;

    internal KubeSimFaults(TimeProvider time, Action dropWatches, Action<string, bool> setNodeReady)
    {
        _time = time;
        _dropWatches = dropWatches;
        _setNodeReady = setNodeReady;
    }

    /// <summary>
    /// Makes a host node stop (or resume) reporting Ready, as a failed kubelet would: its pods lose Ready at once and are
    /// evicted after <see cref="KubeSimOptions.NodeNotReadyEvictionDelay"/>; the scheduler avoids the node meanwhile.
    /// </summary>
    /// <param name="nodeName">The node.</param>
    /// <param name="ready">False to fail it, true to recover it.</param>
    public void SetNodeReady(string nodeName, bool ready)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        _setNodeReady(nodeName, ready);
    }

    /// <summary>Delay added before every request is handled, measured on the simulator's TimeProvider.</summary>
    public TimeSpan Latency
    {
        get
        {
            lock (_gate)
            {
                return _latency;
            }
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate)
            {
                _latency = value;
            }
        }
    }

    /// <summary>Whether requests currently hang without an answer (see <see cref="StopAnswering"/>).</summary>
    public bool IsStopped
    {
        get
        {
            lock (_gate)
            {
                return !_answering.Task.IsCompleted;
            }
        }
    }

    /// <summary>
    /// Answers matching requests with <paramref name="statusCode"/> and a Kubernetes Status body instead of handling them.
    /// </summary>
    /// <param name="statusCode">HTTP status to return, e.g. 500, 503, 429 or 409.</param>
    /// <param name="pathContains">Only requests whose path contains this text; null matches every path.</param>
    /// <param name="method">Only this HTTP method (GET, POST...); null matches every method.</param>
    /// <param name="times">How many requests fail before the rule expires; null means until <see cref="ClearErrors"/>.</param>
    public void FailRequests(int statusCode, string? pathContains = null, string? method = null, int? times = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        lock (_gate)
        {
            _rules.Add(new ErrorRule(statusCode, pathContains, method, times));
        }
    }

    /// <summary>Removes every error rule.</summary>
    public void ClearErrors()
    {
        lock (_gate)
        {
            _rules.Clear();
        }
    }

    /// <summary>Ends every open watch stream now, as a restarting apiserver or a broken connection would.</summary>
    public void DropWatches() => _dropWatches();

    /// <summary>
    /// Ends every open watch stream and holds new watch requests (other requests are answered) until
    /// <see cref="ReleaseWatches"/>: a watcher cut off for a while, e.g. long enough for the history to
    /// be compacted (<see cref="KubeSimServer.CompactWatchHistory"/>) so its resume gets 410 Gone.
    /// </summary>
    public void HoldWatches()
    {
        lock (_gate)
        {
            if (_watching.Task.IsCompleted)
            {
                _watching = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        _dropWatches();
    }

    /// <summary>Lets the watch requests held by <see cref="HoldWatches"/> proceed.</summary>
    public void ReleaseWatches()
    {
        lock (_gate)
        {
            _watching.TrySetResult();
        }
    }

    /// <summary>Whether watches are held now (see <see cref="HoldWatches"/>).</summary>
    internal bool WatchesHeld
    {
        get
        {
            lock (_gate)
            {
                return !_watching.Task.IsCompleted;
            }
        }
    }

    /// <summary>Waits while watches are held.</summary>
    internal Task WatchGateAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _watching.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>From now on requests are accepted but never answered, until <see cref="ResumeAnswering"/>.</summary>
    public void StopAnswering()
    {
        lock (_gate)
        {
            if (_answering.Task.IsCompleted)
            {
                _answering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Releases requests held by <see cref="StopAnswering"/> and answers normally again.</summary>
    public void ResumeAnswering()
    {
        lock (_gate)
        {
            _answering.TrySetResult();
        }
    }

    /// <summary>
    /// Multiplies the synthetic CPU and memory usage (metrics.k8s.io) of matching pods, and so of their nodes: an
    /// anomaly for detection and forecasting tools to find. A factor of 1 removes the rule.
    /// </summary>
    /// <param name="namespaceName">Namespace of the pods.</param>
    /// <param name="podNamePrefix">Pods whose name starts with this (e.g. a Deployment's name).</param>
    /// <param name="factor">Usage multiplier, e.g. 4 for a spike or 0.1 for a stall.</param>
    public void SetUsageMultiplier(string namespaceName, string podNamePrefix, double factor)
    {
        ArgumentException.ThrowIfNullOrEmpty(namespaceName);
        ArgumentNullException.ThrowIfNull(podNamePrefix);
        ArgumentOutOfRangeException.ThrowIfNegative(factor);
        lock (_gate)
        {
            _usage.RemoveAll(u => u.Namespace == namespaceName && u.Prefix == podNamePrefix);
            if (factor != 1)
            {
                _usage.Add((namespaceName, podNamePrefix, factor));
            }
        }
    }

    internal decimal UsageMultiplier(string? ns, string pod)
    {
        lock (_gate)
        {
            var factor = 1m;
            foreach (var (n, prefix, f) in _usage)
            {
                if (n == ns && pod.StartsWith(prefix, StringComparison.Ordinal))
                {
                    factor *= (decimal)f;
                }
            }

            return factor;
        }
    }

    /// <summary>Clears every fault.</summary>
    public void Reset()
    {
        ClearErrors();
        lock (_gate)
        {
            _usage.Clear();
        }

        Latency = TimeSpan.Zero;
        ResumeAnswering();
        ReleaseWatches();
    }

    private static TaskCompletionSource NewOpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    /// <summary>Applies the faults to one request; returns an error Status to send, or null to handle it normally.</summary>
    internal async Task<JsonObject?> ApplyAsync(HttpContext ctx)
    {
        Task gate;
        TimeSpan latency;
        lock (_gate)
        {
            gate = _answering.Task;
            latency = _latency;
        }

        await gate.WaitAsync(ctx.RequestAborted).ConfigureAwait(false);
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, _time, ctx.RequestAborted).ConfigureAwait(false);
        }

        var path = ctx.Request.Path.Value ?? string.Empty;
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                if ((rule.PathContains is null || path.Contains(rule.PathContains, StringComparison.Ordinal)) &&
                    (rule.Method is null || string.Equals(rule.Method, ctx.Request.Method, StringComparison.OrdinalIgnoreCase)))
                {
                    if (rule.Remaining is not null && --rule.Remaining <= 0)
                    {
                        _rules.Remove(rule);
                    }

                    var reason = rule.StatusCode switch
                    {
                        400 => "BadRequest", 401 => "Unauthorized", 403 => "Forbidden", 404 => "NotFound", 409 => "Conflict",
                        410 => "Expired", 422 => "Invalid", 429 => "TooManyRequests", 503 => "ServiceUnavailable", 504 => "Timeout",
                        _ => "InternalError",
                    };
                    return KubeApiException.StatusBody(rule.StatusCode, reason, $"injected fault: {rule.StatusCode} {reason} (KubeSim fault injection)");
                }
            }
        }

        return null;
    }

    private sealed class ErrorRule(int statusCode, string? pathContains, string? method, int? remaining)
    {
        public int StatusCode { get; } = statusCode;

        public string? PathContains { get; } = pathContains;

        public string? Method { get; } = method;

        public int? Remaining { get; set; } = remaining;
    }
}
