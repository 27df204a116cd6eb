using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Drivers;

/// <summary>Options of a stop.</summary>
/// <param name="Force">Destroy (power off) when the graceful shutdown does not finish in time.</param>
/// <param name="Timeout">How long to wait for a graceful shutdown.</param>
public sealed record StopOptions(bool Force, TimeSpan Timeout);

/// <summary>Options of a delete.</summary>
/// <param name="KeepDisk">Keep the data (a VM's disk image, a virtual cluster's volume claims) instead of removing it (tool parameter keep_data, or keep_disk).</param>
public sealed record DeleteOptions(bool KeepDisk);

/// <summary>The size to scale to.</summary>
public sealed record ScaleTarget(int Vcpus, long MemoryMiB);

/// <summary>A runtime found on a backend.</summary>
public sealed record DiscoveredRuntime(
    string BackendRef,
    string Name,
    RuntimeState State,
    int Vcpus,
    long MemoryMiB,
    IReadOnlyDictionary<string, string> Labels,
    string? RuntimeId,
    string? TenantId);

/// <summary>What a create produced.</summary>
public sealed record CreateResult(string BackendRef, RuntimeState State, int Vcpus, long MemoryMiB, string? DiskPath);

/// <summary>
/// What a mutation did and what its compensation needs: the state and size before, the state
/// after, and any notes (e.g. that a restart is needed for the new size to take effect).
/// </summary>
public sealed record MutationResult
{
    public required RuntimeState PreviousState { get; init; }
    public required RuntimeState NewState { get; init; }
    public ScaleTarget? PreviousSize { get; init; }
    public ScaleTarget? NewSize { get; init; }
    public bool RestartRequired { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>A snapshot of a runtime.</summary>
public sealed record SnapshotInfo(string Name, string? Description, DateTimeOffset CreatedAt, RuntimeState StateAtSnapshot, bool IsCurrent);

/// <summary>Observed state and signals of one runtime.</summary>
public sealed record RuntimeObservation
{
    public required RuntimeState State { get; init; }
    /// <summary>Why it is in that state, in the backend's words (e.g. <c>shutdown: destroyed</c>).</summary>
    public string? Reason { get; init; }
    public int Vcpus { get; init; }
    public long MemoryMiB { get; init; }
    public long MaxMemoryMiB { get; init; }
    /// <summary>Cumulative CPU time used, in nanoseconds.</summary>
    public ulong CpuTimeNs { get; init; }
    /// <summary>Memory the guest reports in use, when the backend knows it.</summary>
    public long? MemoryUsedMiB { get; init; }
    public TimeSpan? Uptime { get; init; }
    /// <summary>Backend-specific facts (e.g. a virtual cluster's node and pod counts, CPU from the metrics API), shown as-is.</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();
    public required DateTimeOffset ObservedAt { get; init; }
}

/// <summary>Free capacity of a backend host.</summary>
public sealed record HostCapacity(int Cpus, long TotalMemoryMiB, long FreeMemoryMiB);

/// <summary>Result of a health probe.</summary>
public sealed record BackendHealth(bool Healthy, string? Detail);

/// <summary>A lifecycle event a backend reported on its own.</summary>
public sealed record DriverEvent(string BackendRef, string Type, RuntimeState? NewState, string? Detail, DateTimeOffset Ts);

/// <summary>A driver failure with a message fit for an operator (names the cause and the fix).</summary>
public class RuntimeDriverException : Exception
{
    public RuntimeDriverException()
    {
    }

    public RuntimeDriverException(string message) : base(message)
    {
    }

    public RuntimeDriverException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Short machine-readable code, e.g. <c>not_found</c>, <c>invalid_state</c>, <c>unreachable</c>.</summary>
    public string Code { get; init; } = "driver_error";
}
