using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Tests.Lifecycle;

/// <summary>Safe mode: the monitor's view of each backend and RuntimeLifecycle refusing mutations to a sick one.</summary>
public sealed class BackendHealthMonitorTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private sealed class World
    {
        public World(params FlippableDriver[] drivers)
        {
            Drivers = drivers.Length == 0 ? [new FlippableDriver("fake:one")] : drivers;
            var registry = new DriverRegistry(Drivers);
            Monitor = new BackendHealthMonitor(registry, Time, NullLogger<BackendHealthMonitor>.Instance);
            Lifecycle = new RuntimeLifecycle(Inventory, registry, new IdGenerator(Time), Time, NullLogger<RuntimeLifecycle>.Instance, Monitor);
        }

        public FakeTimeProvider Time { get; } = new(s_start);

        public FlippableDriver[] Drivers { get; }

        public FlippableDriver Driver => Drivers[0];

        public InMemoryInventory Inventory { get; } = new();

        public BackendHealthMonitor Monitor { get; }

        public RuntimeLifecycle Lifecycle { get; }

        public async Task<string> AddStoppedRuntimeAsync()
        {
            var runtime = new Runtime
            {
                Id = "rt_01KAAAAAAAAAAAAAAAAAAAAAAA",
                Name = "web-1",
                Type = RuntimeType.Vm,
                State = RuntimeState.Stopped,
                Backend = new RuntimeBackendRef(BackendKind.VmBackend, Driver.Name + "#web-1"),
                CreatedAt = s_start,
            };
            await Inventory.SaveRuntimeAsync(runtime, "seed", CancellationToken.None);
            return runtime.Id;
        }
    }

    [Fact]
    public async Task ProbeAllAsync_BackendStopsAnswering_StatusUnhealthyWithTimeAndDetail()
    {
        var world = new World();
        await world.Monitor.ProbeAllAsync(CancellationToken.None);
        world.Time.Advance(TimeSpan.FromSeconds(15));
        world.Driver.Fail("connection refused");

        await world.Monitor.ProbeAllAsync(CancellationToken.None);

        var status = world.Monitor.Get("fake:one")!;
        Assert.True(status.SafeMode);
        Assert.Equal(s_start.AddSeconds(15), status.DownSince);
        Assert.Equal(
            "safe mode: read-only — backend fake:one stopped answering its health probe at 2026-11-23T12:00:15Z (connection refused); mutations are refused until it recovers",
            status.SafeModeMessage);
    }

    [Fact]
    public async Task RunAsync_Interval_ProbesOnEveryTickAndKeepsTheFirstFailureTime()
    {
        var world = new World();
        using var cts = new CancellationTokenSource();
        await world.Monitor.ProbeAllAsync(CancellationToken.None);
        var loop = world.Monitor.RunAsync(cts.Token);
        Assert.Equal(1, world.Driver.Probes);

        world.Driver.Fail("timeout talking to the daemon");
        world.Time.Advance(TimeSpan.FromSeconds(15));
        await WaitForAsync(() => world.Driver.Probes == 2);
        world.Time.Advance(TimeSpan.FromSeconds(15));
        await WaitForAsync(() => world.Driver.Probes == 3);

        var status = world.Monitor.Get("fake:one")!;
        Assert.False(status.Healthy);
        Assert.Equal(s_start.AddSeconds(15), status.DownSince);
        Assert.Equal(s_start.AddSeconds(30), status.CheckedAt);

        world.Time.Advance(TimeSpan.FromSeconds(14));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(3, world.Driver.Probes);

        await cts.CancelAsync();
        await loop;
    }

    [Fact]
    public async Task ProbeAllAsync_ProbeHangs_UnhealthyAfterTheTimeout()
    {
        var world = new World();
        world.Driver.Hang = true;

        var round = world.Monitor.ProbeAllAsync(CancellationToken.None);
        await WaitForAsync(() => world.Driver.Probes == 1);
        world.Time.Advance(TimeSpan.FromSeconds(10));
        await round;

        var status = world.Monitor.Get("fake:one")!;
        Assert.True(status.SafeMode);
        Assert.Equal("no answer within 10 s", status.Detail);
    }

    [Fact]
    public async Task ProbeAllAsync_ProbeThrows_UnhealthyNotACrash()
    {
        var world = new World();
        world.Driver.Throw = new InvalidOperationException("socket closed");

        await world.Monitor.ProbeAllAsync(CancellationToken.None);

        Assert.Equal("socket closed", world.Monitor.Get("fake:one")!.Detail);
    }

    [Fact]
    public async Task RunAsync_UnhealthyBackend_RefusedWithSafeModeAndNothingRecorded()
    {
        var world = new World();
        var id = await world.AddStoppedRuntimeAsync();
        world.Driver.Fail("connection refused");
        await world.Monitor.ProbeAllAsync(CancellationToken.None);

        var ex = await Assert.ThrowsAsync<LifecycleException>(() =>
            world.Lifecycle.RunAsync(new LifecycleRequest { RuntimeId = id, Action = ActionType.Start }, null, CancellationToken.None));

        Assert.Equal("safe_mode", ex.Code);
        Assert.StartsWith("safe mode: read-only — backend fake:one stopped answering its health probe at 2026-11-23T12:00:00Z (connection refused)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, world.Driver.Mutations);
        Assert.Empty(world.Inventory.Operations);
    }

    [Fact]
    public async Task CreateAsync_UnhealthyBackend_RefusedBeforeAnythingIsRecorded()
    {
        var world = new World();
        world.Driver.Fail("connection refused");
        await world.Monitor.ProbeAllAsync(CancellationToken.None);

        var ex = await Assert.ThrowsAsync<LifecycleException>(() =>
            world.Lifecycle.CreateAsync(new RuntimeCreateRequest { Name = "web-2", Type = RuntimeType.Vm }, "agent", null, CancellationToken.None));

        Assert.Equal("safe_mode", ex.Code);
        Assert.Empty(world.Inventory.Runtimes);
        Assert.Equal(0, world.Driver.Mutations);
    }

    [Fact]
    public async Task RunAsync_BackendRecovers_MutationsAllowedAgain()
    {
        var world = new World();
        var id = await world.AddStoppedRuntimeAsync();
        world.Driver.Fail("connection refused");
        await world.Monitor.ProbeAllAsync(CancellationToken.None);
        world.Driver.Recover();
        world.Time.Advance(TimeSpan.FromSeconds(15));
        await world.Monitor.ProbeAllAsync(CancellationToken.None);

        var (operation, runtime) = await world.Lifecycle.RunAsync(new LifecycleRequest { RuntimeId = id, Action = ActionType.Start }, null, CancellationToken.None);

        Assert.Equal(RuntimeAI.Core.Operations.OperationStatus.Succeeded, operation.Status);
        Assert.Equal(RuntimeState.Running, runtime.State);
        Assert.Null(world.Monitor.Get("fake:one")!.DownSince);
    }

    [Fact]
    public async Task RunAsync_OtherBackendUnhealthy_ThisOneStillMutates()
    {
        var world = new World(new FlippableDriver("fake:one"), new FlippableDriver("fake:two"));
        var id = await world.AddStoppedRuntimeAsync();
        world.Drivers[1].Fail("gone");
        await world.Monitor.ProbeAllAsync(CancellationToken.None);

        var (operation, _) = await world.Lifecycle.RunAsync(new LifecycleRequest { RuntimeId = id, Action = ActionType.Start }, null, CancellationToken.None);

        Assert.Equal(RuntimeAI.Core.Operations.OperationStatus.Succeeded, operation.Status);
        Assert.Equal([true, false], world.Monitor.All.Select(s => s.Healthy));
    }

    [Fact]
    public async Task RunAsync_BeforeTheFirstProbe_NothingIsRefused()
    {
        var world = new World();
        var id = await world.AddStoppedRuntimeAsync();
        world.Driver.Fail("not probed yet");

        var (operation, _) = await world.Lifecycle.RunAsync(new LifecycleRequest { RuntimeId = id, Action = ActionType.Start }, null, CancellationToken.None);

        Assert.Equal(RuntimeAI.Core.Operations.OperationStatus.Succeeded, operation.Status);
        Assert.Null(world.Monitor.Get("fake:one"));
    }

    [Fact]
    public async Task ProbeAllAsync_DetailWithCredentials_Redacted()
    {
        var world = new World();
        world.Driver.Fail("cannot connect to qemu+tcp://admin:hunter2@10.0.0.5/system");

        await world.Monitor.ProbeAllAsync(CancellationToken.None);

        Assert.DoesNotContain("hunter2", world.Monitor.Get("fake:one")!.SafeModeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ZeroInterval_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackendHealthMonitor(
            new DriverRegistry([]), TimeProvider.System, NullLogger<BackendHealthMonitor>.Instance, new BackendHealthOptions { Interval = TimeSpan.Zero }));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
