using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Drivers.Libvirt.Tests;

/// <summary>The driver against libvirt's in-process test:///default hypervisor.</summary>
public sealed class LibvirtDomainDriverTests
{
    private static readonly CancellationToken s_ct = CancellationToken.None;

    [Fact]
    public async Task Probe_Sandbox_IsHealthyAndSaysSandbox()
    {
        using var driver = Sandbox.NewDriver();
        var health = await driver.ProbeAsync(s_ct);
        Assert.True(health.Healthy, health.Detail);
        Assert.Contains("test:///default", health.Detail, StringComparison.Ordinal);
        Assert.Contains("sandbox", health.Detail, StringComparison.Ordinal);
        Assert.True(driver.IsSandbox);
        Assert.Equal("libvirt:test:///default", driver.Name);
        Assert.Equal(RuntimeType.Vm, driver.RuntimeType);
        Assert.Equal(BackendKind.VmBackend, driver.BackendKind);
    }

    [Fact]
    public async Task Create_NanoSize_RunsWithSizeTableValues()
    {
        using var driver = Sandbox.NewDriver();
        var name = Sandbox.UniqueName("create");
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name, "nano"), s_ct);

        Assert.StartsWith("libvirt:test:///default#", created.BackendRef, StringComparison.Ordinal);
        Assert.Equal(RuntimeState.Running, created.State);
        Assert.Equal(1, created.Vcpus);
        Assert.Equal(512, created.MemoryMiB);
        Assert.EndsWith($"/{name}.qcow2", created.DiskPath, StringComparison.Ordinal);

        var seen = await driver.ObserveAsync(created.BackendRef, s_ct);
        Assert.Equal(RuntimeState.Running, seen.State);
        Assert.Equal("running (booted)", seen.Reason);
        Assert.Equal(1, seen.Vcpus);
        Assert.Equal(512, seen.MemoryMiB);
        Assert.Equal(512, seen.MaxMemoryMiB);
        Assert.NotNull(seen.Uptime);
    }

    [Fact]
    public async Task Create_ResourcesOverrideSize_UsesThem()
    {
        using var driver = Sandbox.NewDriver();
        var spec = new RuntimeSpec { Size = "small", Resources = new ResourceProfile { Cpu = 2, Memory = "3Gi" } };
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("res"), spec: spec), s_ct);
        Assert.Equal(2, created.Vcpus);
        Assert.Equal(3072, created.MemoryMiB);
    }

    [Fact]
    public async Task Create_Labels_SurviveANewDriverInstance()
    {
        var name = Sandbox.UniqueName("meta");
        var runtimeId = Sandbox.NewRuntimeId();
        // test:///default forgets its state when its last connection closes: keep one open, as a
        // real libvirtd keeps its domains while our server restarts.
        using var keeper = Sandbox.NewDriver();
        await keeper.ProbeAsync(s_ct);
        string backendRef;
        using (var first = Sandbox.NewDriver())
        {
            backendRef = (await first.CreateAsync(runtimeId, Sandbox.Request(name, labels: new Dictionary<string, string> { ["owner"] = "a&b <c>" }), s_ct)).BackendRef;
        }

        // A restarted server: a fresh driver reads everything back from the domain's <metadata>.
        using var second = Sandbox.NewDriver();
        var found = Assert.Single(await second.DiscoverAsync(s_ct), r => r.Name == name);
        Assert.Equal(backendRef, found.BackendRef);
        Assert.Equal(runtimeId, found.RuntimeId);
        Assert.Equal("tenant-a", found.TenantId);
        Assert.Equal("a&b <c>", found.Labels["owner"]);
        Assert.Equal(RuntimeState.Running, found.State);
        Assert.Equal(512, found.MemoryMiB);
    }

    [Fact]
    public async Task Discover_ForeignDomain_IsImportedWithoutMetadata()
    {
        using var driver = Sandbox.NewDriver();
        // test:///default ships one domain named "test" that this driver did not create.
        var foreign = Assert.Single(await driver.DiscoverAsync(s_ct), r => r.Name == "test");
        Assert.Null(foreign.RuntimeId);
        Assert.Empty(foreign.Labels);
        Assert.Equal(2, foreign.Vcpus);
    }

    [Fact]
    public async Task Create_UnknownSize_FailsWithInvalidSize()
    {
        using var driver = Sandbox.NewDriver();
        var ex = await Sandbox.FailsWithAsync(() => driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("size"), "huge"), s_ct), "invalid_size");
        Assert.Contains("huge", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nano", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_MemoryAboveHost_FailsWithInsufficientCapacityAndLeavesNothing()
    {
        using var driver = Sandbox.NewDriver(o => o.SandboxMemoryMiB = 4096);
        var name = Sandbox.UniqueName("big");
        var ex = await Sandbox.FailsWithAsync(() => driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name, "xlarge"), s_ct), "insufficient_capacity");
        Assert.Contains("16Gi", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await driver.DiscoverAsync(s_ct), r => r.Name == name);
    }

    [Fact]
    public async Task Create_DuplicateName_FailsWithConflict()
    {
        using var driver = Sandbox.NewDriver();
        var name = Sandbox.UniqueName("dup");
        await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct);
        await Sandbox.FailsWithAsync(() => driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct), "conflict");
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("-leading")]
    [InlineData("x/y")]
    public async Task Create_InvalidName_FailsWithInvalidArgument(string name)
    {
        using var driver = Sandbox.NewDriver();
        await Sandbox.FailsWithAsync(() => driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct), "invalid_argument");
    }

    [Fact]
    public async Task Create_WrongRuntimeType_FailsWithInvalidArgument()
    {
        using var driver = Sandbox.NewDriver();
        var request = Sandbox.Request(Sandbox.UniqueName("type")) with { Type = RuntimeType.Vcluster };
        await Sandbox.FailsWithAsync(() => driver.CreateAsync(Sandbox.NewRuntimeId(), request, s_ct), "invalid_argument");
    }

    [Fact]
    public async Task Create_DefineFails_RemovesTheDiskAgain()
    {
        // An unknown domain type makes the define fail after the disk was made.
        using var driver = Sandbox.NewDriver(o => o.DomainType = "bogus");
        var name = Sandbox.UniqueName("undo");
        await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct));

        using var healthy = Sandbox.NewDriver();
        Assert.DoesNotContain(await healthy.DiscoverAsync(s_ct), r => r.Name == name);
        // Same name again works: the volume of the failed attempt is gone.
        var created = await healthy.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct);
        Assert.Equal(RuntimeState.Running, created.State);
    }

    [Fact]
    public async Task Create_WithoutStart_IsStoppedThenStarts()
    {
        using var driver = Sandbox.NewDriver(o => o.StartOnCreate = false);
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("cold")), s_ct);
        Assert.Equal(RuntimeState.Stopped, created.State);

        var started = await driver.StartAsync(created.BackendRef, s_ct);
        Assert.Equal(RuntimeState.Stopped, started.PreviousState);
        Assert.Equal(RuntimeState.Running, started.NewState);
    }

    [Fact]
    public async Task Stop_Running_ShutsDownGracefully()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("stop")), s_ct);

        var result = await driver.StopAsync(created.BackendRef, new StopOptions(Force: false, TimeSpan.FromSeconds(5)), s_ct);

        Assert.Equal(RuntimeState.Running, result.PreviousState);
        Assert.Equal(RuntimeState.Stopped, result.NewState);
        Assert.Contains("shut down gracefully", result.Notes);
        var seen = await driver.ObserveAsync(created.BackendRef, s_ct);
        Assert.Equal(RuntimeState.Stopped, seen.State);
        Assert.Equal("shut off (shutdown)", seen.Reason);
        Assert.Null(seen.Uptime);
    }

    [Fact]
    public async Task Stop_Stopped_FailsWithInvalidState()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("stop2")), s_ct);
        await driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.FromSeconds(5)), s_ct);

        var ex = await Sandbox.FailsWithAsync(() => driver.StopAsync(created.BackendRef, new StopOptions(true, TimeSpan.FromSeconds(5)), s_ct), "invalid_state");
        Assert.Contains("shut off", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_ZeroTimeoutWithoutForce_FailsWithStopTimeoutAndKeepsRunning()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("notime")), s_ct);

        var ex = await Sandbox.FailsWithAsync(() => driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.Zero), s_ct), "stop_timeout");
        Assert.Contains("still running", ex.Message, StringComparison.Ordinal);
        Assert.Equal(RuntimeState.Running, (await driver.ObserveAsync(created.BackendRef, s_ct)).State);

        var forced = await driver.StopAsync(created.BackendRef, new StopOptions(true, TimeSpan.Zero), s_ct);
        Assert.Equal(RuntimeState.Stopped, forced.NewState);
        Assert.Contains(forced.Notes, n => n.Contains("destroy", StringComparison.Ordinal));
        Assert.Equal("shut off (destroyed)", (await driver.ObserveAsync(created.BackendRef, s_ct)).Reason);
    }

    [Fact]
    public async Task Start_Running_FailsWithInvalidState()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("start")), s_ct);
        await Sandbox.FailsWithAsync(() => driver.StartAsync(created.BackendRef, s_ct), "invalid_state");
    }

    [Fact]
    public async Task Restart_Running_PowerCyclesAndRuns()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("restart")), s_ct);
        var result = await driver.RestartAsync(created.BackendRef, s_ct);
        Assert.Equal(RuntimeState.Running, result.PreviousState);
        Assert.Equal(RuntimeState.Running, result.NewState);
    }

    [Fact]
    public async Task Restart_Stopped_FailsWithInvalidState()
    {
        using var driver = Sandbox.NewDriver(o => o.StartOnCreate = false);
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("restart2")), s_ct);
        await Sandbox.FailsWithAsync(() => driver.RestartAsync(created.BackendRef, s_ct), "invalid_state");
    }

    [Fact]
    public async Task Scale_Stopped_ChangesConfigWithoutRestart()
    {
        using var driver = Sandbox.NewDriver(o => o.StartOnCreate = false);
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("scale1")), s_ct);

        var result = await driver.ScaleAsync(created.BackendRef, new ScaleTarget(2, 1024), s_ct);

        Assert.False(result.RestartRequired);
        Assert.Equal(new ScaleTarget(1, 512), result.PreviousSize);
        Assert.Equal(new ScaleTarget(2, 1024), result.NewSize);
        await driver.StartAsync(created.BackendRef, s_ct);
        var seen = await driver.ObserveAsync(created.BackendRef, s_ct);
        Assert.Equal(2, seen.Vcpus);
        Assert.Equal(1024, seen.MemoryMiB);
    }

    [Fact]
    public async Task Scale_RunningAboveMaxMemory_NeedsRestartAndSaysSo()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("scale2")), s_ct);

        var result = await driver.ScaleAsync(created.BackendRef, new ScaleTarget(1, 2048), s_ct);

        Assert.True(result.RestartRequired);
        Assert.Contains(result.Notes, n => n.Contains("next restart", StringComparison.Ordinal));
        Assert.Equal(512, (await driver.ObserveAsync(created.BackendRef, s_ct)).MemoryMiB);

        await driver.RestartAsync(created.BackendRef, s_ct);
        Assert.Equal(2048, (await driver.ObserveAsync(created.BackendRef, s_ct)).MemoryMiB);
    }

    [Fact]
    public async Task Scale_RunningBelowMax_AppliesLive()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("scale3"), "micro"), s_ct);

        var result = await driver.ScaleAsync(created.BackendRef, new ScaleTarget(2, 512), s_ct);

        var seen = await driver.ObserveAsync(created.BackendRef, s_ct);
        Assert.False(result.RestartRequired, string.Join(" | ", result.Notes));
        Assert.Equal(2, seen.Vcpus);
        Assert.Equal(512, seen.MemoryMiB);
        Assert.Equal(1024, seen.MaxMemoryMiB);
        Assert.Equal(new ScaleTarget(2, 512), result.NewSize);
        Assert.Equal(new ScaleTarget(1, 1024), result.PreviousSize);
    }

    [Fact]
    public async Task Scale_ZeroVcpus_FailsWithInvalidArgument()
    {
        using var driver = Sandbox.NewDriver();
        await Sandbox.FailsWithAsync(() => driver.ScaleAsync("whatever", new ScaleTarget(0, 512), s_ct), "invalid_argument");
    }

    [Fact]
    public async Task Snapshots_TakeListRestoreDelete()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("snap")), s_ct);

        var first = await driver.SnapshotAsync(created.BackendRef, "before-upgrade", "known good", s_ct);
        Assert.Equal("before-upgrade", first.Name);
        Assert.Equal("known good", first.Description);
        Assert.Equal(RuntimeState.Running, first.StateAtSnapshot);
        Assert.True(first.IsCurrent);

        await driver.StopAsync(created.BackendRef, new StopOptions(true, TimeSpan.FromSeconds(1)), s_ct);
        await driver.SnapshotAsync(created.BackendRef, "stopped", null, s_ct);

        var list = await driver.ListSnapshotsAsync(created.BackendRef, s_ct);
        Assert.Equal(["before-upgrade", "stopped"], list.Select(s => s.Name).Order(StringComparer.Ordinal).ToArray());
        Assert.Single(list, s => s.IsCurrent);

        var restored = await driver.RestoreSnapshotAsync(created.BackendRef, "before-upgrade", s_ct);
        Assert.Equal(RuntimeState.Stopped, restored.PreviousState);
        Assert.Equal(RuntimeState.Running, restored.NewState);

        await driver.DeleteSnapshotAsync(created.BackendRef, "stopped", s_ct);
        Assert.Equal("before-upgrade", Assert.Single(await driver.ListSnapshotsAsync(created.BackendRef, s_ct)).Name);
    }

    [Fact]
    public async Task Snapshot_UnknownName_FailsWithNotFound()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("snap2")), s_ct);
        var ex = await Sandbox.FailsWithAsync(() => driver.RestoreSnapshotAsync(created.BackendRef, "nope", s_ct), "not_found");
        Assert.Contains("nope", ex.Message, StringComparison.Ordinal);
        await Sandbox.FailsWithAsync(() => driver.DeleteSnapshotAsync(created.BackendRef, "nope", s_ct), "not_found");
    }

    [Fact]
    public async Task Snapshot_DuplicateName_FailsWithConflict()
    {
        using var driver = Sandbox.NewDriver();
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("snap3")), s_ct);
        await driver.SnapshotAsync(created.BackendRef, "one", null, s_ct);
        await Sandbox.FailsWithAsync(() => driver.SnapshotAsync(created.BackendRef, "one", null, s_ct), "conflict");
        await Sandbox.FailsWithAsync(() => driver.SnapshotAsync(created.BackendRef, "bad name<>", null, s_ct), "invalid_argument");
    }

    [Fact]
    public async Task Delete_Running_UndefinesAndRemovesDisk()
    {
        using var driver = Sandbox.NewDriver();
        var name = Sandbox.UniqueName("del");
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct);
        await driver.SnapshotAsync(created.BackendRef, "s1", null, s_ct);

        var result = await driver.DeleteAsync(created.BackendRef, new DeleteOptions(KeepDisk: false), s_ct);

        Assert.Equal(RuntimeState.Running, result.PreviousState);
        Assert.Equal(RuntimeState.Deleted, result.NewState);
        Assert.Contains(result.Notes, n => n.Contains("removed", StringComparison.Ordinal));
        await Sandbox.FailsWithAsync(() => driver.ObserveAsync(created.BackendRef, s_ct), "not_found");
        // The disk is gone too: the same name can be created again.
        await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct);
    }

    [Fact]
    public async Task Delete_KeepDisk_LeavesTheVolume()
    {
        using var driver = Sandbox.NewDriver();
        var name = Sandbox.UniqueName("keep");
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct);

        var result = await driver.DeleteAsync(created.BackendRef, new DeleteOptions(KeepDisk: true), s_ct);

        Assert.Contains(result.Notes, n => n.Contains("disk kept", StringComparison.Ordinal));
        // The kept volume blocks a new VM of the same name, and the error says why.
        var ex = await Sandbox.FailsWithAsync(() => driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct), "conflict");
        Assert.Contains(".qcow2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRuntime_EveryCall_FailsWithNotFound()
    {
        using var driver = Sandbox.NewDriver();
        var unknown = driver.BackendRefFor(Guid.NewGuid().ToString());
        await Sandbox.FailsWithAsync(() => driver.ObserveAsync(unknown, s_ct), "not_found");
        await Sandbox.FailsWithAsync(() => driver.StartAsync(unknown, s_ct), "not_found");
        await Sandbox.FailsWithAsync(() => driver.StopAsync(unknown, new StopOptions(true, TimeSpan.Zero), s_ct), "not_found");
        await Sandbox.FailsWithAsync(() => driver.ScaleAsync(unknown, new ScaleTarget(1, 512), s_ct), "not_found");
        await Sandbox.FailsWithAsync(() => driver.ListSnapshotsAsync(unknown, s_ct), "not_found");
        await Sandbox.FailsWithAsync(() => driver.DeleteAsync(unknown, new DeleteOptions(false), s_ct), "not_found");
        await Sandbox.FailsWithAsync(() => driver.ObserveAsync("no-such-domain-name", s_ct), "not_found");
        await Sandbox.FailsWithAsync(() => driver.ObserveAsync("libvirt:qemu:///system#" + Guid.NewGuid(), s_ct), "not_found");
    }

    [Fact]
    public async Task UnreachableUri_FailsWithUnreachableNamingTheUri()
    {
        const string uri = "qemu+unix:///system?socket=/nonexistent/runtimeai/libvirt-sock";
        using var driver = new LibvirtDomainDriver(new LibvirtOptions { Uri = uri });

        var ex = await Sandbox.FailsWithAsync(() => driver.DiscoverAsync(s_ct), "unreachable");
        Assert.Contains(uri, ex.Message, StringComparison.Ordinal);
        var health = await driver.ProbeAsync(s_ct);
        Assert.False(health.Healthy);
        Assert.Contains(uri, health.Detail, StringComparison.Ordinal);
        Assert.False(driver.IsSandbox);
    }

    [Fact]
    public async Task Capacity_Sandbox_SubtractsRunningVms()
    {
        using var driver = Sandbox.NewDriver(o => o.SandboxMemoryMiB = 1_000_000);
        var before = await driver.GetCapacityAsync(s_ct);
        await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("cap"), "micro"), s_ct);
        var after = await driver.GetCapacityAsync(s_ct);

        Assert.Equal(16, after.Cpus);
        Assert.Equal(1_000_000, after.TotalMemoryMiB);
        Assert.True(after.FreeMemoryMiB <= before.FreeMemoryMiB - 1024 || after.FreeMemoryMiB < before.FreeMemoryMiB,
            $"free memory {before.FreeMemoryMiB} -> {after.FreeMemoryMiB}");
    }

    [Fact]
    public async Task Events_StartAndStop_AreRaised()
    {
        using var driver = Sandbox.NewDriver(o => o.StartOnCreate = false);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<DriverEvent>();
        driver.RuntimeEventObserved += (_, e) => seen.Enqueue(e);
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("evt")), s_ct);

        await driver.StartAsync(created.BackendRef, s_ct);
        await driver.StopAsync(created.BackendRef, new StopOptions(true, TimeSpan.FromSeconds(1)), s_ct);

        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (DateTimeOffset.UtcNow < deadline && !(seen.Any(e => e.Type == "lifecycle.started") && seen.Any(e => e.Type == "lifecycle.stopped")))
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        // Each event carries the state the domain is in when it is raised, so the last one says "stopped".
        var mine = seen.Where(e => e.BackendRef == created.BackendRef).ToArray();
        Assert.Contains(mine, e => e.Type == "lifecycle.started");
        Assert.Contains(mine, e => e.Type == "lifecycle.stopped");
        Assert.Equal(RuntimeState.Stopped, mine[^1].NewState);
    }

    [Fact]
    public async Task Events_DeliveredAfterALaterChange_CarryTheStateNow()
    {
        using var driver = Sandbox.NewDriver(o => o.StartOnCreate = false);
        var name = Sandbox.UniqueName("late");
        var seen = new System.Collections.Concurrent.ConcurrentQueue<DriverEvent>();
        using var held = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        driver.RuntimeEventObserved += (_, e) =>
        {
            seen.Enqueue(e);
            if (e.Type == "lifecycle.defined" && e.Detail?.StartsWith(name + ":", StringComparison.Ordinal) == true)
            {
                // A slow subscriber holds the pump while the domain is started and stopped.
                held.Release();
                release.Wait(TimeSpan.FromSeconds(10));
            }
        };

        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct);
        Assert.True(await held.WaitAsync(TimeSpan.FromSeconds(10), s_ct), "no event for the define");
        await driver.StartAsync(created.BackendRef, s_ct);
        await driver.StopAsync(created.BackendRef, new StopOptions(true, TimeSpan.FromSeconds(1)), s_ct);
        var stoppedAt = DateTimeOffset.UtcNow;
        await Task.Delay(200, s_ct);
        release.Release();

        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (DateTimeOffset.UtcNow < deadline && !seen.Any(e => e.BackendRef == created.BackendRef && e.Type == "lifecycle.stopped"))
        {
            await Task.Delay(50, s_ct);
        }

        // The start's event reached the subscriber after the stop: it carries "stopped", stamped after the stop.
        var started = Assert.Single(seen, e => e.BackendRef == created.BackendRef && e.Type == "lifecycle.started");
        Assert.Equal(RuntimeState.Stopped, started.NewState);
        Assert.True(started.Ts >= stoppedAt, $"stamped {started.Ts:O}, the stop ended {stoppedAt:O}");
        Assert.Equal(RuntimeState.Stopped, Assert.Single(seen, e => e.BackendRef == created.BackendRef && e.Type == "lifecycle.stopped").NewState);
    }

    [Fact]
    public async Task Observe_UsesTheInjectedClock()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var driver = Sandbox.NewDriver(time: time);
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("clock")), s_ct);

        time.Advance(TimeSpan.FromSeconds(90));
        var seen = await driver.ObserveAsync(created.BackendRef, s_ct);

        Assert.Equal(time.GetUtcNow(), seen.ObservedAt);
        Assert.Equal(TimeSpan.FromSeconds(90), seen.Uptime);
    }

    [Fact]
    public async Task Scale_RunningBeyondVcpuSlots_NeedsRestartThenApplies()
    {
        using var driver = Sandbox.NewDriver(o => o.MaxVcpus = 1);
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(Sandbox.UniqueName("slots")), s_ct);

        var result = await driver.ScaleAsync(created.BackendRef, new ScaleTarget(2, 512), s_ct);

        Assert.True(result.RestartRequired);
        Assert.Contains(result.Notes, n => n.Contains("hot-pluggable", StringComparison.Ordinal));
        Assert.Equal(1, (await driver.ObserveAsync(created.BackendRef, s_ct)).Vcpus);
        await driver.RestartAsync(created.BackendRef, s_ct);
        Assert.Equal(2, (await driver.ObserveAsync(created.BackendRef, s_ct)).Vcpus);
    }

    [Fact]
    public async Task Discover_AfterStop_ReportsStopped()
    {
        using var driver = Sandbox.NewDriver();
        var name = Sandbox.UniqueName("disc");
        var created = await driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(name), s_ct);
        await driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.FromSeconds(5)), s_ct);

        Assert.Equal(RuntimeState.Stopped, Assert.Single(await driver.DiscoverAsync(s_ct), r => r.Name == name).State);
        // Name and bare UUID work as references too.
        Assert.Equal(RuntimeState.Stopped, (await driver.ObserveAsync(name, s_ct)).State);
        Assert.Equal(RuntimeState.Stopped, (await driver.ObserveAsync(created.BackendRef.Split('#')[1], s_ct)).State);
    }

    [Fact]
    public async Task Create_Concurrently_OnAFreshPool_AllSucceed()
    {
        using var driver = Sandbox.NewDriver(o => o.StoragePool = "rt-pool-" + Guid.NewGuid().ToString("N")[..8]);
        var names = Enumerable.Range(0, 6).Select(i => Sandbox.UniqueName($"par{i}")).ToArray();

        var created = await Task.WhenAll(names.Select(n => driver.CreateAsync(Sandbox.NewRuntimeId(), Sandbox.Request(n), s_ct)));

        Assert.Equal(6, created.Select(c => c.BackendRef).Distinct().Count());
        Assert.All(created, c => Assert.Equal(RuntimeState.Running, c.State));
    }

    [Fact]
    public async Task Dispose_ThenCall_Throws()
    {
        var driver = Sandbox.NewDriver();
        driver.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => driver.ProbeAsync(s_ct));
    }
}
