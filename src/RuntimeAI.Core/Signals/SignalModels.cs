using System.Globalization;

namespace RuntimeAI.Core.Signals;

/// <summary>The abstract metric names every backend's signals are mapped to.</summary>
public static class SignalNames
{
    /// <summary>CPU used, in percent of the runtime's vCPUs (libvirt CPU time; the metrics API for Kubernetes).</summary>
    public const string CpuUsage = "cpu_usage";

    /// <summary>Memory used, in percent of the runtime's memory (when the guest or the metrics API reports it).</summary>
    public const string MemoryUsage = "memory_usage";

    /// <summary>1 while the runtime is running, 0 otherwise (its transitions are state changes).</summary>
    public const string Up = "up";

    /// <summary>vCPUs allocated.</summary>
    public const string Vcpus = "vcpus";

    /// <summary>Memory allocated, in MiB.</summary>
    public const string MemoryMiB = "memory_mib";

    /// <summary>Every name, in presentation order.</summary>
    public static IReadOnlyList<string> All { get; } = [CpuUsage, MemoryUsage, Up, Vcpus, MemoryMiB];

    /// <summary>The unit of a metric.</summary>
    public static string Unit(string metric) => metric switch
    {
        CpuUsage or MemoryUsage => "percent",
        MemoryMiB => "MiB",
        _ => "count",
    };

    /// <summary>The value at which a metric is exhausted (100 % for usage; none for the others).</summary>
    public static double? Capacity(string metric) => metric is CpuUsage or MemoryUsage ? 100 : null;
}

/// <summary>How finely a series is kept: every sample, per minute or per hour.</summary>
public enum SignalResolution
{
    /// <summary>Every sample the collector took.</summary>
    Raw,
    /// <summary>One point per minute (average, min, max, count of the samples in it).</summary>
    Minute,
    /// <summary>One point per hour.</summary>
    Hour,
}

/// <summary>One sample of one metric of one runtime.</summary>
/// <param name="RuntimeId">The runtime.</param>
/// <param name="Metric">One of <see cref="SignalNames"/>.</param>
/// <param name="Ts">When it was observed.</param>
/// <param name="Value">The value, in the metric's unit.</param>
public sealed record SignalSample(string RuntimeId, string Metric, DateTimeOffset Ts, double Value);

/// <summary>One point of a series: the samples of one bucket (one sample at raw resolution).</summary>
/// <param name="Ts">Start of the bucket (the sample time at raw resolution).</param>
/// <param name="Avg">Average of the samples.</param>
/// <param name="Min">Smallest sample.</param>
/// <param name="Max">Largest sample.</param>
/// <param name="Count">How many samples.</param>
public readonly record struct SignalPoint(DateTimeOffset Ts, double Avg, double Min, double Max, int Count)
{
    /// <summary>The point as evidence text, e.g. <c>cpu_usage=3.2 at 2026-12-07T10:00:00Z</c>.</summary>
    public string Describe(string metric) =>
        string.Create(CultureInfo.InvariantCulture, $"{metric}={Math.Round(Avg, 2)} at {Ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}");
}

/// <summary>
/// The history of runtime signals. Samples are appended raw and rolled up into per-minute and
/// per-hour buckets as they arrive, so a long window is read from a few hundred points. SQLite
/// implements it today; a PostgreSQL store can follow behind the same contract.
/// </summary>
public interface ISignalStore
{
    /// <summary>Appends samples (one transaction) and folds them into the minute and hour buckets.</summary>
    Task AppendAsync(IReadOnlyList<SignalSample> samples, CancellationToken cancellationToken);

    /// <summary>The points of one series in [from, to), oldest first.</summary>
    Task<IReadOnlyList<SignalPoint>> QueryAsync(string runtimeId, string metric, DateTimeOffset from, DateTimeOffset to, SignalResolution resolution, CancellationToken cancellationToken);

    /// <summary>Drops what is older than each resolution's retention and raw rows beyond the cap; returns the rows removed.</summary>
    Task<long> PruneAsync(SignalRetention retention, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>How long each resolution is kept, and the most raw rows kept at all.</summary>
public sealed record SignalRetention
{
    /// <summary>Raw samples (default 2 h).</summary>
    public TimeSpan Raw { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Per-minute points (default 2 days).</summary>
    public TimeSpan Minute { get; init; } = TimeSpan.FromDays(2);

    /// <summary>Per-hour points (default 35 days: a month and the week of seasonality before it).</summary>
    public TimeSpan Hour { get; init; } = TimeSpan.FromDays(35);

    /// <summary>Raw rows kept at most, oldest dropped first (default 500,000: bounds the file whatever the fleet size).</summary>
    public long MaxRawRows { get; init; } = 500_000;
}
