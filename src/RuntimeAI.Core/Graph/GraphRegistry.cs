using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Inside;

namespace RuntimeAI.Core.Graph;

/// <summary>A watched cluster as a question sees it: its graph, and whether the first listing finished.</summary>
/// <param name="Key">What the cluster is keyed by (<c>rt_…</c> of a vcluster, <c>cluster:CONTEXT</c> of a host).</param>
/// <param name="Graph">The graph.</param>
/// <param name="Watcher">The watcher keeping it current (counters, last error).</param>
/// <param name="Synced">True when every kind was listed once (else the graph is still filling).</param>
public sealed record WatchedGraph(string Key, ClusterGraph Graph, GraphWatcher Watcher, bool Synced);

/// <summary>
/// The graphs of the clusters agents ask about, built lazily: nothing is watched until a question
/// (or a dry-run) names a cluster, so the server's start pays nothing. A cluster nobody asked about
/// for <see cref="GraphOptions.IdleAfter"/> stops being watched; at most
/// <see cref="GraphOptions.MaxClusters"/> are watched at once (the least recently asked one goes).
/// </summary>
public sealed class GraphRegistry : IAsyncDisposable, IDisposable
{
    private readonly GraphOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ITimer _sweep;

    /// <summary>An empty registry; the idle sweep runs once a minute.</summary>
    public GraphRegistry(GraphOptions options, TimeProvider time, ILogger<GraphRegistry>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.Validate() is [_, ..] errors)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        _options = options;
        _time = time;
        _logger = logger;
        var period = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, options.IdleAfter.Ticks));
        _sweep = time.CreateTimer(_ => _ = SweepAsync(), null, period, period);
    }

    /// <summary>The options in force.</summary>
    public GraphOptions Options => _options;

    /// <summary>Keys of the clusters watched now.</summary>
    public IReadOnlyList<string> Watched
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries.Keys];
            }
        }
    }

    /// <summary>
    /// The graph of <paramref name="key"/>, starting its watch (through <paramref name="open"/>) when
    /// it is not watched yet, and waiting up to <see cref="GraphOptions.InitialSyncWait"/> for the first listing.
    /// </summary>
    /// <exception cref="Drivers.RuntimeDriverException">The cluster cannot be opened (the message says why).</exception>
    public async Task<WatchedGraph> GetAsync(string key, string name, Func<CancellationToken, Task<IClusterView>> open, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(open);
        Entry? entry;
        lock (_entries)
        {
            _entries.TryGetValue(key, out entry);
        }

        if (entry is null)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                lock (_entries)
                {
                    _entries.TryGetValue(key, out entry);
                }

                if (entry is null)
                {
                    await MakeRoomAsync().ConfigureAwait(false);
                    var view = await open(cancellationToken).ConfigureAwait(false);
                    if (view is not IClusterWatchSource)
                    {
                        view.Dispose();
                        throw new Drivers.RuntimeDriverException($"{view.Name} cannot be watched, so it has no graph") { Code = "not_supported" };
                    }

                    var watcher = new GraphWatcher(new ClusterGraph(name, _options, _time), view, _time, _logger);
                    try
                    {
                        await watcher.StartAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        await watcher.DisposeAsync().ConfigureAwait(false);
                        throw;
                    }

                    entry = new Entry(watcher) { LastUsed = _time.GetUtcNow() };
                    lock (_entries)
                    {
                        _entries[key] = entry;
                    }
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        entry.LastUsed = _time.GetUtcNow();
        var synced = entry.Watcher.Synced.IsCompleted;
        if (!synced)
        {
            try
            {
                await entry.Watcher.Synced.WaitAsync(_options.InitialSyncWait, _time, cancellationToken).ConfigureAwait(false);
                synced = true;
            }
            catch (TimeoutException)
            {
                // Answer from what is there, and say the graph is still filling.
            }
        }

        return new WatchedGraph(key, entry.Watcher.Graph, entry.Watcher, synced);
    }

    /// <summary>The graph of <paramref name="key"/> when it is watched already (never starts a watch).</summary>
    public WatchedGraph? Peek(string key)
    {
        lock (_entries)
        {
            return _entries.TryGetValue(key, out var entry)
                ? new WatchedGraph(key, entry.Watcher.Graph, entry.Watcher, entry.Watcher.Synced.IsCompleted)
                : null;
        }
    }

    /// <summary>Stops watching <paramref name="key"/> and drops its graph.</summary>
    public async Task StopAsync(string key)
    {
        Entry? entry;
        lock (_entries)
        {
            if (!_entries.Remove(key, out entry))
            {
                return;
            }
        }

        _logger?.LogInformation("graph of {Key} dropped", key);
        await entry.Watcher.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the watches of clusters nobody asked about for <see cref="GraphOptions.IdleAfter"/>.</summary>
    public async Task SweepAsync()
    {
        var cutoff = _time.GetUtcNow() - _options.IdleAfter;
        List<string> idle;
        lock (_entries)
        {
            idle = _entries.Where(e => e.Value.LastUsed < cutoff).Select(e => e.Key).ToList();
        }

        foreach (var key in idle)
        {
            await StopAsync(key).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _sweep.DisposeAsync().ConfigureAwait(false);
        foreach (var key in Watched)
        {
            await StopAsync(key).ConfigureAwait(false);
        }

        _gate.Dispose();
    }

    /// <inheritdoc />
    /// <remarks>For a container disposed synchronously: the watches stop at once (they only wait on their streams).</remarks>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task MakeRoomAsync()
    {
        string? oldest;
        lock (_entries)
        {
            oldest = _entries.Count >= _options.MaxClusters ? _entries.MinBy(e => e.Value.LastUsed).Key : null;
        }

        if (oldest is not null)
        {
            await StopAsync(oldest).ConfigureAwait(false);
        }
    }

    private sealed class Entry(GraphWatcher watcher)
    {
        public GraphWatcher Watcher { get; } = watcher;

        public DateTimeOffset LastUsed { get; set; }
    }
}
