using System.Text.Json;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Inside;

namespace RuntimeAI.Core.Graph;

/// <summary>
/// Keeps one <see cref="ClusterGraph"/> current: per kind, a list, then a watch that resumes from the
/// last resourceVersion it saw (objects and bookmarks) whenever the stream ends, lists again when
/// the server says the version is gone (410), and backs off on errors.
/// </summary>
public sealed class GraphWatcher : IAsyncDisposable
{
    /// <summary>The kinds the graph watches (those the cluster serves).</summary>
    public static readonly IReadOnlyList<string> Kinds =
    [
        "pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "nodes",
        "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "poddisruptionbudgets",
    ];

    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(30);

    private readonly IClusterView _view;
    private readonly IClusterWatchSource _source;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _loops = [];
    private int _pendingKinds;
    private long _relists;
    private long _resumes;
    private long _bookmarks;
    private long _events;
    private int _disposed;

    /// <summary>A watcher over <paramref name="view"/>; it owns and disposes the view.</summary>
    public GraphWatcher(ClusterGraph graph, IClusterView view, TimeProvider time, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(time);
        Graph = graph;
        _view = view;
        _source = view as IClusterWatchSource
                  ?? throw new ArgumentException($"{view.Name} cannot be watched", nameof(view));
        _time = time;
        _logger = logger;
    }

    /// <summary>The graph kept current.</summary>
    public ClusterGraph Graph { get; }

    /// <summary>Completes once every kind was listed once.</summary>
    public Task Synced => _synced.Task;

    /// <summary>Lists after the first (a 410 Gone, or a failure before the first list).</summary>
    public long Relists => Interlocked.Read(ref _relists);

    /// <summary>Watches resumed from a resourceVersion after the stream ended.</summary>
    public long Resumes => Interlocked.Read(ref _resumes);

    /// <summary>Bookmarks received.</summary>
    public long Bookmarks => Interlocked.Read(ref _bookmarks);

    /// <summary>Object events applied.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>The last error a watch loop met (it retries), or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Kinds watched (those the cluster serves).</summary>
    public IReadOnlyList<string> WatchedKinds { get; private set; } = [];

    /// <summary>Resolves the kinds the cluster serves and starts one list-and-watch loop per kind.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var kinds = new List<ResourceKind>();
        foreach (var name in Kinds)
        {
            try
            {
                kinds.Add(await _view.ResolveKindAsync(name, cancellationToken).ConfigureAwait(false));
            }
            catch (Drivers.RuntimeDriverException ex) when (ex.Code == "unknown_kind")
            {
                // Not served here (no jobs in the simulator, no PDBs on an old cluster): nothing to watch.
            }
        }

        WatchedKinds = kinds.Select(k => k.Kind.ToLowerInvariant()).ToList();
        _pendingKinds = kinds.Count;
        if (kinds.Count == 0)
        {
            _synced.TrySetResult();
        }

        foreach (var kind in kinds)
        {
            _loops.Add(Task.Run(() => RunAsync(kind, _stop.Token), CancellationToken.None));
        }
    }

    /// <summary>Stops every watch and disposes the view.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or Drivers.RuntimeDriverException or HttpRequestException or IOException)
        {
            // Stopping is the point; a loop cut mid-request has nothing left to report.
        }

        _stop.Dispose();
        _view.Dispose();
    }

    private async Task RunAsync(ResourceKind kind, CancellationToken cancellationToken)
    {
        var name = kind.Kind.ToLowerInvariant();
        string? resourceVersion = null;
        var listed = false;
        var backoff = s_firstBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    var listing = await _source.ListForWatchAsync(kind, cancellationToken).ConfigureAwait(false);
                    Graph.ReplaceKind(name, listing.Items.Select(i => GraphObject.FromJson(i, name, Graph.Pool)).OfType<GraphObject>().ToList());
                    resourceVersion = listing.ResourceVersion;
                    if (listed)
                    {
                        Interlocked.Increment(ref _relists);
                    }
                    else if (Interlocked.Decrement(ref _pendingKinds) == 0)
                    {
                        _synced.TrySetResult();
                    }

                    listed = true;
                }

                var seen = 0;
                await foreach (var e in _source.WatchAsync(kind, resourceVersion, cancellationToken).ConfigureAwait(false))
                {
                    seen++;
                    if (e.Type == "BOOKMARK")
                    {
                        Interlocked.Increment(ref _bookmarks);
                        resourceVersion = ResourceVersionOf(e.Object) ?? resourceVersion;
                    }
                    else if (e.Type == "ERROR")
                    {
                        if (e.Object.TryGetProperty("code", out var code) && code.TryGetInt32(out var status) && status == 410)
                        {
                            throw new ResourceVersionExpiredException($"watch of {kind.Display} from resourceVersion {resourceVersion}: 410 Gone");
                        }

                        throw new InvalidOperationException($"watch of {kind.Display} answered ERROR: {e.Object.GetRawText()}");
                    }
                    else if (GraphObject.FromJson(e.Object, name, Graph.Pool) is { } obj)
                    {
                        Graph.Apply(e.Type, obj);
                        resourceVersion = obj.ResourceVersion;
                        Interlocked.Increment(ref _events);
                    }
                }

                // The server ended the stream (timeout, a dropped connection): resume where we were.
                Interlocked.Increment(ref _resumes);
                backoff = s_firstBackoff;
                if (seen == 0)
                {
                    await Task.Delay(s_firstBackoff, _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ResourceVersionExpiredException ex)
            {
                _logger?.LogInformation("{Graph}: {Message}; listing again", Graph.Name, ex.Message);
                resourceVersion = null;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LastError = $"{kind.Display}: {ex.Message}";
                _logger?.LogDebug("{Graph}: watch of {Kind} failed ({Message}); retrying in {Delay}", Graph.Name, kind.Display, ex.Message, backoff);
                try
                {
                    await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: whatever the cut connection threw is not an error.
                return;
            }
        }
    }

    private static string? ResourceVersionOf(JsonElement obj) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("resourceVersion", out var rv) && rv.ValueKind == JsonValueKind.String
            ? rv.GetString()
            : null;
}
