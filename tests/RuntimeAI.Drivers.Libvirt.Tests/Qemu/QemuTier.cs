using System.Diagnostics;

namespace RuntimeAI.Drivers.Libvirt.Tests.Qemu;

/// <summary>
/// Settings of the real-hypervisor tier, read from the environment scripts/qemu-tier.sh sets.
/// Without RUNTIMEAI_QEMU_URI the tier's tests are skipped with the reason, and the normal run
/// filters them out with <c>--filter Category!=Qemu</c> anyway.
/// </summary>
internal static class QemuTier
{
    internal static string? Uri => Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_URI");

    /// <summary>Skips the calling test, with the reason, when the tier's hypervisor is not configured.</summary>
    internal static void RequireEnabled() =>
        Assert.SkipWhen(string.IsNullOrEmpty(Uri), "RUNTIMEAI_QEMU_URI is not set. Run scripts/qemu-tier.sh to exercise a real qemu/KVM hypervisor.");

    internal static LibvirtDomainDriver NewDriver(Action<LibvirtOptions>? configure = null)
    {
        var options = new LibvirtOptions
        {
            Uri = Uri!,
            DataDir = Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_DATADIR") ?? "/var/lib/runtimeai-qemu-tier/data",
            DomainType = Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_DOMAIN_TYPE"),
            StoragePool = "runtimeai-qemu-tier",
            DiskSizeMiB = 64,
            MaxVcpus = 2,
            StopTimeout = TimeSpan.FromSeconds(3),
            RestartForcesAfterTimeout = true,
        };
        configure?.Invoke(options);
        return new LibvirtDomainDriver(options);
    }

    /// <summary>Runs the real client, <c>virsh -c URI ...</c>, and returns its stdout.</summary>
    internal static (int ExitCode, string Out, string Err) Virsh(params string[] args)
    {
        var psi = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Uri!);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit(60_000);
        return (p.ExitCode, stdout.Result.Trim(), stderr.Result.Trim());
    }

    internal static string VirshOk(params string[] args)
    {
        var (code, stdout, stderr) = Virsh(args);
        Assert.True(code == 0, $"virsh {string.Join(' ', args)} failed ({code}): {stderr}");
        return stdout;
    }

    /// <summary>One field of <c>virsh dominfo</c>, e.g. "CPU(s)" or "Max memory".</summary>
    internal static string DomInfo(string name, string field)
    {
        foreach (var line in VirshOk("dominfo", name).Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == field)
            {
                return line[(colon + 1)..].Trim();
            }
        }

        throw new InvalidOperationException($"virsh dominfo {name} has no field {field}");
    }
}
