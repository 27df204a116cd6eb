using System.Text.Json.Nodes;
using RuntimeAI.Core.Operations;

namespace RuntimeAI.Core.Lifecycle;

/// <summary>Whether the process recorded as a saga's executor still runs, as far as this replica can tell.</summary>
public enum ExecutorLiveness
{
    /// <summary>It runs (or may run): its saga must not be touched.</summary>
    Alive,

    /// <summary>It is gone: its unfinished sagas are orphans that this replica may settle.</summary>
    Dead,

    /// <summary>This replica cannot tell (a process on another machine, recorded before replicas had ids): leave it alone.</summary>
    Unknown,
}

/// <summary>
/// How the replicas that share one store agree on who does what: which replica this is (recorded
/// as the executor of the sagas it runs), a mutual exclusion on a key (a runtime's mutations, the
/// policy budget) that spans every replica, and whether another replica is still alive. With the
/// embedded store there is one process and <see cref="InProcessReplicaCoordinator"/> does this with
/// process ids; a shared store (PostgreSQL) does it with locks in the database.
/// </summary>
public interface IReplicaCoordinator
{
    /// <summary>True when other processes may share the store, so orphaned sagas are looked for continually, not only at start.</summary>
    bool Shared { get; }

    /// <summary>What to record as the executor of a saga this replica starts or settles.</summary>
    JsonObject Executor();

    /// <summary>
    /// Waits until no other replica holds <paramref name="key"/> and holds it until the lease is
    /// disposed. Null when there is no other replica to exclude (the caller's in-process lock is enough).
    /// </summary>
    Task<IReplicaLease?> AcquireAsync(string key, CancellationToken cancellationToken);

    /// <summary>Whether the executor recorded on a saga (<see cref="Executor"/> of some replica, or an older record) still runs.</summary>
    Task<ExecutorLiveness> ProbeAsync(JsonNode? executor, CancellationToken cancellationToken);

    /// <summary>
    /// Null while this replica holds its place among the replicas; otherwise why not (its
    /// connection to the store broke, so others may already treat it as dead): it must not start
    /// another saga step, and it reports itself not ready.
    /// </summary>
    string? Fenced { get; }
}

/// <summary>A key held across replicas (see <see cref="IReplicaCoordinator.AcquireAsync"/>); dispose to release it.</summary>
public interface IReplicaLease : IDisposable
{
    /// <summary>
    /// Checks that the lease is still held (its connection to the store lives), before a step that
    /// must not run twice. Throws <see cref="ReplicaFencedException"/> when it is not.
    /// </summary>
    Task EnsureHeldAsync(CancellationToken cancellationToken);
}

/// <summary>This replica lost a lock it relied on; another replica may take over what it was doing, so it stops.</summary>
public sealed class ReplicaFencedException(string message) : Exception(message);

/// <summary>
/// One process per store (the embedded SQLite file): runtime locks in memory are enough, and a
/// saga's executor is alive while its process (id and start time, on this machine) runs.
/// </summary>
public sealed class InProcessReplicaCoordinator : IReplicaCoordinator
{
    /// <summary>The one instance: it holds no state.</summary>
    public static InProcessReplicaCoordinator Instance { get; } = new();

    /// <inheritdoc />
    public bool Shared => false;

    /// <inheritdoc />
    public string? Fenced => null;

    /// <inheritdoc />
    public JsonObject Executor() => SagaProcess.Current();

    /// <inheritdoc />
    public Task<IReplicaLease?> AcquireAsync(string key, CancellationToken cancellationToken) => Task.FromResult<IReplicaLease?>(null);

    /// <inheritdoc />
    public Task<ExecutorLiveness> ProbeAsync(JsonNode? executor, CancellationToken cancellationToken) => Task.FromResult(ProbeProcess(executor));

    /// <summary>
    /// Liveness by process: a process of another machine is <see cref="ExecutorLiveness.Unknown"/>
    /// (its process ids mean nothing here); one of this machine is alive while it runs.
    /// </summary>
    public static ExecutorLiveness ProbeProcess(JsonNode? executor) =>
        SagaProcess.OtherHost(executor) is not null ? ExecutorLiveness.Unknown
        : SagaProcess.IsAlive(executor) ? ExecutorLiveness.Alive
        : ExecutorLiveness.Dead;

    /// <summary>The machine a saga was run on when it is not this one; null for this machine and older records.</summary>
    public static string? OtherHost(JsonNode? executor) => SagaProcess.OtherHost(executor);
}
