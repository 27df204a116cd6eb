using System.Globalization;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

// Part of LibvirtDomainDriver (see LibvirtDomainDriver.cs).
public sealed partial class LibvirtDomainDriver
{
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
}
