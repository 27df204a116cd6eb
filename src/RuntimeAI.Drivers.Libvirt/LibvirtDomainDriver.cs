using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

/// <summary>
/// Runs <see cref="RuntimeType.Vm"/> runtimes as libvirt domains (qemu/KVM, or the in-process
/// <c>test:///default</c> sandbox) through <c>libvirt.so.0</c>. The connection opens on first use and
/// is reopened after the daemon goes away. Backend references have the form
/// <c>libvirt:{uri}#{domain uuid}</c>; a bare UUID or domain name is accepted too. Dispose it to
/// close the connection.
/// </summary>
public sealed partial class LibvirtDomainDriver : IRuntimeDriver, IDisposable
{
    private const uint UndefineAll =
        LibvirtNative.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | LibvirtNative.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
        LibvirtNative.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | LibvirtNative.VIR_DOMAIN_UNDEFINE_NVRAM;

    private readonly LibvirtOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Lock _poolGate = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _startedAt = new(StringComparer.OrdinalIgnoreCase);
    private readonly Channel<DriverEvent> _events = Channel.CreateUnbounded<DriverEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _eventPump;
    private LibvirtSession? _session;
    private (string DomainType, string? Arch)? _guest;
    private bool _disposed;

    /// <summary>Creates a driver for one libvirt URI. Nothing is opened until the first call.</summary>
    /// <param name="options">The connection and its defaults; validated here.</param>
    /// <param name="timeProvider">Clock for timeouts and timestamps (defaults to the system clock).</param>
    /// <exception cref="ArgumentException">The options are invalid (all problems are listed).</exception>
    public LibvirtDomainDriver(LibvirtOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _eventPump = Task.Run(PumpEventsAsync);
    }

    /// <inheritdoc />
    public string Name => "libvirt:" + _options.Uri;

    /// <inheritdoc />
    public RuntimeType RuntimeType => RuntimeType.Vm;

    /// <inheritdoc />
    public BackendKind BackendKind => BackendKind.VmBackend;

    /// <inheritdoc />
    public bool IsSandbox => _options.IsSandbox;

    /// <summary>The URI this driver speaks to.</summary>
    public string Uri => _options.Uri;

    /// <inheritdoc />
    public event EventHandler<DriverEvent>? RuntimeEventObserved;

    /// <summary>Builds the backend reference of a domain UUID on this connection.</summary>
    public string BackendRefFor(string uuid) => $"{Name}#{uuid}";

    // ───────────────────────────── discovery and create ─────────────────────────────

    /// <inheritdoc />
    public Task<IReadOnlyList<DiscoveredRuntime>> DiscoverAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<DiscoveredRuntime>>("discover", conn =>
        {
            var result = new List<DiscoveredRuntime>();
            foreach (var domain in LibvirtSession.ListAllDomains(conn))
            {
                using (domain)
                {
                    var d = Describe(domain, inactive: false);
                    var (state, _) = GetState(domain);
                    result.Add(new DiscoveredRuntime(
                        BackendRefFor(d.Uuid),
                        d.Name,
                        DomainStates.ToRuntimeState(state),
                        d.Vcpus,
                        d.MemoryMiB,
                        d.Metadata?.Labels ?? new Dictionary<string, string>(),
                        d.Metadata?.RuntimeId,
                        d.Metadata?.TenantId));
                }
            }

            return result.OrderBy(r => r.Name, StringComparer.Ordinal).ToArray();
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<CreateResult> CreateAsync(string runtimeId, RuntimeCreateRequest request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeId);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Type != RuntimeType.Vm)
        {
            throw Fail("invalid_argument", $"The libvirt backend runs runtimes of type vm, not {request.Type.ToString().ToLowerInvariant()}.");
        }

        if (!DomainNamePattern().IsMatch(request.Name))
        {
            throw Fail("invalid_argument", $"Runtime name '{request.Name}' cannot name a VM: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        var (sizeName, vcpus, memoryMiB) = ResolveSize(request.Spec);
        var capacity = await GetCapacityAsync(cancellationToken).ConfigureAwait(false);
        if (memoryMiB > capacity.FreeMemoryMiB)
        {
            throw Fail("insufficient_capacity",
                $"VM '{request.Name}' needs {Quantity.FormatMiB(memoryMiB)} of memory but the host at {_options.Uri} has only {capacity.FreeMemoryMiB} MiB free (of {capacity.TotalMemoryMiB} MiB). Choose a smaller size or free memory on the host.");
        }

        if (vcpus > capacity.Cpus)
        {
            throw Fail("insufficient_capacity",
                $"VM '{request.Name}' asks for {vcpus} vCPUs but the host at {_options.Uri} has {capacity.Cpus} CPUs.");
        }

        var network = AttachmentFor(request.Spec.Networking);
        return await RunAsync("create", conn =>
        {
            if (TryLookup(conn, request.Name) is { } existing)
            {
                existing.Dispose();
                throw Fail("conflict", $"A VM named '{request.Name}' already exists on {_options.Uri}; pick another name or import it with discovery.");
            }

            var guest = GuestFor(conn);
            var maxVcpus = Math.Max(vcpus, _options.MaxVcpus > 0 ? _options.MaxVcpus : Math.Min(capacity.Cpus, 8));
            string? diskPath = null;
            StorageVolHandle? volume = null;
            try
            {
                volume = CreateDisk(conn, request.Name);
                diskPath = LibvirtErrors.CheckString(LibvirtNative.virStorageVolGetPath(volume));
                var metadata = new RuntimeMetadata(runtimeId, request.TenantId, request.Labels, sizeName, diskPath);
                var xml = DomainXml.Build(new DomainDefinition(
                    request.Name, guest.DomainType, guest.Arch, vcpus, maxVcpus, memoryMiB, diskPath,
                    network, _options.Network, metadata));
                using var domain = LibvirtErrors.Check(LibvirtNative.virDomainDefineXMLFlags(conn, xml, 0));
                var uuid = LibvirtSession.UuidOf(domain);
                try
                {
                    if (_options.StartOnCreate)
                    {
                        LibvirtErrors.Check(LibvirtNative.virDomainCreate(domain));
                        _startedAt[uuid] = _time.GetUtcNow();
                    }
                }
                catch
                {
                    // Nothing half-created: a domain that cannot start is undefined again.
                    if (LibvirtNative.virDomainUndefineFlags(domain, UndefineAll) < 0)
                    {
                        LibvirtNative.virResetLastError();
                    }

                    throw;
                }

                var (state, _) = GetState(domain);
                return new CreateResult(BackendRefFor(uuid), DomainStates.ToRuntimeState(state), vcpus, memoryMiB, diskPath);
            }
            catch
            {
                if (volume is not null && LibvirtNative.virStorageVolDelete(volume, 0) < 0)
                {
                    LibvirtNative.virResetLastError();
                }

                throw;
            }
            finally
            {
                volume?.Dispose();
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private (string? SizeName, int Vcpus, long MemoryMiB) ResolveSize(RuntimeSpec spec)
    {
        var sizeName = spec.Size ?? (spec.Resources is null ? _options.DefaultSize : null);
        RuntimeSize size;
        if (spec.Size is not null)
        {
            if (!SizeTable.TryGet(spec.Size, out size))
            {
                throw Fail("invalid_size", $"Size '{spec.Size}' is not in the size table; use one of {string.Join(", ", SizeTable.Names)}.");
            }

            sizeName = size.Name;
        }
        else
        {
            SizeTable.TryGet(_options.DefaultSize, out size);
        }

        var vcpus = size.Vcpus;
        var memory = size.MemoryMiB;
        if (spec.Resources?.Cpu is { } cpu)
        {
            if (cpu <= 0 || double.IsNaN(cpu) || cpu > 1024)
            {
                throw Fail("invalid_argument", $"resources.cpu {cpu.ToString(CultureInfo.InvariantCulture)} is not a valid vCPU count.");
            }

            vcpus = (int)Math.Ceiling(cpu);
        }

        if (spec.Resources?.Memory is { } mem)
        {
            if (!Quantity.TryParseMiB(mem, out memory))
            {
                throw Fail("invalid_argument", $"resources.memory '{mem}' is not a memory quantity (e.g. 512Mi, 8Gi).");
            }
        }

        return (sizeName, vcpus, memory);
    }

    private NetworkAttachment AttachmentFor(NetworkingProfile? networking) => networking switch
    {
        null => NetworkAttachment.None,
        { Exposure: "none" } => NetworkAttachment.None,
        _ when _options.Network is not null => NetworkAttachment.LibvirtNetwork,
        _ => NetworkAttachment.UserMode,
    };

    private StorageVolHandle CreateDisk(ConnectHandle conn, string name)
    {
        using var pool = EnsurePool(conn);
        var volumeName = name + ".qcow2";
        if (LibvirtNative.virStoragePoolRefresh(pool, 0) < 0)
        {
            LibvirtNative.virResetLastError();
        }

        using (var existing = LibvirtNative.virStorageVolLookupByName(pool, volumeName))
        {
            if (!existing.IsInvalid)
            {
                var path = LibvirtStrings.TakeOwned(LibvirtNative.virStorageVolGetPath(existing));
                throw Fail("conflict", $"A disk '{volumeName}' already exists in storage pool '{_options.StoragePool}' on {_options.Uri} ({path}; kept from an earlier VM?). Delete it or choose another name.");
            }

            LibvirtNative.virResetLastError();
        }

        return LibvirtErrors.Check(LibvirtNative.virStorageVolCreateXML(pool, DomainXml.BuildQcow2Volume(volumeName, _options.DiskSizeMiB), 0));
    }

    private StoragePoolHandle EnsurePool(ConnectHandle conn)
    {
        // Concurrent creates must not race to define the same pool.
        lock (_poolGate)
        {
            return EnsurePoolCore(conn);
        }
    }

    private StoragePoolHandle EnsurePoolCore(ConnectHandle conn)
    {
        var pool = LibvirtNative.virStoragePoolLookupByName(conn, _options.StoragePool);
        if (pool.IsInvalid)
        {
            pool.Dispose();
            LibvirtNative.virResetLastError();
            var path = _options.DataDir.TrimEnd('/') + "/pool";
            pool = LibvirtNative.virStoragePoolDefineXML(conn, DomainXml.BuildDirPool(_options.StoragePool, path), 0);
            if (pool.IsInvalid)
            {
                // Another process may have defined it in the meantime.
                var error = LibvirtErrors.Last("virStoragePoolDefineXML");
                pool.Dispose();
                pool = LibvirtNative.virStoragePoolLookupByName(conn, _options.StoragePool);
                if (pool.IsInvalid)
                {
                    pool.Dispose();
                    throw error;
                }

                return StartPool(pool);
            }

            if (LibvirtNative.virStoragePoolBuild(pool, 0) < 0)
            {
                // The directory may exist already; starting the pool below says so if it is unusable.
                LibvirtNative.virResetLastError();
            }

            if (LibvirtNative.virStoragePoolSetAutostart(pool, 1) < 0)
            {
                LibvirtNative.virResetLastError();
            }
        }

        return StartPool(pool);
    }

    private static StoragePoolHandle StartPool(StoragePoolHandle pool)
    {
        if (LibvirtNative.virStoragePoolIsActive(pool) != 1 && LibvirtNative.virStoragePoolCreate(pool, 0) < 0)
        {
            var error = LibvirtErrors.Last("virStoragePoolCreate");
            if (LibvirtNative.virStoragePoolIsActive(pool) != 1)
            {
                pool.Dispose();
                throw error;
            }
        }

        return pool;
    }

    // ───────────────────────────── lifecycle ─────────────────────────────

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
            throw Fail("stop_timeout",
                $"VM '{name}' did not shut down within {timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s (the guest ignored the ACPI power button: it may have no OS or no ACPI handler). It is still running; retry with force to power it off.");
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

    // ───────────────────────────── snapshots ─────────────────────────────

    /// <inheritdoc />
    public async Task<SnapshotInfo> SnapshotAsync(string backendRef, string name, string? description, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name) || !SnapshotNamePattern().IsMatch(name))
        {
            throw Fail("invalid_argument", $"Snapshot name '{name}' is not valid: use 1-64 letters, digits, '.', '_', ':' or '-'.");
        }

        return await RunAsync("snapshot", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            using (var existing = LibvirtNative.virDomainSnapshotLookupByName(domain, name, 0))
            {
                if (!existing.IsInvalid)
                {
                    throw Fail("conflict", $"VM '{LibvirtSession.NameOf(domain)}' already has a snapshot named '{name}'.");
                }

                LibvirtNative.virResetLastError();
            }

            using var snapshot = LibvirtErrors.Check(LibvirtNative.virDomainSnapshotCreateXML(domain, DomainXml.BuildSnapshot(name, description), 0));
            return ReadSnapshot(snapshot);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string backendRef, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<SnapshotInfo>>("list snapshots", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            var list = new List<SnapshotInfo>();
            foreach (var snapshot in LibvirtSession.ListAllSnapshots(domain))
            {
                using (snapshot)
                {
                    list.Add(ReadSnapshot(snapshot));
                }
            }

            return list.OrderBy(s => s.CreatedAt).ThenBy(s => s.Name, StringComparer.Ordinal).ToArray();
        }, cancellationToken);

    /// <inheritdoc />
    public Task<MutationResult> RestoreSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken) =>
        RunAsync("restore snapshot", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            var previous = CurrentState(domain);
            var before = Describe(domain, inactive: !DomainStates.IsActive(GetState(domain).State));
            using var snapshot = LookupSnapshot(domain, snapshotName);
            LibvirtErrors.Check(LibvirtNative.virDomainRevertToSnapshot(snapshot, 0));
            var (state, reason) = GetState(domain);
            var uuid = LibvirtSession.UuidOf(domain);
            if (DomainStates.IsActive(state))
            {
                _startedAt[uuid] = _time.GetUtcNow();
            }

            var after = Describe(domain, inactive: !DomainStates.IsActive(state));
            return new MutationResult
            {
                PreviousState = previous,
                NewState = DomainStates.ToRuntimeState(state),
                PreviousSize = new ScaleTarget(before.Vcpus, before.MemoryMiB),
                NewSize = new ScaleTarget(after.Vcpus, after.MemoryMiB),
                Notes = [$"reverted to snapshot '{snapshotName}'; now {DomainStates.Describe(state, reason)}"],
            };
        }, cancellationToken);

    /// <inheritdoc />
    public Task DeleteSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken) =>
        RunAsync("delete snapshot", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            using var snapshot = LookupSnapshot(domain, snapshotName);
            LibvirtErrors.Check(LibvirtNative.virDomainSnapshotDelete(snapshot, 0));
            return 0;
        }, cancellationToken);

    private SnapshotHandle LookupSnapshot(DomainHandle domain, string name)
    {
        var snapshot = LibvirtNative.virDomainSnapshotLookupByName(domain, name, 0);
        if (snapshot.IsInvalid)
        {
            var error = LibvirtErrors.Last("virDomainSnapshotLookupByName");
            snapshot.Dispose();
            throw error.ErrorCode == LibvirtErrorCodes.NoDomainSnapshot
                ? Fail("not_found", $"VM '{LibvirtSession.NameOf(domain)}' has no snapshot named '{name}'.", error)
                : error;
        }

        return snapshot;
    }

    private static SnapshotInfo ReadSnapshot(SnapshotHandle snapshot)
    {
        var name = LibvirtStrings.Borrow(LibvirtNative.virDomainSnapshotGetName(snapshot)) ?? "";
        var xml = LibvirtErrors.CheckString(LibvirtNative.virDomainSnapshotGetXMLDesc(snapshot, 0));
        var (description, created, state) = DomainXml.ParseSnapshot(xml);
        var current = LibvirtNative.virDomainSnapshotIsCurrent(snapshot, 0) == 1;
        LibvirtNative.virResetLastError();
        var runtimeState = state switch
        {
            "running" or "blocked" or "in shutdown" or "disk-snapshot" => RuntimeState.Running,
            "paused" or "pmsuspended" => RuntimeState.Degraded,
            "crashed" => RuntimeState.Error,
            _ => RuntimeState.Stopped,
        };
        return new SnapshotInfo(name, description, DateTimeOffset.FromUnixTimeSeconds(created), runtimeState, current);
    }

    // ───────────────────────────── delete ─────────────────────────────

    /// <inheritdoc />
    public async Task<MutationResult> DeleteAsync(string backendRef, DeleteOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return await RunAsync("delete", conn =>
        {
            using var domain = Lookup(conn, backendRef);
            var (state, _) = GetState(domain);
            var description = Describe(domain, inactive: true);
            var notes = new List<string>();
            if (DomainStates.IsActive(state))
            {
                LibvirtErrors.Check(LibvirtNative.virDomainDestroy(domain));
                notes.Add("powered off (destroy) before undefining");
            }

            if (LibvirtNative.virDomainUndefineFlags(domain, UndefineAll) < 0)
            {
                var error = LibvirtErrors.Last("virDomainUndefineFlags");
                if (error.ErrorCode is not (LibvirtErrorCodes.InvalidArg or LibvirtErrorCodes.ArgumentUnsupported or LibvirtErrorCodes.NoSupport))
                {
                    throw error;
                }

                // Drivers without NVRAM/checkpoint support (test://) reject those flags.
                LibvirtErrors.Check(LibvirtNative.virDomainUndefineFlags(domain,
                    LibvirtNative.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | LibvirtNative.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA));
            }

            _startedAt.TryRemove(description.Uuid, out _);
            notes.Add("undefined with its snapshot metadata and managed-save image");
            var disk = description.Metadata?.ManagedDiskPath;
            if (disk is not null)
            {
                if (options.KeepDisk)
                {
                    notes.Add($"disk kept at {disk}");
                }
                else
                {
                    notes.Add(DeleteVolume(conn, disk) ? $"disk {disk} removed" : $"disk {disk} was not found in a storage pool; left in place");
                }
            }
            else if (description.DiskPaths.Count > 0)
            {
                notes.Add($"disks not created by RuntimeAI were left in place: {string.Join(", ", description.DiskPaths)}");
            }

            return new MutationResult
            {
                PreviousState = DomainStates.ToRuntimeState(state),
                NewState = RuntimeState.Deleted,
                PreviousSize = new ScaleTarget(description.Vcpus, description.MemoryMiB),
                Notes = notes,
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    private bool DeleteVolume(ConnectHandle conn, string path)
    {
        using var volume = LibvirtNative.virStorageVolLookupByPath(conn, path);
        if (volume.IsInvalid)
        {
            LibvirtNative.virResetLastError();
            return false;
        }

        LibvirtErrors.Check(LibvirtNative.virStorageVolDelete(volume, 0));
        return true;
    }

    // ───────────────────────────── observation ─────────────────────────────

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

    // ───────────────────────────── plumbing ─────────────────────────────

    private async Task<T> RunAsync<T>(string operation, Func<ConnectHandle, T> body, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);

        // Native calls run on a pool thread and read their error on that same thread.
        return await Task.Run(() =>
        {
            var session = Session();
            try
            {
                return body(session.Handle);
            }
            catch (LibvirtException ex)
            {
                throw Translate(ex, session, operation);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private LibvirtSession Session()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_session is { IsAlive: true } alive)
            {
                return alive;
            }

            _session?.Dispose();
            _session = null;
            _guest = null;
            if (!LibvirtRuntime.TryInitialize(out var loadError))
            {
                throw Fail("libvirt_missing", loadError!);
            }

            try
            {
                _session = LibvirtSession.Open(_options.Uri, keepAlive: !_options.IsSandbox, OnLifecycle);
            }
            catch (LibvirtException ex)
            {
                throw Fail("unreachable", $"Cannot reach libvirt at {_options.Uri}: {ex.LibvirtMessage}. Check that libvirtd is running there and that this user may connect.", ex);
            }

            return _session;
        }
    }

    private RuntimeDriverException Translate(LibvirtException ex, LibvirtSession session, string operation)
    {
        var lost = ex.ErrorDomain == LibvirtErrorCodes.FromRpc
            || ex.ErrorCode is LibvirtErrorCodes.NoConnect or LibvirtErrorCodes.InvalidConn or LibvirtErrorCodes.Rpc
            || !session.IsAlive;
        if (lost)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_session, session))
                {
                    _session = null;
                    session.Dispose();
                }
            }

            return Fail("unreachable", $"The libvirt daemon at {_options.Uri} went away during {operation}: {ex.LibvirtMessage}. The driver reconnects on the next call; check that libvirtd is running.", ex);
        }

        return ex.ErrorCode switch
        {
            LibvirtErrorCodes.NoDomain => Fail("not_found", $"No VM matches on {_options.Uri} ({ex.LibvirtMessage}).", ex),
            LibvirtErrorCodes.NoDomainSnapshot => Fail("not_found", $"No such snapshot on {_options.Uri} ({ex.LibvirtMessage}).", ex),
            LibvirtErrorCodes.OperationInvalid => Fail("invalid_state", $"libvirt refused to {operation}: {ex.LibvirtMessage}.", ex),
            LibvirtErrorCodes.DomExist or LibvirtErrorCodes.StorageVolExist => Fail("conflict", $"Cannot {operation}: {ex.LibvirtMessage}.", ex),
            LibvirtErrorCodes.OperationTimeout or LibvirtErrorCodes.ResourceBusy => Fail("busy", $"libvirt at {_options.Uri} is busy, {operation} did not run: {ex.LibvirtMessage}. Retry later.", ex),
            LibvirtErrorCodes.OperationUnsupported or LibvirtErrorCodes.NoSupport or LibvirtErrorCodes.ArgumentUnsupported or LibvirtErrorCodes.ConfigUnsupported
                => Fail("unsupported", $"The hypervisor behind {_options.Uri} cannot {operation}: {ex.LibvirtMessage}.", ex),
            _ => Fail("driver_error", $"libvirt at {_options.Uri} failed to {operation}: {ex.LibvirtMessage}.", ex),
        };
    }

    private DomainHandle Lookup(ConnectHandle conn, string backendRef)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backendRef);
        var key = backendRef;
        var hash = backendRef.LastIndexOf('#');
        if (backendRef.StartsWith("libvirt:", StringComparison.Ordinal) && hash > 0)
        {
            if (!string.Equals(backendRef[..hash], Name, StringComparison.Ordinal))
            {
                throw Fail("not_found", $"Backend reference '{backendRef}' belongs to another libvirt connection than {_options.Uri}.");
            }

            key = backendRef[(hash + 1)..];
        }

        return TryLookup(conn, key) ?? throw Fail("not_found", $"No VM '{key}' on {_options.Uri}: it was deleted, or never existed there.");
    }

    private static DomainHandle? TryLookup(ConnectHandle conn, string key)
    {
        var domain = Guid.TryParse(key, out _)
            ? LibvirtNative.virDomainLookupByUUIDString(conn, key)
            : LibvirtNative.virDomainLookupByName(conn, key);
        if (!domain.IsInvalid)
        {
            return domain;
        }

        var error = LibvirtErrors.Last("virDomainLookup");
        domain.Dispose();
        if (error.ErrorCode == LibvirtErrorCodes.NoDomain)
        {
            return null;
        }

        throw error;
    }

    private (string DomainType, string? Arch) GuestFor(ConnectHandle conn)
    {
        if (_guest is { } cached)
        {
            return cached;
        }

        var caps = LibvirtErrors.CheckString(LibvirtNative.virConnectGetCapabilities(conn));
        var picked = DomainXml.PickGuest(caps);
        if (_options.DomainType is { } forced)
        {
            picked = (forced, picked.Arch);
        }

        _guest = picked;
        return picked;
    }

    private static (int State, int Reason) GetState(DomainHandle domain)
    {
        LibvirtErrors.Check(LibvirtNative.virDomainGetState(domain, out var state, out var reason, 0));
        return (state, reason);
    }

    private static RuntimeState CurrentState(DomainHandle domain) => DomainStates.ToRuntimeState(GetState(domain).State);

    private static DomainDescription Describe(DomainHandle domain, bool inactive) =>
        DomainXml.Parse(LibvirtErrors.CheckString(LibvirtNative.virDomainGetXMLDesc(domain, inactive ? LibvirtNative.VIR_DOMAIN_XML_INACTIVE : 0)));

    private static RuntimeDriverException Fail(string code, string message, Exception? inner = null) =>
        inner is null ? new RuntimeDriverException(message) { Code = code } : new RuntimeDriverException(message, inner) { Code = code };

    // ───────────────────────────── events ─────────────────────────────

    private void OnLifecycle(LifecycleEvent e)
    {
        // Runs on libvirt's event-loop thread: record and hand off, never block.
        var (type, state, detail) = DomainStates.DescribeEvent(e.Event, e.Detail);
        var now = _time.GetUtcNow();
        if (e.Event == 2)
        {
            _startedAt[e.Uuid] = now;
        }
        else if (e.Event is 1 or 5)
        {
            _startedAt.TryRemove(e.Uuid, out _);
        }

        _events.Writer.TryWrite(new DriverEvent(BackendRefFor(e.Uuid), type, state, $"{e.Name}: {detail}", now));
    }

    private async Task PumpEventsAsync()
    {
        await foreach (var e in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                RuntimeEventObserved?.Invoke(this, e);
            }
#pragma warning disable CA1031 // a faulty subscriber must not stop the event flow
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>Closes the libvirt connection and stops raising events.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _session?.Dispose();
            _session = null;
        }

        _events.Writer.TryComplete();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex DomainNamePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
    private static partial Regex SnapshotNamePattern();
}

/// <summary>Checks whether libvirt can be used in this process.</summary>
public static class LibvirtLibrary
{
    /// <summary>
    /// True when <c>libvirt.so.0</c> loads; otherwise <paramref name="reason"/> names the Debian package
    /// to install (<c>libvirt0</c>). Use it to decide whether the embedded <c>test:///default</c> sandbox is available.
    /// </summary>
    public static bool IsAvailable(out string? reason) => LibvirtRuntime.TryInitialize(out reason);
}
