using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Drivers;

/// <summary>
/// A backend that holds runtimes of one type (libvirt VMs, KubeVirt VMs, vClusters). Drivers speak
/// their backend and report facts; they never decide policy. Every mutation returns what its
/// compensation needs so the executor can undo it.
/// </summary>
public interface IRuntimeDriver
{
    /// <summary>Stable name of this backend connection, e.g. <c>libvirt:test:///default</c>.</summary>
    string Name { get; }

    /// <summary>The runtime type this driver serves.</summary>
    RuntimeType RuntimeType { get; }

    /// <summary>The backend kind recorded on runtimes it owns.</summary>
    BackendKind BackendKind { get; }

    /// <summary>True when this backend is a sandbox/simulator rather than real infrastructure.</summary>
    bool IsSandbox { get; }

    /// <summary>Lists what already exists on the backend so it can be imported into the inventory.</summary>
    Task<IReadOnlyList<DiscoveredRuntime>> DiscoverAsync(CancellationToken cancellationToken);

    /// <summary>Creates the runtime on the backend (a failure leaves nothing behind).</summary>
    Task<CreateResult> CreateAsync(string runtimeId, RuntimeCreateRequest request, CancellationToken cancellationToken);

    /// <summary>Starts a stopped runtime.</summary>
    Task<MutationResult> StartAsync(string backendRef, CancellationToken cancellationToken);

    /// <summary>Stops a runtime gracefully; forced only when <see cref="StopOptions.Force"/> is set.</summary>
    Task<MutationResult> StopAsync(string backendRef, StopOptions options, CancellationToken cancellationToken);

    /// <summary>Restarts a running runtime.</summary>
    Task<MutationResult> RestartAsync(string backendRef, CancellationToken cancellationToken);

    /// <summary>Changes vCPU/memory; live where possible, else in the config with <see cref="MutationResult.RestartRequired"/>.</summary>
    Task<MutationResult> ScaleAsync(string backendRef, ScaleTarget target, CancellationToken cancellationToken);

    /// <summary>Takes a snapshot.</summary>
    Task<SnapshotInfo> SnapshotAsync(string backendRef, string name, string? description, CancellationToken cancellationToken);

    /// <summary>Lists snapshots, oldest first.</summary>
    Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string backendRef, CancellationToken cancellationToken);

    /// <summary>Reverts to a snapshot.</summary>
    Task<MutationResult> RestoreSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken);

    /// <summary>Deletes one snapshot.</summary>
    Task DeleteSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken);

    /// <summary>Deletes the runtime (and its data — a VM's disk, a virtual cluster's volumes — unless <see cref="DeleteOptions.KeepDisk"/>).</summary>
    Task<MutationResult> DeleteAsync(string backendRef, DeleteOptions options, CancellationToken cancellationToken);

    /// <summary>Reads the runtime's current state and signals.</summary>
    Task<RuntimeObservation> ObserveAsync(string backendRef, CancellationToken cancellationToken);

    /// <summary>Reads the backend's free capacity (for the dry-run's capacity check).</summary>
    Task<HostCapacity> GetCapacityAsync(CancellationToken cancellationToken);

    /// <summary>Checks that the backend answers (drives safe mode).</summary>
    Task<BackendHealth> ProbeAsync(CancellationToken cancellationToken);

    /// <summary>What runtimes of this backend can do (tool names without <c>_runtime</c>), shown on every runtime it holds.</summary>
    IReadOnlyList<string> Capabilities => RuntimeType == RuntimeType.Vm
        ? ["start", "stop", "restart", "scale", "snapshot", "restore", "delete"]
        : ["start", "stop", "scale", "delete"];

    /// <summary>
    /// Assesses a planned action against what the backend knows (quota, capacity, disruption
    /// budgets, what would be removed) for the dry-run. Reads only. The default knows nothing more
    /// than the generic capacity check.
    /// </summary>
    /// <param name="action">The planned action.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>Blocking reasons and notes; <see cref="ActionAssessment.None"/> when there is nothing to say.</returns>
    Task<ActionAssessment> AssessAsync(PlannedAction action, CancellationToken cancellationToken) => Task.FromResult(ActionAssessment.None);

    /// <summary>Raised for lifecycle events the backend reports on its own (started, stopped, crashed…).</summary>
    event EventHandler<DriverEvent>? RuntimeEventObserved;
}
