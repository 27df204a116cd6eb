using System.Collections.Concurrent;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Tests.Lifecycle;

/// <summary>A backend whose health probe the test flips; mutations just succeed and are counted.</summary>
internal sealed class FlippableDriver(string name) : IRuntimeDriver
{
    private int _probes;
    private int _mutations;
    private volatile BackendHealth _health = new(true, "fake backend answers");

    public string Name { get; } = name;

    public RuntimeType RuntimeType => RuntimeType.Vm;

    public BackendKind BackendKind => BackendKind.VmBackend;

    public bool IsSandbox => true;

    public int Probes => Volatile.Read(ref _probes);

    public int Mutations => Volatile.Read(ref _mutations);

    public bool Hang { get; set; }

    public Exception? Throw { get; set; }

    public event EventHandler<DriverEvent>? RuntimeEventObserved
    {
        add { }
        remove { }
    }

    /// <summary>What <see cref="AssessAsync"/> answers; null keeps the interface's default (nothing to say).</summary>
    public Func<PlannedAction, ActionAssessment>? Assess { get; set; }

    /// <summary>Every action the dry-run asked this driver to assess.</summary>
    public ConcurrentQueue<PlannedAction> Assessed { get; } = new();

    public Task<ActionAssessment> AssessAsync(PlannedAction action, CancellationToken cancellationToken)
    {
        Assessed.Enqueue(action);
        return Task.FromResult(Assess?.Invoke(action) ?? ActionAssessment.None);
    }

    public void Fail(string detail) => _health = new BackendHealth(false, detail);

    public void Recover() => _health = new BackendHealth(true, "fake backend answers again");

    public async Task<BackendHealth> ProbeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _probes);
        if (Throw is { } ex)
        {
            throw ex;
        }

        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return _health;
    }

    public Task<IReadOnlyList<DiscoveredRuntime>> DiscoverAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DiscoveredRuntime>>([]);

    public Task<CreateResult> CreateAsync(string runtimeId, RuntimeCreateRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _mutations);
        return Task.FromResult(new CreateResult(Name + "#" + request.Name, RuntimeState.Running, 1, 512, null));
    }

    public Task<MutationResult> StartAsync(string backendRef, CancellationToken cancellationToken) =>
        Mutate(RuntimeState.Stopped, RuntimeState.Running);

    public Task<MutationResult> StopAsync(string backendRef, StopOptions options, CancellationToken cancellationToken) =>
        Mutate(RuntimeState.Running, RuntimeState.Stopped);

    public Task<MutationResult> RestartAsync(string backendRef, CancellationToken cancellationToken) =>
        Mutate(RuntimeState.Running, RuntimeState.Running);

    public Task<MutationResult> ScaleAsync(string backendRef, ScaleTarget target, CancellationToken cancellationToken) =>
        Mutate(RuntimeState.Running, RuntimeState.Running);

    public Task<SnapshotInfo> SnapshotAsync(string backendRef, string name, string? description, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _mutations);
        return Task.FromResult(new SnapshotInfo(name, description, DateTimeOffset.UnixEpoch, RuntimeState.Running, true));
    }

    public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string backendRef, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SnapshotInfo>>([]);

    public Task<MutationResult> RestoreSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken) =>
        Mutate(RuntimeState.Running, RuntimeState.Running);

    public Task DeleteSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _mutations);
        return Task.CompletedTask;
    }

    public Task<MutationResult> DeleteAsync(string backendRef, DeleteOptions options, CancellationToken cancellationToken) =>
        Mutate(RuntimeState.Stopped, RuntimeState.Deleted);

    public Task<RuntimeObservation> ObserveAsync(string backendRef, CancellationToken cancellationToken) =>
        Task.FromResult(new RuntimeObservation { State = RuntimeState.Running, ObservedAt = DateTimeOffset.UnixEpoch });

    public Task<HostCapacity> GetCapacityAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new HostCapacity(8, 16384, 8192));

    private Task<MutationResult> Mutate(RuntimeState before, RuntimeState after)
    {
        Interlocked.Increment(ref _mutations);
        return Task.FromResult(new MutationResult { PreviousState = before, NewState = after });
    }
}

/// <summary>Just enough of an inventory for RuntimeLifecycle, in memory.</summary>
internal sealed class InMemoryInventory : IRuntimeInventory
{
    public ConcurrentDictionary<string, Runtime> Runtimes { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, Operation> Operations { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<RuntimeEvent> Events { get; } = new();

    public Task<Runtime?> GetRuntimeAsync(string runtimeId, CancellationToken cancellationToken) =>
        Task.FromResult(Runtimes.TryGetValue(runtimeId, out var r) ? r : null);

    /// <summary>Awaited by <see cref="FindRuntimeByBackendRefAsync"/> after it has read the record (to hold a reader there).</summary>
    public Func<Task>? AfterFind { get; set; }

    public async Task<Runtime?> FindRuntimeByBackendRefAsync(string backendRef, CancellationToken cancellationToken)
    {
        var found = Runtimes.Values.FirstOrDefault(r => r.Backend?.Ref == backendRef);
        if (AfterFind is { } hold)
        {
            await hold();
        }

        return found;
    }

    public Task<Page<Runtime>> ListRuntimesAsync(RuntimeQuery query, CancellationToken cancellationToken) =>
        Task.FromResult(new Page<Runtime>(Runtimes.Values.Where(r => query.WithLabel is null || r.Labels.ContainsKey(query.WithLabel)).ToList(), null));

    public Task SaveRuntimeAsync(Runtime runtime, string reason, CancellationToken cancellationToken)
    {
        Runtimes[runtime.Id] = runtime;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SpecRevision>> GetSpecRevisionsAsync(string runtimeId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SpecRevision>>([]);

    public Task AppendEventAsync(RuntimeEvent runtimeEvent, CancellationToken cancellationToken)
    {
        Events.Enqueue(runtimeEvent);
        return Task.CompletedTask;
    }

    public Task<Page<RuntimeEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken) =>
        Task.FromResult(new Page<RuntimeEvent>(Events.ToList(), null));

    public Task SaveOperationAsync(Operation operation, CancellationToken cancellationToken)
    {
        Operations[operation.OperationId] = operation;
        return Task.CompletedTask;
    }

    public Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken) =>
        Task.FromResult(Operations.TryGetValue(operationId, out var o) ? o : null);

    public Task<IReadOnlyList<Operation>> ListUnfinishedOperationsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Operation>>(Operations.Values.Where(o => o.Status == OperationStatus.Running).ToList());

    // Not an interface member in every revision: kept as a plain method so this double builds either way.
    public Task<(int Operations, int Runtimes)> CountMutationsSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var recent = Operations.Values.Where(o => o.CreatedAt >= since).ToList();
        return Task.FromResult((recent.Count, recent.Select(o => o.RuntimeId).Distinct(StringComparer.Ordinal).Count()));
    }
}
