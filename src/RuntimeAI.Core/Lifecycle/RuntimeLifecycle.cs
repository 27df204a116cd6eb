using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Lifecycle;

/// <summary>A lifecycle request that cannot run, with a message that names the cause and the fix.</summary>
public sealed class LifecycleException(string code, string message) : Exception(message)
{
    /// <summary>Machine-readable code: not_found, invalid_state, no_backend, invalid_size, safe_mode.</summary>
    public string Code { get; } = code;
}

/// <summary>A runtime's mutation lock held across several lifecycle calls (see <see cref="RuntimeLifecycle.HoldAsync"/>).</summary>
public sealed class RuntimeHold : IDisposable
{
    private readonly IDisposable _lease;
    private readonly IReplicaLease? _replicaLease;

    internal RuntimeHold(string runtimeId, IDisposable lease, IReplicaLease? replicaLease = null)
    {
        RuntimeId = runtimeId;
        _lease = lease;
        _replicaLease = replicaLease;
    }

    /// <summary>The runtime whose mutations are held.</summary>
    public string RuntimeId { get; }

    internal bool Released { get; private set; }

    /// <summary>Throws <see cref="ReplicaFencedException"/> when the lock held across replicas was lost.</summary>
    internal Task EnsureHeldAsync(CancellationToken cancellationToken) =>
        _replicaLease?.EnsureHeldAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Releases the lock (the one across replicas first, so a waiter in this process never waits on it).</summary>
    public void Dispose()
    {
        if (!Released)
        {
            Released = true;
            _replicaLease?.Dispose();
            _lease.Dispose();
        }
    }
}

/// <summary>
/// Runs lifecycle actions as Operations: the operation and the runtime's new state are durable
/// before the call returns, every change leaves an event carrying what would undo it, and
/// mutations of one runtime are serialized — in this process by an in-memory lock, and across the
/// replicas sharing the store by <see cref="IReplicaCoordinator"/> (taken after the in-memory one,
/// so a process waits on the store with at most one connection per runtime).
/// </summary>
public sealed class RuntimeLifecycle(
    IRuntimeInventory inventory,
    DriverRegistry drivers,
    IdGenerator ids,
    TimeProvider time,
    ILogger<RuntimeLifecycle> logger,
    BackendHealthMonitor? health = null,
    IReplicaCoordinator? coordinator = null)
{
    private static readonly AsyncLocal<IReadOnlyList<RuntimeHold>?> s_held = new();
    private readonly RuntimeLocks _locks = new();

    /// <summary>
    /// Guards each runtime record's read-compare-write (a backend event, an observation) against an
    /// operation's write of the record: held only around those store calls, never across a driver call.
    /// </summary>
    private readonly RuntimeLocks _records = new();
    private readonly SemaphoreSlim _discovery = new(1, 1);

    /// <summary>How this process coordinates with other replicas of the store (in-process when alone).</summary>
    public IReplicaCoordinator Coordinator { get; } = coordinator ?? InProcessReplicaCoordinator.Instance;

    /// <summary>The key under which a runtime's mutations are held across replicas.</summary>
    public static string LockKey(string runtimeId) => "runtime:" + runtimeId;

    /// <summary>How many runtimes have a mutation lock in use right now (locks live only while used).</summary>
    internal int LocksInUse => _locks.Count;

    /// <summary>Creates a runtime on the first backend that serves its type.</summary>
    public Task<(Operation Operation, Runtime Runtime)> CreateAsync(
        RuntimeCreateRequest request, string actor, IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        CreateAsync(request, actor, null, null, progress, cancellationToken);

    /// <summary>Creates a runtime, recording <paramref name="initiator"/> on the operation and its events.</summary>
    public async Task<(Operation Operation, Runtime Runtime)> CreateAsync(
        RuntimeCreateRequest request, string actor, OperationActor? initiator, string? operationId,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var driver = drivers.ForType(request.Type, request.Backend)
            ?? throw new LifecycleException("no_backend", request.Backend is { } named
                ? $"backend '{named}' does not serve runtimes of type '{EnumText.Name(request.Type)}'; use one of: {string.Join(", ", drivers.All.Where(d => d.RuntimeType == request.Type).Select(d => d.Name).DefaultIfEmpty("(none configured)"))}"
                : $"no backend serves runtimes of type '{EnumText.Name(request.Type)}'; start the server with a backend for it (--libvirt URI for vm, --kubeconfig FILE for vcluster and KubeVirt vm, or --sandbox)");
        health?.ThrowIfReadOnly(driver);
        var size = request.Spec.Size ?? "nano";
        if (!SizeTable.TryGet(size, out _))
        {
            throw new LifecycleException("invalid_size", $"size '{size}' is not in the size table; use one of {string.Join(", ", SizeTable.Names)}");
        }

        var now = time.GetUtcNow();
        var runtime = new Runtime
        {
            Id = ids.New("rt"),
            Name = request.Name,
            Type = request.Type,
            State = RuntimeState.Creating,
            TenantId = request.TenantId,
            Labels = request.Labels,
            Capabilities = Capabilities(driver),
            Spec = request.Spec with { Size = size },
            CreatedAt = now,
        };
        var operation = NewOperation(runtime.Id, "create", operationId) with { Actor = initiator };
        await inventory.SaveRuntimeAsync(runtime, "create requested", cancellationToken).ConfigureAwait(false);
        await inventory.SaveOperationAsync(operation, cancellationToken).ConfigureAwait(false);
        progress?.Report(new OperationProgress(10, $"{operation.OperationId}: creating on {driver.Name}"));

        try
        {
            var created = await driver.CreateAsync(runtime.Id, request with { Spec = runtime.Spec }, cancellationToken).ConfigureAwait(false);
            runtime = runtime with
            {
                State = created.State,
                Backend = new RuntimeBackendRef(driver.BackendKind, created.BackendRef),
                Spec = runtime.Spec with
                {
                    Resources = (runtime.Spec.Resources ?? new ResourceProfile()) with { Cpu = created.Vcpus, Memory = Quantity.FormatMiB(created.MemoryMiB) },
                },
                UpdatedAt = time.GetUtcNow(),
            };
            await inventory.SaveRuntimeAsync(runtime, "created", cancellationToken).ConfigureAwait(false);
            await AppendEventAsync(runtime.Id, "lifecycle.created", EventSeverity.Info, actor, new JsonObject
            {
                ["backend"] = created.BackendRef,
                ["vcpus"] = created.Vcpus,
                ["memory_mib"] = created.MemoryMiB,
                ["compensation"] = "delete_runtime",
            }, cancellationToken, operation).ConfigureAwait(false);
            operation = await FinishAsync(operation, new JsonObject
            {
                ["state"] = EnumText.Name(runtime.State),
                ["backend"] = created.BackendRef,
                ["disk_path"] = created.DiskPath,
            }, cancellationToken).ConfigureAwait(false);
            return (operation, runtime);
        }
        catch (Exception ex) when (ex is RuntimeDriverException or LifecycleException)
        {
            // The driver removed whatever it had defined; the record stays as history, marked deleted.
            runtime = runtime with { State = RuntimeState.Deleted, UpdatedAt = time.GetUtcNow() };
            await inventory.SaveRuntimeAsync(runtime, "create failed", CancellationToken.None).ConfigureAwait(false);
            await AppendEventAsync(runtime.Id, "lifecycle.create_failed", EventSeverity.Warning, actor,
                new JsonObject { ["error"] = ex.Message }, CancellationToken.None, operation).ConfigureAwait(false);
            operation = await FailAsync(operation, ex, CancellationToken.None).ConfigureAwait(false);
            return (operation, runtime);
        }
    }

    /// <summary>Runs one action against an existing runtime.</summary>
    public async Task<(Operation Operation, Runtime Runtime)> RunAsync(
        LifecycleRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var lease = IsHeldHere(request.RuntimeId) ? null : await HoldAsync(request.RuntimeId, cancellationToken).ConfigureAwait(false);

        try
        {
            var (runtime, driver, backendRef) = await ResolveAsync(request.RuntimeId, cancellationToken).ConfigureAwait(false);
            health?.ThrowIfReadOnly(driver);
            var verb = EnumText.Name(request.Action);
            var operation = NewOperation(runtime.Id, verb, request.OperationId) with { Actor = request.Initiator };
            await inventory.SaveOperationAsync(operation, cancellationToken).ConfigureAwait(false);
            // The operation's id comes first, so a client can subscribe to operation://{id} while it runs.
            progress?.Report(new OperationProgress(10, $"{operation.OperationId}: {verb} on {driver.Name}"));
            try
            {
                var (result, snapshot) = await ExecuteAsync(request, runtime, driver, backendRef, cancellationToken).ConfigureAwait(false);
                progress?.Report(new OperationProgress(90, "recording"));
                using (await _records.AcquireAsync(runtime.Id, CancellationToken.None).ConfigureAwait(false))
                {
                    runtime = Apply(runtime, request, result);
                    await inventory.SaveRuntimeAsync(runtime, $"{verb} by {request.Actor}", cancellationToken).ConfigureAwait(false);
                }

                var data = Describe(result, snapshot);
                await AppendEventAsync(runtime.Id, "lifecycle." + PastTense(request.Action), EventSeverity.Info, request.Actor, data, cancellationToken, operation).ConfigureAwait(false);
                operation = await FinishAsync(operation, data.DeepClone().AsObject(), cancellationToken).ConfigureAwait(false);
                return (operation, runtime);
            }
            catch (RuntimeDriverException ex)
            {
                await AppendEventAsync(runtime.Id, $"lifecycle.{verb}_failed", EventSeverity.Warning, request.Actor,
                    new JsonObject { ["error"] = ex.Message, ["code"] = ex.Code }, CancellationToken.None, operation).ConfigureAwait(false);
                operation = await FailAsync(operation, ex, CancellationToken.None).ConfigureAwait(false);
                return (operation, runtime);
            }
        }
        finally
        {
            lease?.Dispose();
        }
    }

    /// <summary>Reads live state and signals, and records a state the backend changed on its own.</summary>
    public async Task<(Runtime Runtime, RuntimeObservation Observation, IRuntimeDriver Driver)> ObserveAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var (runtime, driver, backendRef) = await ResolveAsync(runtimeId, cancellationToken).ConfigureAwait(false);
        var observation = await driver.ObserveAsync(backendRef, cancellationToken).ConfigureAwait(false);
        if (observation.State != runtime.State && await RecordObservedAsync(runtime, observation.State, cancellationToken).ConfigureAwait(false) is { } observed)
        {
            var previous = runtime.State;
            runtime = observed;
            await AppendEventAsync(runtime.Id, "lifecycle.state_observed", EventSeverity.Warning, "system", new JsonObject
            {
                ["previous_state"] = EnumText.Name(previous),
                ["state"] = EnumText.Name(observation.State),
                ["reason"] = observation.Reason,
            }, cancellationToken).ConfigureAwait(false);
        }

        return (runtime, observation, driver);
    }

    /// <summary>Lists a runtime's snapshots.</summary>
    public async Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var (_, driver, backendRef) = await ResolveAsync(runtimeId, cancellationToken).ConfigureAwait(false);
        return await driver.ListSnapshotsAsync(backendRef, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes one snapshot (the compensation of taking it), serialized with the runtime's other
    /// mutations, and records a <c>lifecycle.snapshot_deleted</c> event.
    /// </summary>
    public async Task DeleteSnapshotAsync(string runtimeId, string snapshotName, string actor, CancellationToken cancellationToken)
    {
        var lease = IsHeldHere(runtimeId) ? null : await HoldAsync(runtimeId, cancellationToken).ConfigureAwait(false);

        try
        {
            var (runtime, driver, backendRef) = await ResolveAsync(runtimeId, cancellationToken).ConfigureAwait(false);
            health?.ThrowIfReadOnly(driver);
            await driver.DeleteSnapshotAsync(backendRef, snapshotName, cancellationToken).ConfigureAwait(false);
            await AppendEventAsync(runtime.Id, "lifecycle.snapshot_deleted", EventSeverity.Info, actor,
                new JsonObject { ["snapshot"] = snapshotName }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lease?.Dispose();
        }
    }

    /// <summary>
    /// Waits until no other mutation of the runtime is running or queued ahead of this call (at once
    /// when this flow holds the runtime's lock), so a new call is judged against the state a running
    /// saga leaves behind, not a state it passes through (a VM is stopped in the middle of a resize).
    /// </summary>
    public async Task WaitUntilIdleAsync(string runtimeId, CancellationToken cancellationToken)
    {
        if (IsHeldHere(runtimeId))
        {
            return;
        }

        // Across replicas too: the saga may run on another one.
        using var hold = await HoldAsync(runtimeId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the runtime's mutation lock for a sequence of calls (a saga), so no other mutation of
    /// the runtime runs between them. Pass the hold to <see cref="Enter(RuntimeHold)"/> in the flow that makes
    /// the calls; dispose it to release the lock.
    /// </summary>
    public async Task<RuntimeHold> HoldAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var local = await _locks.AcquireAsync(runtimeId, cancellationToken).ConfigureAwait(false);
        try
        {
            var shared = await Coordinator.AcquireAsync(LockKey(runtimeId), cancellationToken).ConfigureAwait(false);
            return new RuntimeHold(runtimeId, local, shared);
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Before a saga step or compensation on <paramref name="runtimeId"/>: throws
    /// <see cref="ReplicaFencedException"/> when this replica was fenced or lost the runtime's lock
    /// across replicas (another replica may be settling the saga by now), so the step is not run.
    /// </summary>
    public async Task EnsureHeldAsync(string runtimeId, CancellationToken cancellationToken)
    {
        if (Coordinator.Fenced is { } reason)
        {
            throw new ReplicaFencedException($"this replica stopped running saga steps: {reason}");
        }

        if (s_held.Value is { } holds)
        {
            foreach (var hold in holds.Where(h => !h.Released && string.Equals(h.RuntimeId, runtimeId, StringComparison.Ordinal)))
            {
                await hold.EnsureHeldAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Takes the mutation locks of several runtimes (a saga over several backends) in ordinal order
    /// of their ids, so two sagas over the same runtimes can never wait on each other in a cycle.
    /// Dispose every hold to release them.
    /// </summary>
    public async Task<IReadOnlyList<RuntimeHold>> HoldAllAsync(IEnumerable<string> runtimeIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtimeIds);
        var holds = new List<RuntimeHold>();
        try
        {
            foreach (var id in runtimeIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                holds.Add(await HoldAsync(id, cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            Release(holds);
            throw;
        }

        return holds;
    }

    /// <summary>Releases holds taken by <see cref="HoldAllAsync"/>, the last taken first.</summary>
    public static void Release(IReadOnlyList<RuntimeHold> holds)
    {
        ArgumentNullException.ThrowIfNull(holds);
        for (var i = holds.Count - 1; i >= 0; i--)
        {
            holds[i].Dispose();
        }
    }

    /// <summary>
    /// Marks the current async flow as the holder of <paramref name="hold"/>: <see cref="RunAsync"/>
    /// and <see cref="DeleteSnapshotAsync"/> for that runtime, called from this flow, then run
    /// under the held lock instead of waiting for it. Not async on purpose: the mark must stay in
    /// the caller's execution context. Dispose the result to remove the mark.
    /// </summary>
    public static IDisposable Enter(RuntimeHold hold)
    {
        ArgumentNullException.ThrowIfNull(hold);
        return Enter([hold]);
    }

    /// <summary>Marks the current async flow as the holder of every lock in <paramref name="holds"/> (a saga over several runtimes).</summary>
    public static IDisposable Enter(IReadOnlyList<RuntimeHold> holds)
    {
        ArgumentNullException.ThrowIfNull(holds);
        var previous = s_held.Value;
        s_held.Value = holds;
        return new HeldScope(previous);
    }

    private static bool IsHeldHere(string runtimeId) =>
        s_held.Value is { } holds && holds.Any(h => !h.Released && string.Equals(h.RuntimeId, runtimeId, StringComparison.Ordinal));

    private sealed class HeldScope(IReadOnlyList<RuntimeHold>? previous) : IDisposable
    {
        public void Dispose() => s_held.Value = previous;
    }

    /// <summary>
    /// Imports what the backends already hold (existing domains become runtimes, not copies) and
    /// brings recorded states up to date. Returns how many runtimes were imported.
    /// </summary>
    public async Task<int> DiscoverAsync(CancellationToken cancellationToken)
    {
        // One discovery at a time, in this process and across replicas sharing the store: each
        // imports what it does not find, so two at once could both import the same backend object.
        await _discovery.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var shared = await Coordinator.AcquireAsync("inventory-discovery", cancellationToken).ConfigureAwait(false);
            return await DiscoverAllAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _discovery.Release();
        }
    }

    private async Task<int> DiscoverAllAsync(CancellationToken cancellationToken)
    {
        var imported = 0;
        foreach (var driver in drivers.All)
        {
            IReadOnlyList<DiscoveredRuntime> found;
            try
            {
                found = await driver.DiscoverAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RuntimeDriverException ex)
            {
                logger.LogWarning("Discovery on {Backend} failed: {Message}", driver.Name, ex.Message);
                continue;
            }

            await MarkVanishedAsync(driver, found, cancellationToken).ConfigureAwait(false);
            foreach (var item in found)
            {
                var known = await inventory.FindRuntimeByBackendRefAsync(item.BackendRef, cancellationToken).ConfigureAwait(false);
                if (known is null && item.RuntimeId is not null)
                {
                    known = await inventory.GetRuntimeAsync(item.RuntimeId, cancellationToken).ConfigureAwait(false);
                }

                if (known is not null)
                {
                    if (known.State != item.State)
                    {
                        await inventory.SaveRuntimeAsync(known with { State = item.State, UpdatedAt = time.GetUtcNow() }, "discovered", cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }

                var runtime = new Runtime
                {
                    Id = item.RuntimeId ?? ids.New("rt"),
                    Name = item.Name,
                    Type = driver.RuntimeType,
                    State = item.State,
                    TenantId = item.TenantId,
                    Labels = item.Labels,
                    Capabilities = Capabilities(driver),
                    Backend = new RuntimeBackendRef(driver.BackendKind, item.BackendRef),
                    Spec = new RuntimeSpec
                    {
                        Size = SizeTable.All.FirstOrDefault(s => s.Vcpus == item.Vcpus && s.MemoryMiB == item.MemoryMiB)?.Name,
                        Resources = new ResourceProfile { Cpu = item.Vcpus, Memory = Quantity.FormatMiB(item.MemoryMiB) },
                    },
                    CreatedAt = time.GetUtcNow(),
                };
                await inventory.SaveRuntimeAsync(runtime, "imported", cancellationToken).ConfigureAwait(false);
                await AppendEventAsync(runtime.Id, "inventory.imported", EventSeverity.Info, "system",
                    new JsonObject { ["backend"] = item.BackendRef }, cancellationToken).ConfigureAwait(false);
                imported++;
            }
        }

        return imported;
    }

    /// <summary>
    /// Runtimes the inventory places on <paramref name="driver"/> that the backend no longer has
    /// (deleted outside RuntimeAI, or a sandbox that restarted empty) go to state error with an
    /// event, instead of failing every later call with "not found".
    /// </summary>
    private async Task MarkVanishedAsync(IRuntimeDriver driver, IReadOnlyList<DiscoveredRuntime> found, CancellationToken cancellationToken)
    {
        var present = found.Select(f => f.BackendRef).ToHashSet(StringComparer.Ordinal);
        var presentIds = found.Where(f => f.RuntimeId is not null).Select(f => f.RuntimeId!).ToHashSet(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await inventory.ListRuntimesAsync(new RuntimeQuery { PageSize = 200, PageToken = token }, cancellationToken).ConfigureAwait(false);
            foreach (var runtime in page.Items)
            {
                if (runtime.Backend?.Ref is not { } backendRef
                    || !backendRef.StartsWith(driver.Name + "#", StringComparison.Ordinal)
                    || present.Contains(backendRef) || presentIds.Contains(runtime.Id)
                    || runtime.State is RuntimeState.Error or RuntimeState.Deleted)
                {
                    continue;
                }

                await inventory.SaveRuntimeAsync(runtime with { State = RuntimeState.Error, UpdatedAt = time.GetUtcNow() }, "vanished from backend", cancellationToken).ConfigureAwait(false);
                await AppendEventAsync(runtime.Id, "inventory.vanished", EventSeverity.Warning, "system", new JsonObject
                {
                    ["backend"] = driver.Name,
                    ["detail"] = driver.IsSandbox
                        ? "the sandbox backend starts empty on every server start; this runtime only existed in an earlier run"
                        : "the backend no longer has this runtime (deleted outside RuntimeAI?); delete_runtime removes the record",
                }, cancellationToken).ConfigureAwait(false);
            }

            token = page.NextPageToken;
        }
        while (token is not null);
    }

    /// <summary>
    /// Writes an observed state unless the record changed since <paramref name="read"/> was read (an
    /// operation that ended meanwhile knows better than an observation made before it); null when not written.
    /// </summary>
    private async Task<Runtime?> RecordObservedAsync(Runtime read, RuntimeState observed, CancellationToken cancellationToken)
    {
        using (await _records.AcquireAsync(read.Id, CancellationToken.None).ConfigureAwait(false))
        {
            var current = await inventory.GetRuntimeAsync(read.Id, cancellationToken).ConfigureAwait(false);
            if (current is null || current.UpdatedAt != read.UpdatedAt || current.State != read.State)
            {
                return null;
            }

            var runtime = current with { State = observed, UpdatedAt = time.GetUtcNow() };
            await inventory.SaveRuntimeAsync(runtime, "observed", cancellationToken).ConfigureAwait(false);
            return runtime;
        }
    }

    /// <summary>Records a lifecycle event the backend reported on its own.</summary>
    public async Task RecordDriverEventAsync(DriverEvent driverEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(driverEvent);
        var found = await inventory.FindRuntimeByBackendRefAsync(driverEvent.BackendRef, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return;
        }

        using (await _records.AcquireAsync(found.Id, CancellationToken.None).ConfigureAwait(false))
        {
            // Read again under the record lock: an operation may have written the record since it was
            // found, and writing the state over a copy read before that would undo the operation's write.
            var runtime = await inventory.GetRuntimeAsync(found.Id, cancellationToken).ConfigureAwait(false);

            // An event older than the last recorded change is history (e.g. the "stopped" of a restart
            // delivered after the restart was recorded as running): keep it as an event, not as state.
            var newer = runtime?.UpdatedAt is not { } updated || driverEvent.Ts > updated;
            if (runtime is not null && driverEvent.NewState is { } state && state != runtime.State && runtime.State != RuntimeState.Deleted && newer)
            {
                await inventory.SaveRuntimeAsync(runtime with { State = state, UpdatedAt = driverEvent.Ts }, "backend event", cancellationToken).ConfigureAwait(false);
            }
        }

        await AppendEventAsync(found.Id, "backend." + driverEvent.Type,
            driverEvent.Type.Contains("crash", StringComparison.OrdinalIgnoreCase) ? EventSeverity.Critical : EventSeverity.Info,
            "system", new JsonObject { ["detail"] = driverEvent.Detail }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(Runtime Runtime, IRuntimeDriver Driver, string BackendRef)> ResolveAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var runtime = await inventory.GetRuntimeAsync(runtimeId, cancellationToken).ConfigureAwait(false)
            ?? throw new LifecycleException("not_found", $"runtime '{runtimeId}' does not exist; call list_runtimes to find a valid runtime_id");
        if (runtime.State == RuntimeState.Deleted)
        {
            throw new LifecycleException("invalid_state", $"runtime '{runtimeId}' ({runtime.Name}) was deleted; nothing can be done to it");
        }

        var backendRef = runtime.Backend?.Ref
            ?? throw new LifecycleException("no_backend", $"runtime '{runtimeId}' has no backend reference; it was never created successfully");
        var driver = drivers.ForBackendRef(backendRef)
            ?? throw new LifecycleException("no_backend",
                $"runtime '{runtimeId}' lives on '{backendRef.Split('#')[0]}', which this server is not configured for; start it with that backend (--libvirt URI or --kubeconfig FILE --context NAME)");
        return (runtime, driver, backendRef);
    }

    private static async Task<(MutationResult Result, SnapshotInfo? Snapshot)> ExecuteAsync(
        LifecycleRequest request, Runtime runtime, IRuntimeDriver driver, string backendRef, CancellationToken cancellationToken)
    {
        switch (request.Action)
        {
            case ActionType.Start:
                return (await driver.StartAsync(backendRef, cancellationToken).ConfigureAwait(false), null);
            case ActionType.Stop:
                return (await driver.StopAsync(backendRef, request.Stop ?? new StopOptions(false, TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false), null);
            case ActionType.Restart:
                return (await driver.RestartAsync(backendRef, cancellationToken).ConfigureAwait(false), null);
            case ActionType.Scale:
                return (await driver.ScaleAsync(backendRef, ScaleTargetFor(request, runtime), cancellationToken).ConfigureAwait(false), null);
            case ActionType.Snapshot:
                var snapshot = await driver.SnapshotAsync(backendRef, request.SnapshotName!, request.SnapshotDescription, cancellationToken).ConfigureAwait(false);
                return (new MutationResult { PreviousState = runtime.State, NewState = runtime.State }, snapshot);
            case ActionType.Restore:
                return (await driver.RestoreSnapshotAsync(backendRef, request.SnapshotName!, cancellationToken).ConfigureAwait(false), null);
            case ActionType.Delete:
                try
                {
                    return (await driver.DeleteAsync(backendRef, new DeleteOptions(request.KeepDisk), cancellationToken).ConfigureAwait(false), null);
                }
                catch (RuntimeDriverException ex) when (ex.Code == "not_found")
                {
                    // The backend no longer has it: deleting the record is all that is left to do.
                    return (new MutationResult { PreviousState = runtime.State, NewState = RuntimeState.Deleted, Notes = ["the backend no longer had this runtime; only the record was removed"] }, null);
                }
            default:
                throw new LifecycleException("unsupported_action", $"action '{EnumText.Name(request.Action)}' is not a lifecycle action of this server");
        }
    }

    private static ScaleTarget ScaleTargetFor(LifecycleRequest request, Runtime runtime)
    {
        var vcpus = request.Vcpus;
        var memory = request.MemoryMiB;
        if (request.Size is { } name)
        {
            if (!SizeTable.TryGet(name, out var size))
            {
                throw new LifecycleException("invalid_size", $"size '{name}' is not in the size table; use one of {string.Join(", ", SizeTable.Names)}");
            }

            vcpus ??= size.Vcpus;
            memory ??= size.MemoryMiB;
        }

        var currentCpu = (int?)runtime.Spec.Resources?.Cpu;
        long? currentMemory = Quantity.TryParseMiB(runtime.Spec.Resources?.Memory, out var m) ? m : null;
        return new ScaleTarget(
            vcpus ?? currentCpu ?? throw new LifecycleException("invalid_size", "scale needs a size, vcpus or memory"),
            memory ?? currentMemory ?? throw new LifecycleException("invalid_size", "scale needs a size, vcpus or memory"));
    }

    private Runtime Apply(Runtime runtime, LifecycleRequest request, MutationResult result)
    {
        var updated = runtime with { State = result.NewState, UpdatedAt = time.GetUtcNow() };
        if (request.Action == ActionType.Scale && result.NewSize is { } size)
        {
            var named = SizeTable.All.FirstOrDefault(s => s.Vcpus == size.Vcpus && s.MemoryMiB == size.MemoryMiB)?.Name;
            updated = updated with
            {
                Spec = runtime.Spec with
                {
                    Size = named ?? request.Size,
                    Resources = (runtime.Spec.Resources ?? new ResourceProfile()) with { Cpu = size.Vcpus, Memory = Quantity.FormatMiB(size.MemoryMiB) },
                },
            };
        }

        return updated;
    }

    private static JsonObject Describe(MutationResult result, SnapshotInfo? snapshot)
    {
        var data = new JsonObject
        {
            ["previous_state"] = EnumText.Name(result.PreviousState),
            ["state"] = EnumText.Name(result.NewState),
        };
        if (result.PreviousSize is { } before)
        {
            data["previous_size"] = new JsonObject { ["vcpus"] = before.Vcpus, ["memory_mib"] = before.MemoryMiB };
        }

        if (result.NewSize is { } after)
        {
            data["size"] = new JsonObject { ["vcpus"] = after.Vcpus, ["memory_mib"] = after.MemoryMiB };
        }

        if (result.RestartRequired)
        {
            data["restart_required"] = true;
        }

        if (result.Notes.Count > 0)
        {
            data["notes"] = new JsonArray(result.Notes.Select(n => (JsonNode)JsonValue.Create(n)).ToArray());
        }

        if (snapshot is not null)
        {
            data["snapshot"] = snapshot.Name;
        }

        return data;
    }

    private static string PastTense(ActionType action) => action switch
    {
        ActionType.Start => "started",
        ActionType.Stop => "stopped",
        ActionType.Restart => "restarted",
        ActionType.Scale => "scaled",
        ActionType.Snapshot => "snapshot_taken",
        ActionType.Restore => "restored",
        ActionType.Delete => "deleted",
        _ => EnumText.Name(action),
    };

    private static IReadOnlyList<string> Capabilities(IRuntimeDriver driver) => driver.Capabilities;

    private Operation NewOperation(string runtimeId, string action, string? operationId = null) => new()
    {
        OperationId = operationId ?? ids.New("op"),
        Status = OperationStatus.Running,
        RuntimeId = runtimeId,
        Action = action,
        CreatedAt = time.GetUtcNow(),
        Progress = new OperationProgress(0, "started"),
    };

    private async Task<Operation> FinishAsync(Operation operation, JsonObject result, CancellationToken cancellationToken)
    {
        var done = operation with
        {
            Status = OperationStatus.Succeeded,
            FinishedAt = time.GetUtcNow(),
            Progress = new OperationProgress(100, "done"),
            Result = result,
        };
        await inventory.SaveOperationAsync(done, cancellationToken).ConfigureAwait(false);
        return done;
    }

    private async Task<Operation> FailAsync(Operation operation, Exception ex, CancellationToken cancellationToken)
    {
        var code = ex switch { RuntimeDriverException d => d.Code, LifecycleException l => l.Code, _ => "error" };
        var failed = operation with
        {
            Status = OperationStatus.Failed,
            FinishedAt = time.GetUtcNow(),
            Error = new OperationError(code, ex.Message),
        };
        await inventory.SaveOperationAsync(failed, cancellationToken).ConfigureAwait(false);
        return failed;
    }

    private Task AppendEventAsync(string runtimeId, string type, EventSeverity severity, string actor, JsonObject data, CancellationToken cancellationToken, Operation? cause = null) =>
        inventory.AppendEventAsync(new RuntimeEvent
        {
            Id = ids.New("ev"),
            RuntimeId = runtimeId,
            Type = type,
            Severity = severity,
            Ts = time.GetUtcNow(),
            Actor = cause?.Actor?.Kind ?? actor,
            Principal = cause?.Actor?.Principal,
            OperationId = cause?.OperationId,
            Data = data,
        }, cancellationToken);
}
