using System.Globalization;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

// Part of LibvirtDomainDriver (see LibvirtDomainDriver.cs).
public sealed partial class LibvirtDomainDriver
{
    /// <inheritdoc />
    public Task<RuntimeObservation> ObserveAsync(string backendRef, CancellationToken cancellationToken) =>
        RunAsync("observe", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            var (state, reason) = GetState(domain);
            LibvirtErrors.Check(LibvirtNative.virDomainGetInfo(domain, out var info));
            var active = DomainStates.IsActive(state);
            var uuid = LibvirtSession.UuidOf(domain);
            var now = _time.GetUtcNow();
            TimeSpan? uptime = active && _startedAt.TryGetValue(uuid, out var started) ? now - started : null;
            return new RuntimeObservation
            {
                State = DomainStates.ToRuntimeState(state),
                Reason = DomainStates.Describe(state, reason),
                Vcpus = info.NrVirtCpu,
                MemoryMiB = (long)(info.MemoryKiB.Value / 1024),
                MaxMemoryMiB = (long)(info.MaxMemKiB.Value / 1024),
                CpuTimeNs = info.CpuTimeNs,
                MemoryUsedMiB = active ? GuestMemoryUsedMiB(domain) : null,
                Uptime = uptime,
                ObservedAt = now,
            };
        }, cancellationToken);

    private static unsafe long? GuestMemoryUsedMiB(DomainHandle domain)
    {
        const int unused = 4, available = 5;
        var stats = stackalloc VirDomainMemoryStat[LibvirtNative.VIR_DOMAIN_MEMORY_STAT_NR];
        var count = LibvirtNative.virDomainMemoryStats(domain, stats, LibvirtNative.VIR_DOMAIN_MEMORY_STAT_NR, 0);
        if (count < 0)
        {
            // Not every hypervisor (nor a guest without a balloon driver) reports memory stats.
            LibvirtNative.virResetLastError();
            return null;
        }

        ulong? free = null, total = null;
        for (var i = 0; i < count; i++)
        {
            switch (stats[i].Tag)
            {
                case unused: free = stats[i].Value; break;
                case available: total = stats[i].Value; break;
            }
        }

        return free is { } f && total is { } t && t >= f ? (long)((t - f) / 1024) : null;
    }

    /// <inheritdoc />
    public Task<HostCapacity> GetCapacityAsync(CancellationToken cancellationToken) =>
        RunAsync("read capacity", conn =>
        {
            LibvirtErrors.Check(LibvirtNative.virNodeGetInfo(conn, out var node));
            var cpus = (int)node.Cpus;
            if (_options.IsSandbox)
            {
                // test:///default reports a few MiB free; the sandbox pretends to be a host of SandboxMemoryMiB.
                long used = 0;
                foreach (var domain in LibvirtSession.ListAllDomains(conn))
                {
                    using (domain)
                    {
                        if (LibvirtNative.virDomainGetInfo(domain, out var info) == 0 && DomainStates.IsActive(info.State))
                        {
                            used += (long)(info.MemoryKiB.Value / 1024);
                        }
                    }
                }

                return new HostCapacity(cpus, _options.SandboxMemoryMiB, Math.Max(0, _options.SandboxMemoryMiB - used));
            }

            var free = LibvirtNative.virNodeGetFreeMemory(conn);
            if (free == 0)
            {
                throw LibvirtErrors.Last("virNodeGetFreeMemory");
            }

            return new HostCapacity(cpus, (long)(node.MemoryKiB.Value / 1024), (long)(free / (1024 * 1024)));
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<BackendHealth> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var version = await RunAsync("probe", conn =>
            {
                LibvirtErrors.Check(LibvirtNative.virConnectGetLibVersion(conn, out var v));
                return v.Value;
            }, cancellationToken).ConfigureAwait(false);
            var text = string.Create(CultureInfo.InvariantCulture, $"{version / 1000000}.{version / 1000 % 1000}.{version % 1000}");
            return new BackendHealth(true, $"libvirt {text} at {_options.Uri}{(IsSandbox ? " (sandbox: libvirt's in-process test driver, nothing is real)" : "")}");
        }
        catch (RuntimeDriverException ex)
        {
            return new BackendHealth(false, ex.Message);
        }
    }
}
