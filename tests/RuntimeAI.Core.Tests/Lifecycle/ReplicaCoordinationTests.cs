using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Core.Tests.Lifecycle;

/// <summary>
/// How the lifecycle engine uses the coordinator of the replicas sharing a store: a runtime's hold
/// takes the lock across replicas after the in-process one and gives both back, a failed wait
/// leaves nothing held, and a fenced replica or a lost lease stops the holder before its next step.
/// </summary>
public sealed class ReplicaCoordinationTests
{
    private static RuntimeLifecycle NewLifecycle(IReplicaCoordinator coordinator)
    {
        var time = new FakeTimeProvider();
        return new RuntimeLifecycle(new InMemoryInventory(), new DriverRegistry([new FlippableDriver("fake:one")]), new IdGenerator(time), time,
            NullLogger<RuntimeLifecycle>.Instance, coordinator: coordinator);
    }

    [Fact]
    public async Task HoldAsync_SharedStore_TakesTheRuntimesKeyAcrossReplicas_AndReleasesBoth()
    {
        var coordinator = new RecordingCoordinator();
        var lifecycle = NewLifecycle(coordinator);

        var hold = await lifecycle.HoldAsync("rt_a", CancellationToken.None);

        var lease = Assert.Single(coordinator.Leases);
        Assert.Equal("runtime:rt_a", lease.Key);
        Assert.False(lease.Disposed);
        hold.Dispose();
        Assert.True(lease.Disposed);
        Assert.Equal(0, lifecycle.LocksInUse);
    }

    [Fact]
    public async Task HoldAsync_WaitAcrossReplicasFails_InProcessLockIsGivenBack()
    {
        var coordinator = new RecordingCoordinator { FailAcquire = true };
        var lifecycle = NewLifecycle(coordinator);

        await Assert.ThrowsAsync<ReplicaFencedException>(() => lifecycle.HoldAsync("rt_a", CancellationToken.None));

        Assert.Equal(0, lifecycle.LocksInUse);
        coordinator.FailAcquire = false;
        using var again = await lifecycle.HoldAsync("rt_a", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task EnsureHeldAsync_FencedOrLeaseLost_Throws_OtherwisePasses()
    {
        var coordinator = new RecordingCoordinator();
        var lifecycle = NewLifecycle(coordinator);
        var holds = await lifecycle.HoldAllAsync(["rt_a", "rt_b"], CancellationToken.None);
        using (RuntimeLifecycle.Enter(holds))
        {
            await lifecycle.EnsureHeldAsync("rt_a", CancellationToken.None);

            coordinator.Leases.Single(l => l.Key == "runtime:rt_b").Lost = true;
            await lifecycle.EnsureHeldAsync("rt_a", CancellationToken.None);
            await Assert.ThrowsAsync<ReplicaFencedException>(() => lifecycle.EnsureHeldAsync("rt_b", CancellationToken.None));

            coordinator.Fenced = "the connection broke";
            var fenced = await Assert.ThrowsAsync<ReplicaFencedException>(() => lifecycle.EnsureHeldAsync("rt_a", CancellationToken.None));
            Assert.Contains("the connection broke", fenced.Message, StringComparison.Ordinal);
        }

        RuntimeLifecycle.Release(holds);
        Assert.All(coordinator.Leases, l => Assert.True(l.Disposed));
    }

    [Fact]
    public void Coordinator_NotGiven_IsTheInProcessOne()
    {
        var time = new FakeTimeProvider();
        var lifecycle = new RuntimeLifecycle(new InMemoryInventory(), new DriverRegistry([]), new IdGenerator(time), time, NullLogger<RuntimeLifecycle>.Instance);

        Assert.Same(InProcessReplicaCoordinator.Instance, lifecycle.Coordinator);
    }

    private sealed class RecordingCoordinator : IReplicaCoordinator
    {
        public List<RecordingLease> Leases { get; } = [];

        public bool FailAcquire { get; set; }

        public bool Shared => true;

        public string? Fenced { get; set; }

        public JsonObject Executor() => new() { ["replica"] = "rep_test" };

        public Task<IReplicaLease?> AcquireAsync(string key, CancellationToken cancellationToken)
        {
            if (FailAcquire)
            {
                throw new ReplicaFencedException("test: no lock across replicas");
            }

            var lease = new RecordingLease(key);
            Leases.Add(lease);
            return Task.FromResult<IReplicaLease?>(lease);
        }

        public Task<ExecutorLiveness> ProbeAsync(JsonNode? executor, CancellationToken cancellationToken) => Task.FromResult(ExecutorLiveness.Alive);
    }

    private sealed class RecordingLease(string key) : IReplicaLease
    {
        public string Key { get; } = key;

        public bool Disposed { get; private set; }

        public bool Lost { get; set; }

        public Task EnsureHeldAsync(CancellationToken cancellationToken) =>
            Lost ? throw new ReplicaFencedException($"test: lost {Key}") : Task.CompletedTask;

        public void Dispose() => Disposed = true;
    }
}
