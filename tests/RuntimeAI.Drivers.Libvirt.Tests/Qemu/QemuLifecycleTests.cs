using System.Collections.Concurrent;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Drivers.Libvirt.Tests.Qemu;

/// <summary>
/// The real tier: a 64 MiB VM with an empty qcow2 disk and no OS under qemu (KVM or TCG), every
/// step cross-checked with virsh. Runs only from scripts/qemu-tier.sh (RUNTIMEAI_QEMU_URI set).
/// </summary>
[Trait("Category", "Qemu")]
public sealed class QemuLifecycleTests(ITestOutputHelper output)
{
    private static readonly CancellationToken s_ct = CancellationToken.None;

    private static RuntimeCreateRequest TinyVm(string name, NetworkingProfile? networking = null) => new()
    {
        Name = name,
        Type = RuntimeType.Vm,
        TenantId = "tenant-q",
        Labels = new Dictionary<string, string> { ["tier"] = "qemu" },
        Spec = new RuntimeSpec { Resources = new ResourceProfile { Cpu = 1, Memory = "64Mi" }, Networking = networking },
    };

    private void Step(string what) => output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {what}");

    [Fact]
    public async Task Lifecycle_EveryStep_MatchesVirsh()
    {
        QemuTier.RequireEnabled();

        using var driver = QemuTier.NewDriver();
        var events = new ConcurrentQueue<DriverEvent>();
        driver.RuntimeEventObserved += (_, e) => events.Enqueue(e);
        var name = "rtq-" + Guid.NewGuid().ToString("N")[..10];
        var runtimeId = "rt_" + Guid.NewGuid().ToString("N")[..12];
        string? diskPath = null;
        try
        {
            Step("create");
            var created = await driver.CreateAsync(runtimeId, TinyVm(name), s_ct);
            diskPath = created.DiskPath;
            Assert.Equal(RuntimeState.Running, created.State);
            Assert.Equal("running", QemuTier.VirshOk("domstate", name));
            if (Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_DOMAIN_TYPE") is { Length: > 0 } accel)
            {
                // kvm when /dev/kvm works, else TCG ('qemu'): the accelerator the script chose is the one in use.
                Assert.StartsWith($"<domain type='{accel}'", QemuTier.VirshOk("dumpxml", name), StringComparison.Ordinal);
            }

            Assert.Equal("1", QemuTier.DomInfo(name, "CPU(s)"));
            Assert.Equal("65536 KiB", QemuTier.DomInfo(name, "Max memory"));
            Assert.Contains($"{name}.qcow2", QemuTier.VirshOk("vol-list", "runtimeai-qemu-tier"), StringComparison.Ordinal);
            Assert.True(File.Exists(diskPath), $"disk {diskPath} exists");
            Assert.Contains("file format: qcow2", QemuTier.VirshOk("vol-dumpxml", diskPath!).Replace("<format type='qcow2'/>", "file format: qcow2", StringComparison.Ordinal), StringComparison.Ordinal);

            Step("observe");
            var seen = await driver.ObserveAsync(created.BackendRef, s_ct);
            Assert.Equal(RuntimeState.Running, seen.State);
            Assert.Equal(QemuTier.VirshOk("domstate", name, "--reason"), seen.Reason);
            Assert.Equal(1, seen.Vcpus);
            Assert.Equal(64, seen.MaxMemoryMiB);

            Step("metadata survives: virsh reads it back");
            Assert.Contains(runtimeId, QemuTier.VirshOk("metadata", name, "--uri", DomainXml.MetadataNamespace), StringComparison.Ordinal);
            var discovered = Assert.Single(await driver.DiscoverAsync(s_ct), d => d.Name == name);
            Assert.Equal(runtimeId, discovered.RuntimeId);
            Assert.Equal("qemu", discovered.Labels["tier"]);

            Step("snapshot s1 (running)");
            var s1 = await driver.SnapshotAsync(created.BackendRef, "s1", "fresh boot", s_ct);
            Assert.Equal(RuntimeState.Running, s1.StateAtSnapshot);
            Assert.Equal("s1", QemuTier.VirshOk("snapshot-list", name, "--name"));
            Assert.Equal(["s1"], (await driver.ListSnapshotsAsync(created.BackendRef, s_ct)).Select(s => s.Name));

            Step("stop without force: the OS-less guest ignores ACPI");
            var timeout = await Assert.ThrowsAsync<RuntimeDriverException>(() =>
                driver.StopAsync(created.BackendRef, new StopOptions(Force: false, TimeSpan.FromSeconds(2)), s_ct));
            Assert.Equal("stop_timeout", timeout.Code);
            Assert.Equal("running", QemuTier.VirshOk("domstate", name));

            Step("stop with force");
            var stopped = await driver.StopAsync(created.BackendRef, new StopOptions(Force: true, TimeSpan.FromSeconds(2)), s_ct);
            Assert.Equal(RuntimeState.Stopped, stopped.NewState);
            Assert.Equal("shut off", QemuTier.VirshOk("domstate", name));
            Assert.Equal(QemuTier.VirshOk("domstate", name, "--reason"), (await driver.ObserveAsync(created.BackendRef, s_ct)).Reason);

            Step("stop a stopped VM");
            var invalid = await Assert.ThrowsAsync<RuntimeDriverException>(() =>
                driver.StopAsync(created.BackendRef, new StopOptions(true, TimeSpan.FromSeconds(1)), s_ct));
            Assert.Equal("invalid_state", invalid.Code);

            Step("restore s1 (back to running)");
            var restored = await driver.RestoreSnapshotAsync(created.BackendRef, "s1", s_ct);
            Assert.Equal(RuntimeState.Stopped, restored.PreviousState);
            Assert.Equal(RuntimeState.Running, restored.NewState);
            Assert.Equal("running", QemuTier.VirshOk("domstate", name));

            Step("scale vCPUs 1 -> 2");
            var vcpus = await driver.ScaleAsync(created.BackendRef, new ScaleTarget(2, 64), s_ct);
            output.WriteLine("  " + string.Join(" | ", vcpus.Notes));
            if (vcpus.RestartRequired)
            {
                Assert.Equal("1", QemuTier.DomInfo(name, "CPU(s)"));
                Assert.Equal("2", QemuTier.VirshOk("vcpucount", name, "--config", "--current"));
            }
            else
            {
                Assert.Equal("2", QemuTier.DomInfo(name, "CPU(s)"));
                Assert.Equal(2, (await driver.ObserveAsync(created.BackendRef, s_ct)).Vcpus);
            }

            Step("scale memory 64 -> 128 MiB (above the running maximum: needs a restart)");
            var memory = await driver.ScaleAsync(created.BackendRef, new ScaleTarget(2, 128), s_ct);
            output.WriteLine("  " + string.Join(" | ", memory.Notes));
            Assert.True(memory.RestartRequired);
            Assert.Equal("65536 KiB", QemuTier.DomInfo(name, "Max memory"));
            Assert.Contains("<memory unit='KiB'>131072</memory>", QemuTier.VirshOk("dumpxml", name, "--inactive"), StringComparison.Ordinal);

            Step("restart applies the pending size");
            var restarted = await driver.RestartAsync(created.BackendRef, s_ct);
            Assert.Equal(RuntimeState.Running, restarted.NewState);
            Assert.Equal("running", QemuTier.VirshOk("domstate", name));
            Assert.Equal("131072 KiB", QemuTier.DomInfo(name, "Max memory"));
            Assert.Equal("2", QemuTier.DomInfo(name, "CPU(s)"));
            var after = await driver.ObserveAsync(created.BackendRef, s_ct);
            Assert.Equal(128, after.MaxMemoryMiB);
            Assert.Equal(2, after.Vcpus);
            Assert.True(after.CpuTimeNs > 0);

            Step("delete snapshot s1");
            await driver.DeleteSnapshotAsync(created.BackendRef, "s1", s_ct);
            Assert.Equal("", QemuTier.VirshOk("snapshot-list", name, "--name"));
            var unknownSnapshot = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.RestoreSnapshotAsync(created.BackendRef, "s1", s_ct));
            Assert.Equal("not_found", unknownSnapshot.Code);

            Step("snapshot s2, then delete the VM with it");
            await driver.SnapshotAsync(created.BackendRef, "s2", null, s_ct);
            var deleted = await driver.DeleteAsync(created.BackendRef, new DeleteOptions(KeepDisk: false), s_ct);
            Assert.Equal(RuntimeState.Deleted, deleted.NewState);
            Assert.NotEqual(0, QemuTier.Virsh("dominfo", name).ExitCode);
            Assert.False(File.Exists(diskPath), $"disk {diskPath} removed");
            var gone = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.ObserveAsync(created.BackendRef, s_ct));
            Assert.Equal("not_found", gone.Code);

            Step("lifecycle events arrived");
            var deadline = DateTimeOffset.UtcNow.AddSeconds(5);
            while (DateTimeOffset.UtcNow < deadline && !events.Any(e => e.Type == "lifecycle.undefined"))
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            var mine = events.Where(e => e.BackendRef == created.BackendRef).Select(e => e.Type).ToArray();
            output.WriteLine("  events: " + string.Join(", ", mine));
            Assert.Contains("lifecycle.started", mine);
            Assert.Contains("lifecycle.stopped", mine);
            Assert.Contains("lifecycle.undefined", mine);
        }
        finally
        {
            // Leave nothing behind even when an assertion failed half-way.
            QemuTier.Virsh("destroy", name);
            QemuTier.Virsh("undefine", name, "--snapshots-metadata", "--managed-save");
            if (diskPath is not null)
            {
                QemuTier.Virsh("vol-delete", diskPath);
            }
        }
    }

    [Fact]
    public async Task Create_StartFails_LeavesNothingBehind()
    {
        QemuTier.RequireEnabled();

        // The VM asks for networking on a libvirt network that does not exist: define works, start fails.
        using var driver = QemuTier.NewDriver(o => o.Network = "runtimeai-no-such-network");
        var name = "rtq-fail-" + Guid.NewGuid().ToString("N")[..8];
        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(() =>
            driver.CreateAsync("rt_fail", TinyVm(name, new NetworkingProfile { Exposure = "private" }), s_ct));
        output.WriteLine(ex.Message);
        Assert.NotEqual(0, QemuTier.Virsh("dominfo", name).ExitCode);
        Assert.DoesNotContain($"{name}.qcow2", QemuTier.VirshOk("vol-list", "runtimeai-qemu-tier"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInput_GivesClearErrors()
    {
        QemuTier.RequireEnabled();

        using var driver = QemuTier.NewDriver();
        var capacity = await driver.GetCapacityAsync(s_ct);
        Assert.True(capacity.Cpus >= 1 && capacity.FreeMemoryMiB > 0 && capacity.TotalMemoryMiB >= capacity.FreeMemoryMiB, capacity.ToString());
        Assert.False(driver.IsSandbox);

        var huge = TinyVm("rtq-huge-" + Guid.NewGuid().ToString("N")[..8]) with
        {
            Spec = new RuntimeSpec { Resources = new ResourceProfile { Memory = "64Ti" } },
        };
        var tooBig = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.CreateAsync("rt_huge", huge, s_ct));
        Assert.Equal("insufficient_capacity", tooBig.Code);
        Assert.NotEqual(0, QemuTier.Virsh("dominfo", huge.Name).ExitCode);

        var unknown = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.StartAsync(driver.BackendRefFor(Guid.NewGuid().ToString()), s_ct));
        Assert.Equal("not_found", unknown.Code);
    }
}
