using System.Globalization;
using System.Runtime.InteropServices;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

// Part of LibvirtDomainDriver (see LibvirtDomainDriver.cs).
public sealed partial class LibvirtDomainDriver
{
    /// <inheritdoc />
    public Task<MutationResult> StartAsync(string backendRef, CancellationToken cancellationToken) =>
        RunAsync("start", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            var (state, reason) = GetState(domain);
            if (DomainStates.IsActive(state))
            {
                throw Fail("invalid_state", $"VM '{LibvirtSession.NameOf(domain)}' is already {DomainStates.Describe(state, reason)}; nothing to start.");
            }

            LibvirtErrors.Check(LibvirtNative.virDomainCreate(domain));
            _startedAt[LibvirtSession.UuidOf(domain)] = _time.GetUtcNow();
            return new MutationResult { PreviousState = DomainStates.ToRuntimeState(state), NewState = CurrentState(domain) };
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<MutationResult> StopAsync(string backendRef, StopOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (previous, notes) = await ShutdownAsync(backendRef, options.Timeout, options.Force, "stop", cancellationToken).ConfigureAwait(false);
        var now = await RunAsync("stop", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            return CurrentState(domain);
        }, cancellationToken).ConfigureAwait(false);
        return new MutationResult { PreviousState = previous, NewState = now, Notes = notes };
    }

    /// <inheritdoc />
    public async Task<MutationResult> RestartAsync(string backendRef, CancellationToken cancellationToken)
    {
        // A power cycle (shutdown + start) rather than a guest reboot, so that configuration changes
        // pending from a scale (RestartRequired) take effect.
        var (previous, notes) = await ShutdownAsync(backendRef, _options.StopTimeout, _options.RestartForcesAfterTimeout, "restart", cancellationToken).ConfigureAwait(false);
        return await RunAsync("restart", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            LibvirtErrors.Check(LibvirtNative.virDomainCreate(domain));
            _startedAt[LibvirtSession.UuidOf(domain)] = _time.GetUtcNow();
            return new MutationResult
            {
                PreviousState = previous,
                NewState = CurrentState(domain),
                Notes = [.. notes, "power-cycled (shutdown, then start) so pending configuration changes apply"],
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(RuntimeState Previous, IReadOnlyList<string> Notes)> ShutdownAsync(
        string backendRef, TimeSpan timeout, bool force, string operation, CancellationToken cancellationToken)
    {
        var (previous, name, requested) = await RunAsync(operation, conn =>
        {
            using var domain = Lookup(conn, backendRef);
            var (state, reason) = GetState(domain);
            var vmName = LibvirtSession.NameOf(domain);
            if (!DomainStates.IsActive(state))
            {
                throw Fail("invalid_state", $"VM '{vmName}' is {DomainStates.Describe(state, reason)}; it is not running, so there is nothing to {operation}.");
            }

            // A shutdown request the hypervisor refuses (e.g. paused guest) is treated like a timeout.
            var ok = timeout > TimeSpan.Zero && LibvirtNative.virDomainShutdown(domain) == 0;
            if (!ok)
            {
                LibvirtNative.virResetLastError();
            }

            return (DomainStates.ToRuntimeState(state), vmName, ok);
        }, cancellationToken).ConfigureAwait(false);

        if (requested && await WaitForShutoffAsync(backendRef, timeout, cancellationToken).ConfigureAwait(false))
        {
            return (previous, ["shut down gracefully"]);
        }

        if (!force)
        {
            var seconds = timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
            var why = requested
                ? $"did not shut down within {seconds}s (the guest ignored the ACPI power button: it may have no OS or no ACPI handler)"
                : timeout <= TimeSpan.Zero
                    ? "was not asked to shut down gracefully (timeout 0s)"
                    : "refused the graceful shutdown request";
            throw Fail("stop_timeout", $"VM '{name}' {why}. It is still running; retry with force to power it off.");
        }

        await RunAsync(operation, conn =>
        {
            using var domain = Lookup(conn, backendRef);
            if (DomainStates.IsActive(GetState(domain).State))
            {
                LibvirtErrors.Check(LibvirtNative.virDomainDestroy(domain));
            }

            return 0;
        }, cancellationToken).ConfigureAwait(false);
        return (previous, [$"graceful shutdown did not finish within {timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s; powered off (destroy)"]);
    }

    private async Task<bool> WaitForShutoffAsync(string backendRef, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        while (true)
        {
            var active = await RunAsync("stop", conn =>
            {
                using var domain = Lookup(conn, backendRef);
                return DomainStates.IsActive(GetState(domain).State);
            }, cancellationToken).ConfigureAwait(false);
            if (!active)
            {
                return true;
            }

            if (_time.GetElapsedTime(start) >= timeout)
            {
                return false;
            }

            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<MutationResult> ScaleAsync(string backendRef, ScaleTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Vcpus < 1 || target.MemoryMiB < 16)
        {
            throw Fail("invalid_argument", $"Cannot scale to {target.Vcpus} vCPUs / {target.MemoryMiB} MiB: at least 1 vCPU and 16 MiB are needed.");
        }

        var capacity = await GetCapacityAsync(cancellationToken).ConfigureAwait(false);
        return await RunAsync("scale", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            var name = LibvirtSession.NameOf(domain);
            var (state, _) = GetState(domain);
            var active = DomainStates.IsActive(state);
            var config = Describe(domain, inactive: true);
            var live = active ? Describe(domain, inactive: false) : config;
            var previous = new ScaleTarget(live.Vcpus, live.MemoryMiB);
            if (target.Vcpus > capacity.Cpus)
            {
                throw Fail("insufficient_capacity", $"VM '{name}' cannot get {target.Vcpus} vCPUs: the host at {_options.Uri} has {capacity.Cpus}.");
            }

            if (target.MemoryMiB - previous.MemoryMiB > capacity.FreeMemoryMiB)
            {
                throw Fail("insufficient_capacity",
                    $"VM '{name}' cannot grow to {target.MemoryMiB} MiB: the host at {_options.Uri} has only {capacity.FreeMemoryMiB} MiB free.");
            }

            var notes = new List<string>();
            var restartRequired = false;
            var undo = new List<Action>();
            try
            {
                if (target.Vcpus != previous.Vcpus)
                {
                    restartRequired |= ScaleVcpus(domain, active, target.Vcpus, config, notes, undo);
                }

                if (target.MemoryMiB != previous.MemoryMiB)
                {
                    restartRequired |= ScaleMemory(domain, active, target.MemoryMiB, config, notes, undo);
                }
            }
            catch
            {
                // Never a silent partial change: put back what already changed, then report.
                for (var i = undo.Count - 1; i >= 0; i--)
                {
                    try
                    {
                        undo[i]();
                    }
                    catch (LibvirtException)
                    {
                    }
                }

                throw;
            }

            if (notes.Count == 0)
            {
                notes.Add("already at the requested size");
            }

            var after = active ? Describe(domain, inactive: false) : Describe(domain, inactive: true);
            return new MutationResult
            {
                PreviousState = DomainStates.ToRuntimeState(state),
                NewState = CurrentState(domain),
                PreviousSize = previous,
                NewSize = restartRequired ? target : new ScaleTarget(after.Vcpus, after.MemoryMiB),
                RestartRequired = restartRequired,
                Notes = notes,
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    private static bool ScaleVcpus(DomainHandle domain, bool active, int target, DomainDescription config, List<string> notes, List<Action> undo)
    {
        var oldMax = config.MaxVcpus;
        var oldCurrent = config.Vcpus;
        if (active && target <= oldMax)
        {
            if (LibvirtNative.virDomainSetVcpusFlags(domain, (uint)target, LibvirtNative.VIR_DOMAIN_AFFECT_LIVE | LibvirtNative.VIR_DOMAIN_AFFECT_CONFIG) == 0)
            {
                var liveBefore = oldCurrent;
                undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)liveBefore, LibvirtNative.VIR_DOMAIN_AFFECT_LIVE | LibvirtNative.VIR_DOMAIN_AFFECT_CONFIG)));
                notes.Add($"vCPUs {oldCurrent} → {target} applied live");
                return false;
            }

            var why = LibvirtErrors.Last("virDomainSetVcpusFlags").LibvirtMessage;
            SetVcpusConfig(domain, target, oldMax, undo, oldCurrent);
            notes.Add($"vCPUs {oldCurrent} → {target} saved in the configuration; live change refused ({why}); takes effect at the next restart");
            return true;
        }

        SetVcpusConfig(domain, target, oldMax, undo, oldCurrent);
        if (active)
        {
            notes.Add($"vCPUs {oldCurrent} → {target} exceeds the {oldMax} hot-pluggable vCPU slots: saved in the configuration; takes effect at the next restart");
            return true;
        }

        notes.Add($"vCPUs {oldCurrent} → {target} (VM is stopped; applies at the next start)");
        return false;
    }

    private static void SetVcpusConfig(DomainHandle domain, int target, int oldMax, List<Action> undo, int oldCurrent)
    {
        const uint config = LibvirtNative.VIR_DOMAIN_AFFECT_CONFIG;
        const uint maximum = LibvirtNative.VIR_DOMAIN_AFFECT_CONFIG | LibvirtNative.VIR_DOMAIN_VCPU_MAXIMUM;
        if (target > oldMax)
        {
            LibvirtErrors.Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)target, maximum));
            undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)oldMax, maximum)));
        }

        LibvirtErrors.Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)target, config));
        undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)oldCurrent, config)));
    }

    private static bool ScaleMemory(DomainHandle domain, bool active, long targetMiB, DomainDescription config, List<string> notes, List<Action> undo)
    {
        var targetKiB = new CULong((nuint)(targetMiB * 1024));
        var oldKiB = new CULong((nuint)(config.MemoryMiB * 1024));
        var oldMaxKiB = new CULong((nuint)(config.MaxMemoryMiB * 1024));
        const uint live = LibvirtNative.VIR_DOMAIN_AFFECT_LIVE;
        const uint cfg = LibvirtNative.VIR_DOMAIN_AFFECT_CONFIG;
        const uint cfgMax = LibvirtNative.VIR_DOMAIN_AFFECT_CONFIG | LibvirtNative.VIR_DOMAIN_MEM_MAXIMUM;
        if (active && targetMiB <= config.MaxMemoryMiB)
        {
            // LIVE and CONFIG in two calls: some drivers (test://) refuse them together.
            if (LibvirtNative.virDomainSetMemoryFlags(domain, targetKiB, live) == 0)
            {
                undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, oldKiB, live)));
                LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, targetKiB, cfg));
                undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, oldKiB, cfg)));
                notes.Add($"memory {config.MemoryMiB} → {targetMiB} MiB applied live (balloon target; the guest's balloon driver returns the memory)");
                return false;
            }

            var why = LibvirtErrors.Last("virDomainSetMemoryFlags").LibvirtMessage;
            LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, targetKiB, cfg));
            undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, oldKiB, cfg)));
            notes.Add($"memory {config.MemoryMiB} → {targetMiB} MiB saved in the configuration; live change refused ({why}); takes effect at the next restart");
            return true;
        }

        if (targetMiB > config.MaxMemoryMiB)
        {
            LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, targetKiB, cfgMax));
            undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, oldMaxKiB, cfgMax)));
        }

        LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, targetKiB, cfg));
        undo.Add(() => LibvirtErrors.Check(LibvirtNative.virDomainSetMemoryFlags(domain, oldKiB, cfg)));
        if (active)
        {
            notes.Add($"memory {config.MemoryMiB} → {targetMiB} MiB is above the running VM's maximum ({config.MaxMemoryMiB} MiB): saved in the configuration; takes effect at the next restart");
            return true;
        }

        notes.Add($"memory {config.MemoryMiB} → {targetMiB} MiB (VM is stopped; applies at the next start)");
        return false;
    }
}
