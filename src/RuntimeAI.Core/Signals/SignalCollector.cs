using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Signals;

/// <summary>Options of <see cref="SignalCollector"/>.</summary>
public sealed class SignalCollectorOptions
{
    /// <summary>Time between two sampling rounds (default 30 s; zero turns the collector off).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one observation may take before its backend counts as slow and is backed off (default 2 s).</summary>
    public TimeSpan SlowObservation { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest a slow or failing backend is skipped (default 10 min).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Retention of each resolution and the raw-row cap.</summary>
    public SignalRetention Retention { get; init; } = new();

    /// <summary>Prune every this many rounds (default 20).</summary>
    public int PruneEveryRounds { get; init; } = 20;

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative interval, non-positive timeout or backoff.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Interval, TimeSpan.Zero, nameof(Interval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SlowObservation, TimeSpan.Zero, nameof(SlowObservation));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxBackoff, TimeSpan.Zero, nameof(MaxBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(PruneEveryRounds, 1, nameof(PruneEveryRounds));
    }
}

/// <summary>What one sampling round did.</summary>
/// <param name="Sampled">Runtimes observed.</param>
/// <param name="Samples">Samples written.</param>
/// <param name="SkippedBackends">Backends skipped because they are backed off (name → until when).</param>
/// <param name="Failed">Observations that failed or were too slow this round.</param>
public sealed record CollectionRound(int Sampled, int Samples, IReadOnlyDictionary<string, DateTimeOffset> SkippedBackends, int Failed);

/// <summary>
/// Samples every runtime's signals from its driver into the <see cref="ISignalStore"/> on an
/// interval. It runs beside the tool calls, never in front of them: a tool never waits for a
/// round, and a backend that is slow or failing is skipped with an exponential backoff (one slow
/// observation backs off the whole backend) so the collector never piles load on a sick backend.
/// Observations go straight to the driver: the collector does not rewrite the inventory.
/// </summary>
public sealed class SignalCollector
{
    private readonly IRuntimeInventory _inventory;
    private readonly DriverRegistry _drivers;
    private readonly ISignalStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<SignalCollector> _logger;
    private readonly ConcurrentDictionary<string, (DateTimeOffset Ts, ulong CpuNs)> _lastCpu = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset Until, TimeSpan Delay)> _backoff = new(StringComparer.Ordinal);
    private int _rounds;

    /// <summary>Creates the collector; nothing is sampled until <see cref="CollectOnceAsync"/> or <see cref="RunAsync"/>.</summary>
    public SignalCollector(IRuntimeInventory inventory, DriverRegistry drivers, ISignalStore store, TimeProvider time, ILogger<SignalCollector> logger, SignalCollectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(drivers);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        Options = options ?? new SignalCollectorOptions();
        Options.Validate();
        _inventory = inventory;
        _drivers = drivers;
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>The options in force.</summary>
    public SignalCollectorOptions Options { get; }

    /// <summary>Samples rounds until cancelled; a round that fails is logged and the next one runs.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Options.Interval == TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(Options.Interval, _time);
        try
        {
            do
            {
                try
                {
                    await CollectOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogWarning(ex, "Signal collection round failed; the next round runs in {Interval}", Options.Interval);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One round: observes every runtime of every backend not backed off, and writes the samples.</summary>
    public async Task<CollectionRound> CollectOnceAsync(CancellationToken cancellationToken)
    {
        var runtimes = new List<Runtime>();
        string? token = null;
        do
        {
            var page = await _inventory.ListRuntimesAsync(new RuntimeQuery { PageSize = 200, PageToken = token }, cancellationToken).ConfigureAwait(false);
            runtimes.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null);

        var samples = new List<SignalSample>();
        var skipped = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        int sampled = 0, failed = 0;
        foreach (var group in runtimes
                     .Where(r => r.Backend?.Ref is not null && r.State is not (RuntimeState.Deleted or RuntimeState.Deleting))
                     .GroupBy(r => _drivers.ForBackendRef(r.Backend!.Ref)))
        {
            if (group.Key is not { } driver)
            {
                continue;
            }

            var now = _time.GetUtcNow();
            if (_backoff.TryGetValue(driver.Name, out var off) && off.Until > now)
            {
                skipped[driver.Name] = off.Until;
                continue;
            }

            var healthy = true;
            foreach (var runtime in group)
            {
                var started = _time.GetTimestamp();
                using var timeout = new CancellationTokenSource(Options.SlowObservation * 2, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                try
                {
                    var observation = await driver.ObserveAsync(runtime.Backend!.Ref, linked.Token).ConfigureAwait(false);
                    samples.AddRange(ToSamples(runtime, observation));
                    sampled++;
                }
                catch (Exception ex) when (ex is RuntimeDriverException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    failed++;
                    healthy = false;
                    _logger.LogDebug("Signal sample of {Runtime} on {Backend} failed: {Error}", runtime.Id, driver.Name, ex.Message);
                }

                if (!healthy || _time.GetElapsedTime(started) > Options.SlowObservation)
                {
                    // A slow answer is the backend asking for less load: skip it, longer each time.
                    healthy = false;
                    var delay = _backoff.TryGetValue(driver.Name, out var previous)
                        ? TimeSpan.FromTicks(Math.Min(previous.Delay.Ticks * 2, Options.MaxBackoff.Ticks))
                        : TimeSpan.FromTicks(Math.Min(Math.Max(Options.Interval.Ticks, TimeSpan.FromSeconds(1).Ticks) * 2, Options.MaxBackoff.Ticks));
                    _backoff[driver.Name] = (_time.GetUtcNow() + delay, delay);
                    _logger.LogInformation("Backend {Backend} is slow or failing; signal sampling backs off for {Delay}", driver.Name, delay);
                    break;
                }
            }

            if (healthy)
            {
                _backoff.Remove(driver.Name);
            }
        }

        if (samples.Count > 0)
        {
            await _store.AppendAsync(samples, cancellationToken).ConfigureAwait(false);
        }

        if (++_rounds % Options.PruneEveryRounds == 0)
        {
            await _store.PruneAsync(Options.Retention, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        return new CollectionRound(sampled, samples.Count, skipped, failed);
    }

    /// <summary>Maps one observation to the abstract metrics (cpu from CPU time deltas or the metrics API).</summary>
    internal IEnumerable<SignalSample> ToSamples(Runtime runtime, RuntimeObservation o)
    {
        var ts = o.ObservedAt;
        yield return new SignalSample(runtime.Id, SignalNames.Up, ts, o.State == RuntimeState.Running ? 1 : 0);
        yield return new SignalSample(runtime.Id, SignalNames.Vcpus, ts, o.Vcpus);
        yield return new SignalSample(runtime.Id, SignalNames.MemoryMiB, ts, o.MemoryMiB);
        if (CpuPercent(runtime.Id, o) is { } cpu)
        {
            yield return new SignalSample(runtime.Id, SignalNames.CpuUsage, ts, cpu);
        }

        if (o.MemoryUsedMiB is { } used && o.MemoryMiB > 0)
        {
            yield return new SignalSample(runtime.Id, SignalNames.MemoryUsage, ts, Math.Clamp(used * 100.0 / o.MemoryMiB, 0, 100));
        }
    }

    private double? CpuPercent(string runtimeId, RuntimeObservation o)
    {
        if (o.Vcpus <= 0)
        {
            return null;
        }

        // Kubernetes backends report usage from the metrics API (millicores or cores).
        if (o.Details.TryGetValue("cpu_usage", out var quantity) && TryParseMilliCpu(quantity, out var milli))
        {
            return Math.Clamp(milli / (o.Vcpus * 10.0), 0, 100);
        }

        if (o.State != RuntimeState.Running || o.CpuTimeNs == 0)
        {
            _lastCpu.TryRemove(runtimeId, out _);
            return o.State == RuntimeState.Running ? null : 0;
        }

        // libvirt reports cumulative CPU time: usage is its growth over the time between two samples.
        var previous = _lastCpu.TryGetValue(runtimeId, out var p) ? p : ((DateTimeOffset, ulong)?)null;
        _lastCpu[runtimeId] = (o.ObservedAt, o.CpuTimeNs);
        if (previous is not { } last || o.CpuTimeNs < last.Item2)
        {
            return null;
        }

        var elapsedNs = (o.ObservedAt - last.Item1).TotalMilliseconds * 1e6;
        return elapsedNs <= 0 ? null : Math.Clamp((o.CpuTimeNs - last.Item2) / (elapsedNs * o.Vcpus) * 100, 0, 100);
    }

    private static bool TryParseMilliCpu(string text, out double milli)
    {
        var s = text.Trim();
        var factor = 1000.0;
        if (s.EndsWith('m'))
        {
            factor = 1;
            s = s[..^1];
        }
        else if (s.EndsWith('n'))
        {
            factor = 1e-6;
            s = s[..^1];
        }

        var ok = double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value);
        milli = value * factor;
        return ok;
    }
}
