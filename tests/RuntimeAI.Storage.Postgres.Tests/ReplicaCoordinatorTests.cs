using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Storage.Postgres.Tests;

/// <summary>
/// The coordination contract between replicas on a real PostgreSQL: two coordinators, each with
/// its own database object and connection pool, as two server processes would have. A holder's
/// connection "dies" by <c>pg_terminate_backend</c>, which is what PostgreSQL sees when a process is
/// SIGKILLed (its socket closes). The embedded store's in-process behaviour is tested alongside.
/// </summary>
public sealed class ReplicaCoordinatorTests
{
    private static readonly TimeSpan s_heartbeat = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task AcquireAsync_KeyHeldByOneReplica_OtherWaitsUntilReleased()
    {
        await using var store = await PostgresStoreUnderTest.CreateAsync();
        await using var a = await StartAsync(store);
        await using var b = await StartAsync(store);
        var ct = TestContext.Current.CancellationToken;

        var held = await a.AcquireAsync("runtime:rt_1", ct);
        Assert.NotNull(held);
        var waiting = b.AcquireAsync("runtime:rt_1", ct);
        var other = await b.AcquireAsync("runtime:rt_2", ct);
        Assert.NotNull(other);
        other!.Dispose();
        await Task.Delay(500, ct);
        Assert.False(waiting.IsCompleted, "the second replica got a runtime lock the first one holds");

        held!.Dispose();
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.NotNull(second);
        await second!.EnsureHeldAsync(ct);
    }

    [Fact]
    public async Task AcquireAsync_HolderConnectionDies_OtherGetsIt_HolderIsFencedThenJoinsAgain()
    {
        await using var store = await PostgresStoreUnderTest.CreateAsync();
        await using var a = await StartAsync(store);
        await using var b = await StartAsync(store);
        var ct = TestContext.Current.CancellationToken;
        var firstId = a.ReplicaId;

        var held = await a.AcquireAsync("runtime:rt_dies", ct);
        var waiting = b.AcquireAsync("runtime:rt_dies", ct);
        await Task.Delay(300, ct);
        Assert.False(waiting.IsCompleted);

        Assert.Equal(1, await TerminateHolderAsync(store.Admin, PostgresReplicaCoordinator.KeyLockSpace, "runtime:rt_dies", ct));
        using var taken = await waiting.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.NotNull(taken);

        // The old holder notices before its next step: it must not run it, and it is fenced.
        var fenced = await Assert.ThrowsAsync<ReplicaFencedException>(() => held!.EnsureHeldAsync(ct));
        Assert.Contains("runtime:rt_dies", fenced.Message, StringComparison.Ordinal);
        held!.Dispose();
        Assert.NotNull(a.Fenced);
        await Assert.ThrowsAsync<ReplicaFencedException>(() => a.AcquireAsync("runtime:rt_other", ct));

        // Its heartbeat gives up the old id (closing its connection) and joins again under a new id; the old id stays dead.
        for (var i = 0; i < 50 && a.Fenced is not null; i++)
        {
            await Task.Delay(100, ct);
        }

        Assert.Null(a.Fenced);
        Assert.NotEqual(firstId, a.ReplicaId);
        Assert.Equal(ExecutorLiveness.Alive, await b.ProbeAsync(a.Executor(), ct));
        Assert.Equal(ExecutorLiveness.Dead, await b.ProbeAsync(new JsonObject { ["replica"] = firstId }, ct));
    }

    [Fact]
    public async Task ProbeAsync_ReplicaConnectionKilledOrStopped_IsDead_LiveOneIsAlive()
    {
        await using var store = await PostgresStoreUnderTest.CreateAsync();
        var a = await StartAsync(store);
        var c = await StartAsync(store);
        await using var b = await StartAsync(store);
        var ct = TestContext.Current.CancellationToken;
        var executorA = a.Executor();
        var executorC = c.Executor();
        Assert.Equal(a.ReplicaId, executorA["replica"]!.GetValue<string>());
        Assert.Equal(3, await CountReplicaRowsAsync(store, ct));

        Assert.Equal(ExecutorLiveness.Alive, await b.ProbeAsync(executorA, ct));
        Assert.Equal(ExecutorLiveness.Alive, await b.ProbeAsync(b.Executor(), ct));

        // SIGKILL as PostgreSQL sees it: the replica's connection goes away.
        Assert.Equal(1, await TerminateHolderAsync(store.Admin, PostgresReplicaCoordinator.ReplicaLockSpace, a.ReplicaId, ct));
        Assert.Equal(ExecutorLiveness.Dead, await b.ProbeAsync(executorA, ct));
        await a.DisposeAsync();

        // A clean stop leaves too, and removes its row.
        await c.DisposeAsync();
        Assert.Equal(ExecutorLiveness.Dead, await b.ProbeAsync(executorC, ct));
        Assert.Equal(2, await CountReplicaRowsAsync(store, ct));

        // A record from before replicas had ids is judged by process, as the embedded store does.
        var legacy = InProcessReplicaCoordinator.Instance.Executor();
        Assert.Equal(ExecutorLiveness.Alive, await b.ProbeAsync(legacy, ct));
        legacy["pid"] = 999_999_999;
        Assert.Equal(ExecutorLiveness.Dead, await b.ProbeAsync(legacy, ct));
    }

    [Fact]
    public async Task InProcess_NoLockAcrossProcesses_LivenessByProcessAndHost()
    {
        var coordinator = InProcessReplicaCoordinator.Instance;
        var ct = TestContext.Current.CancellationToken;
        Assert.False(coordinator.Shared);
        Assert.Null(coordinator.Fenced);
        Assert.Null(await coordinator.AcquireAsync("runtime:rt_1", ct));

        var self = coordinator.Executor();
        Assert.Null(self["replica"]);
        Assert.Equal(ExecutorLiveness.Alive, await coordinator.ProbeAsync(self, ct));
        var gone = self.DeepClone().AsObject();
        gone["pid"] = 999_999_999;
        Assert.Equal(ExecutorLiveness.Dead, await coordinator.ProbeAsync(gone, ct));
        var elsewhere = self.DeepClone().AsObject();
        elsewhere["host"] = "another-machine";
        Assert.Equal(ExecutorLiveness.Unknown, await coordinator.ProbeAsync(elsewhere, ct));
        Assert.Equal(ExecutorLiveness.Dead, await coordinator.ProbeAsync(null, ct));
    }

    private static async Task<PostgresReplicaCoordinator> StartAsync(PostgresStoreUnderTest store) =>
        await PostgresReplicaCoordinator.StartAsync(await store.OpenDatabaseAsync(), TimeProvider.System, NullLogger.Instance, s_heartbeat, CancellationToken.None);

    private static async Task<int> TerminateHolderAsync(string admin, int space, string key, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(ct);
        await using var kill = new NpgsqlCommand(
            "SELECT COUNT(pg_terminate_backend(pid, 5000)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 " +
            "AND classid = @space::oid AND objid = hashtext(@key)::oid", connection);
        kill.Parameters.AddWithValue("space", space);
        kill.Parameters.AddWithValue("key", key);
        return Convert.ToInt32(await kill.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> CountReplicaRowsAsync(PostgresStoreUnderTest store, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(store.ConnectionString);
        await connection.OpenAsync(ct);
        await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM replicas", connection);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }
}
