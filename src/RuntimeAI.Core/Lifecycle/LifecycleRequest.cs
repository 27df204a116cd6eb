using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Drivers;

namespace RuntimeAI.Core.Lifecycle;

/// <summary>One lifecycle action against an existing runtime, with its parameters.</summary>
public sealed record LifecycleRequest
{
    public required string RuntimeId { get; init; }

    public required ActionType Action { get; init; }

    /// <summary>Who asked: agent, human or system.</summary>
    public string Actor { get; init; } = "agent";

    public StopOptions? Stop { get; init; }

    /// <summary>Size name for scale (from the shared size table).</summary>
    public string? Size { get; init; }

    /// <summary>Explicit vCPUs for scale (overrides the size's).</summary>
    public int? Vcpus { get; init; }

    /// <summary>Explicit memory for scale (overrides the size's).</summary>
    public long? MemoryMiB { get; init; }

    public string? SnapshotName { get; init; }

    public string? SnapshotDescription { get; init; }

    public bool KeepDisk { get; init; }
}
