using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Drivers.Libvirt;

/// <summary>
/// One libvirt connection the VM driver serves. Configure one instance per URI; several drivers
/// (e.g. <c>qemu:///system</c> and <c>qemu+ssh://host2/system</c>) can run side by side.
/// </summary>
public sealed class LibvirtOptions
{
    /// <summary>The libvirt connection URI, e.g. <c>qemu:///system</c>, <c>qemu+ssh://user@host/system</c> or the in-process sandbox <c>test:///default</c>.</summary>
    public string Uri { get; set; } = "test:///default";

    /// <summary>
    /// Directory (on the libvirt host) under which the driver keeps its storage pool
    /// (<c>{DataDir}/pool</c>). The qemu user must be able to traverse it.
    /// </summary>
    public string DataDir { get; set; } = "/var/lib/runtimeai/libvirt";

    /// <summary>Name of the directory storage pool the driver creates (or reuses) for VM disks.</summary>
    public string StoragePool { get; set; } = "runtimeai";

    /// <summary>Virtual size of the qcow2 disk given to each new VM (the file starts sparse).</summary>
    public long DiskSizeMiB { get; set; } = 1024;

    /// <summary>How long a restart waits for the guest to shut down gracefully.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether a restart may power the VM off when the graceful shutdown does not finish within
    /// <see cref="StopTimeout"/>. Off by default: like a stop without force, the restart then fails
    /// with <c>stop_timeout</c> and leaves the VM running.
    /// </summary>
    public bool RestartForcesAfterTimeout { get; set; }

    /// <summary>Start the VM right after defining it (a failed start undefines it again).</summary>
    public bool StartOnCreate { get; set; } = true;

    /// <summary>Size used when a create request names neither a size nor resources.</summary>
    public string DefaultSize { get; set; } = "nano";

    /// <summary>
    /// Upper bound of vCPUs a VM can grow to without a restart (vCPU hotplug). 0 means the host's
    /// CPU count capped at 8. A VM is defined with <c>max(requested, this)</c> vCPU slots.
    /// </summary>
    public int MaxVcpus { get; set; }

    /// <summary>Domain type (<c>kvm</c>, <c>qemu</c>, <c>test</c>); null picks the best the host offers (kvm, else qemu TCG).</summary>
    public string? DomainType { get; set; }

    /// <summary>
    /// Libvirt network to attach when a create request asks for networking; null attaches
    /// user-mode (NAT, outbound only) networking, which needs no host setup.
    /// </summary>
    public string? Network { get; set; }

    /// <summary>
    /// Host memory the sandbox pretends to have. libvirt's <c>test:///default</c> reports a few MiB
    /// free, so for <c>test://</c> URIs capacity is this figure minus the memory of running VMs.
    /// </summary>
    public long SandboxMemoryMiB { get; set; } = 64 * 1024;

    /// <summary>How often state is polled while waiting for a graceful shutdown.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>True when <see cref="Uri"/> points at libvirt's in-process test driver.</summary>
    public bool IsSandbox => Uri.StartsWith("test:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks every setting and reports all problems at once.</summary>
    /// <exception cref="ArgumentException">One or more settings are invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Uri) || !Uri.Contains(':', StringComparison.Ordinal))
        {
            errors.Add($"Uri '{Uri}' is not a libvirt URI (e.g. qemu:///system, test:///default).");
        }

        if (string.IsNullOrWhiteSpace(DataDir) || !DataDir.StartsWith('/'))
        {
            errors.Add($"DataDir '{DataDir}' must be an absolute path.");
        }

        if (string.IsNullOrWhiteSpace(StoragePool))
        {
            errors.Add("StoragePool must not be empty.");
        }

        if (DiskSizeMiB < 1)
        {
            errors.Add("DiskSizeMiB must be at least 1.");
        }

        if (StopTimeout < TimeSpan.Zero)
        {
            errors.Add("StopTimeout must not be negative.");
        }

        if (!SizeTable.TryGet(DefaultSize, out _))
        {
            errors.Add($"DefaultSize '{DefaultSize}' is not one of {string.Join(", ", SizeTable.Names)}.");
        }

        if (MaxVcpus < 0)
        {
            errors.Add("MaxVcpus must not be negative.");
        }

        if (SandboxMemoryMiB < 1)
        {
            errors.Add("SandboxMemoryMiB must be at least 1.");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            errors.Add("PollInterval must be positive.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid libvirt options: " + string.Join(" ", errors));
        }
    }
}
