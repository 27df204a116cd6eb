using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

// Part of LibvirtDomainDriver (see LibvirtDomainDriver.cs).
public sealed partial class LibvirtDomainDriver
{
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
}
