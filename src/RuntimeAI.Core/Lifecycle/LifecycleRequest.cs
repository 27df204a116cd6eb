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

    /// <summary>The caller and the decisions behind the request, recorded on the operation and its events.</summary>
    public Operations.OperationActor? Initiator { get; init; }

    /// <summary>The id the operation gets (pre-assigned when an idempotency key was claimed for it); new when null.</summary>
    public string? OperationId { get; init; }

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
