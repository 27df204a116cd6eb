using System.Diagnostics;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Drivers.Libvirt.Tests.Qemu;

/// <summary>
/// Kills libvirtd while a stop is waiting on it. Destructive for the daemon, so it has its own
/// category and scripts/qemu-tier.sh runs it last, with RUNTIMEAI_LIBVIRTD_PID set to the daemon
/// it started itself (never to a libvirtd it found running).
/// </summary>
[Trait("Category", "Qemu")]
[Trait("Category", "QemuDaemonLoss")]
public sealed class QemuDaemonLossTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DaemonKilledMidCall_FailsWithUnreachableNamingTheUri()
    {
        var pidText = Environment.GetEnvironmentVariable("RUNTIMEAI_LIBVIRTD_PID");
        QemuTier.RequireEnabled();
        if (!int.TryParse(pidText, out var pid))
        {
            Assert.Skip("RUNTIMEAI_LIBVIRTD_PID is not set (scripts/qemu-tier.sh sets it to the libvirtd it starts).");
        }

        using var driver = QemuTier.NewDriver();
        var name = "rtq-loss-" + Guid.NewGuid().ToString("N")[..8];
        var created = await driver.CreateAsync("rt_loss", new RuntimeCreateRequest
        {
            Name = name,
            Type = RuntimeType.Vm,
            Spec = new RuntimeSpec { Resources = new ResourceProfile { Cpu = 1, Memory = "64Mi" } },
        }, CancellationToken.None);

        // The OS-less guest never shuts down, so the driver is polling libvirtd when it dies.
        var stop = driver.StopAsync(created.BackendRef, new StopOptions(Force: false, TimeSpan.FromSeconds(30)), CancellationToken.None);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        using (var kill = Process.Start("kill", ["-9", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(() => stop);
        output.WriteLine(ex.Message);
        Assert.Equal("unreachable", ex.Code);
        Assert.Contains(QemuTier.Uri!, ex.Message, StringComparison.Ordinal);

        // The next call tries to reconnect and says the daemon cannot be reached.
        var next = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.ObserveAsync(created.BackendRef, CancellationToken.None));
        output.WriteLine(next.Message);
        Assert.Equal("unreachable", next.Code);
        Assert.False((await driver.ProbeAsync(CancellationToken.None)).Healthy);
    }
}
