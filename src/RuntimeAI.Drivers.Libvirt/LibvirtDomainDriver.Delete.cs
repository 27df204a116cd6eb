using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

// Part of LibvirtDomainDriver (see LibvirtDomainDriver.cs).
public sealed partial class LibvirtDomainDriver
{
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
}
