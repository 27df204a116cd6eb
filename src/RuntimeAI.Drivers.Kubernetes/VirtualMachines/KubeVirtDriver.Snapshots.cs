using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualMachines;

public sealed partial class KubeVirtDriver
{
    /// <summary>Takes a VirtualMachineSnapshot named <c>{vm}-{name}</c>; waits until it is ready to use or failed.</summary>
    public async Task<SnapshotInfo> SnapshotAsync(string backendRef, string name, string? description, CancellationToken cancellationToken)
    {
        var (ns, vmName) = KubeRefs.Parse(Name, backendRef);
        var vm = await GetVmAsync(ns, vmName, cancellationToken).ConfigureAwait(false);
        var (state, _) = StateOf(vm);
        var objectName = KubeNames.ObjectName($"{vmName}-{name}");
        var snapshot = new JsonObject
        {
            ["apiVersion"] = "snapshot.kubevirt.io/v1beta1",
            ["kind"] = "VirtualMachineSnapshot",
            ["metadata"] = new JsonObject
            {
                ["name"] = objectName,
                ["namespace"] = ns,
                ["annotations"] = description is null ? new JsonObject { [SnapshotNameAnnotation] = name } : new JsonObject { [SnapshotNameAnnotation] = name, [DescriptionAnnotation] = description },
            },
            ["spec"] = new JsonObject { ["source"] = new JsonObject { ["apiGroup"] = "kubevirt.io", ["kind"] = "VirtualMachine", ["name"] = vmName } },
        };
        try
        {
            await _cluster.SendAsync(HttpMethod.Post, $"{SnapshotApi}/namespaces/{ns}/virtualmachinesnapshots", snapshot, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException ex) when (ex.Code == "already_exists")
        {
            throw new RuntimeDriverException($"VirtualMachine {ns}/{vmName} already has a snapshot named '{name}'; choose another name", ex) { Code = "already_exists" };
        }

        var (last, _) = await Converge.UntilAsync(
            ct => _cluster.SendAsync(HttpMethod.Get, $"{SnapshotApi}/namespaces/{ns}/virtualmachinesnapshots/{objectName}", null, ct),
            s => s?["status"]?["readyToUse"]?.GetValue<bool>() == true || Str(s, "status", "phase") == "Failed",
            _cluster.Options, _time, cancellationToken).ConfigureAwait(false);
        if (last?["status"]?["readyToUse"]?.GetValue<bool>() != true)
        {
            var why = (last?["status"]?["conditions"] as JsonArray ?? []).Select(c => Str(c, "message")).LastOrDefault(m => !string.IsNullOrEmpty(m)) ?? Str(last, "status", "phase") ?? "not ready";
            throw new RuntimeDriverException($"VirtualMachineSnapshot {ns}/{objectName} did not become ready: {why}") { Code = "snapshot_failed" };
        }

        return new SnapshotInfo(name, description, Created(last), state, false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string backendRef, CancellationToken cancellationToken)
    {
        var (ns, vmName) = KubeRefs.Parse(Name, backendRef);
        return (await SnapshotObjectsAsync(ns, vmName, cancellationToken).ConfigureAwait(false))
            .Where(s => s["status"]?["readyToUse"]?.GetValue<bool>() == true)
            .Select(s => new SnapshotInfo(
                Str(s, "metadata", "annotations", SnapshotNameAnnotation) ?? Str(s, "metadata", "name")!,
                Str(s, "metadata", "annotations", DescriptionAnnotation),
                Created(s),
                RuntimeState.Running,
                false))
            .ToList();
    }

    /// <summary>
    /// Restores with a VirtualMachineRestore. KubeVirt restores only a stopped VM: a running one is
    /// stopped first and started again afterwards.
    /// </summary>
    public async Task<MutationResult> RestoreSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken)
    {
        var (ns, vmName) = KubeRefs.Parse(Name, backendRef);
        var snapshots = await SnapshotObjectsAsync(ns, vmName, cancellationToken).ConfigureAwait(false);
        var snapshot = snapshots.FirstOrDefault(s => (Str(s, "metadata", "annotations", SnapshotNameAnnotation) ?? Str(s, "metadata", "name")) == snapshotName)
            ?? throw new RuntimeDriverException($"VirtualMachine {ns}/{vmName} has no snapshot '{snapshotName}'; list_snapshots shows: {string.Join(", ", snapshots.Select(s => Str(s, "metadata", "annotations", SnapshotNameAnnotation) ?? Str(s, "metadata", "name")).DefaultIfEmpty("(none)"))}") { Code = "not_found" };
        var vm = await GetVmAsync(ns, vmName, cancellationToken).ConfigureAwait(false);
        var (before, _) = StateOf(vm);
        var notes = new List<string>();
        if (before == RuntimeState.Running)
        {
            await StopAsync(backendRef, new StopOptions(false, TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
            notes.Add("stopped for the restore (KubeVirt restores only a stopped VM)");
        }

        var restoreName = $"{vmName}-restore-{_time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
        await _cluster.SendAsync(HttpMethod.Post, $"{SnapshotApi}/namespaces/{ns}/virtualmachinerestores", new JsonObject
        {
            ["apiVersion"] = "snapshot.kubevirt.io/v1beta1",
            ["kind"] = "VirtualMachineRestore",
            ["metadata"] = new JsonObject { ["name"] = restoreName, ["namespace"] = ns },
            ["spec"] = new JsonObject
            {
                ["target"] = new JsonObject { ["apiGroup"] = "kubevirt.io", ["kind"] = "VirtualMachine", ["name"] = vmName },
                ["virtualMachineSnapshotName"] = Str(snapshot, "metadata", "name"),
            },
        }, cancellationToken).ConfigureAwait(false);
        var (restore, complete) = await Converge.UntilAsync(
            ct => _cluster.SendAsync(HttpMethod.Get, $"{SnapshotApi}/namespaces/{ns}/virtualmachinerestores/{restoreName}", null, ct),
            r => r?["status"]?["complete"]?.GetValue<bool>() == true,
            _cluster.Options, _time, cancellationToken).ConfigureAwait(false);
        if (!complete)
        {
            var why = (restore?["status"]?["conditions"] as JsonArray ?? []).Select(c => Str(c, "message")).LastOrDefault(m => !string.IsNullOrEmpty(m)) ?? "not complete";
            throw new RuntimeDriverException($"VirtualMachineRestore {ns}/{restoreName} did not complete: {why}") { Code = "restore_failed" };
        }

        notes.Add($"restored from VirtualMachineSnapshot {Str(snapshot, "metadata", "name")}");
        var state = RuntimeState.Stopped;
        if (before == RuntimeState.Running)
        {
            state = (await StartAsync(backendRef, cancellationToken).ConfigureAwait(false)).NewState;
            notes.Add("started again");
        }

        return new MutationResult { PreviousState = before, NewState = state, Notes = notes };
    }

    /// <inheritdoc />
    public async Task DeleteSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken)
    {
        var (ns, vmName) = KubeRefs.Parse(Name, backendRef);
        var snapshot = (await SnapshotObjectsAsync(ns, vmName, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(s => (Str(s, "metadata", "annotations", SnapshotNameAnnotation) ?? Str(s, "metadata", "name")) == snapshotName)
            ?? throw new RuntimeDriverException($"VirtualMachine {ns}/{vmName} has no snapshot '{snapshotName}'") { Code = "not_found" };
        await _cluster.SendAsync(HttpMethod.Delete, $"{SnapshotApi}/namespaces/{ns}/virtualmachinesnapshots/{Str(snapshot, "metadata", "name")}", null, cancellationToken).ConfigureAwait(false);
    }

    private static DateTimeOffset Created(JsonNode? snapshot) =>
        DateTimeOffset.TryParse(Str(snapshot, "status", "creationTime") ?? Str(snapshot, "metadata", "creationTimestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : DateTimeOffset.MinValue;
}
