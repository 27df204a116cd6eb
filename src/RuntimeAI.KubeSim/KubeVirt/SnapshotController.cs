using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.Controllers;

namespace RuntimeAI.KubeSim.KubeVirt;

/// <summary>
/// snapshot.kubevirt.io, simulated: a VirtualMachineSnapshot copies the source VM's spec into a
/// VirtualMachineSnapshotContent (no disk data exists); a VirtualMachineRestore writes that spec back to a stopped VM
/// (or creates the VM when it no longer exists).
/// </summary>
internal static class SnapshotController
{
    public static void Reconcile(SimulatedApi api)
    {
        foreach (var snap in api.Store.List(ResourceCatalog.Snapshots))
        {
            if (Json.Str(snap, "status", "phase") is not ("Succeeded" or "Failed"))
            {
                Reconciler.Safely(() => Snapshot(api, snap));
            }
        }

        foreach (var restore in api.Store.List(ResourceCatalog.Restores))
        {
            if (Json.Bool(restore, "status", "complete") != true)
            {
                Reconciler.Safely(() => Restore(api, restore));
            }
        }
    }

    private static void Snapshot(SimulatedApi api, JsonObject snap)
    {
        var ns = Json.Namespace(snap)!;
        var now = api.Now;
        var status = snap["status"] is JsonObject s ? (JsonObject)s.DeepClone() : [];
        var sourceName = Json.Str(snap, "spec", "source", "name") ?? string.Empty;
        var vm = api.Store.Get(ResourceCatalog.VirtualMachines, ns, sourceName);
        if (vm is null)
        {
            status["phase"] = "Failed";
            status["readyToUse"] = false;
            status["error"] = new JsonObject { ["message"] = $"VirtualMachine \"{sourceName}\" does not exist", ["time"] = Json.Timestamp(now) };
            Json.SetCondition(status, "Ready", "False", "Error", "Source does not exist", now, probeTimes: true);
            api.SaveStatus(ResourceCatalog.Snapshots, snap, status);
            return;
        }

        if (Json.Str(status, "phase") is null)
        {
            status["phase"] = "InProgress";
            status["sourceUID"] = Json.Uid(vm);
            status["readyToUse"] = false;
            Json.SetCondition(status, "Progressing", "True", "InProgress", "Source locked and operation in progress", now, probeTimes: true);
            Json.SetCondition(status, "Ready", "False", "NotReady", "Not ready", now, probeTimes: true);
            api.SaveStatus(ResourceCatalog.Snapshots, snap, status);
            return;
        }

        var contentName = $"vmsnapshot-content-{Json.Uid(snap)}";
        if (api.Store.Get(ResourceCatalog.SnapshotContents, ns, contentName) is null)
        {
            var source = new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = Json.Name(vm), ["namespace"] = ns, ["labels"] = Json.At(vm, "metadata", "labels")?.DeepClone() },
                ["spec"] = vm["spec"]?.DeepClone(),
            };
            api.Create(ResourceCatalog.SnapshotContents, ns, new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = contentName, ["namespace"] = ns, ["ownerReferences"] = new JsonArray(SimulatedApi.OwnerReference(snap)) },
                ["spec"] = new JsonObject
                {
                    ["source"] = new JsonObject { ["virtualMachine"] = source },
                    ["virtualMachineSnapshotName"] = Json.Name(snap),
                    ["volumeBackups"] = new JsonArray(),
                },
                ["status"] = new JsonObject { ["readyToUse"] = true, ["creationTime"] = Json.Timestamp(now) },
            });
        }

        var online = api.Store.Get(ResourceCatalog.VirtualMachineInstances, ns, sourceName) is not null;
        status["phase"] = "Succeeded";
        status["readyToUse"] = true;
        status["creationTime"] = Json.Timestamp(now);
        status["virtualMachineSnapshotContentName"] = contentName;
        status["indications"] = online ? new JsonArray("Online", "GuestAgent") : new JsonArray();
        status["snapshotVolumes"] = new JsonObject { ["excludedVolumes"] = new JsonArray(), ["includedVolumes"] = new JsonArray() };
        Json.SetCondition(status, "Progressing", "False", "Operation complete", "Operation complete", now, probeTimes: true);
        Json.SetCondition(status, "Ready", "True", "Operation complete", "Operation complete", now, probeTimes: true);
        api.SaveStatus(ResourceCatalog.Snapshots, snap, status);
        api.RecordEvent(snap, "Normal", "SuccessfulVirtualMachineSnapshotCreate", $"Successfully created VirtualMachineSnapshot {Json.Name(snap)} (simulated; no disk data)", "snapshot-controller");
    }

    private static void Restore(SimulatedApi api, JsonObject restore)
    {
        var ns = Json.Namespace(restore)!;
        var now = api.Now;
        var status = restore["status"] is JsonObject s ? (JsonObject)s.DeepClone() : [];
        var snapName = Json.Str(restore, "spec", "virtualMachineSnapshotName") ?? string.Empty;
        var targetName = Json.Str(restore, "spec", "target", "name") ?? string.Empty;
        var snap = api.Store.Get(ResourceCatalog.Snapshots, ns, snapName);
        var content = snap is null ? null : api.Store.Get(ResourceCatalog.SnapshotContents, ns, Json.Str(snap, "status", "virtualMachineSnapshotContentName") ?? string.Empty);
        status["complete"] = false;
        if (snap is null || Json.Bool(snap, "status", "readyToUse") != true || content is null)
        {
            Json.SetCondition(status, "Progressing", "False", "Error", $"VirtualMachineSnapshot {snapName} is not ready", now, probeTimes: true);
            Json.SetCondition(status, "Ready", "False", "Error", $"VirtualMachineSnapshot {snapName} is not ready", now, probeTimes: true);
            api.SaveStatus(ResourceCatalog.Restores, restore, status);
            return;
        }

        var saved = Json.At(content, "spec", "source", "virtualMachine") as JsonObject ?? [];
        var target = api.Store.Get(ResourceCatalog.VirtualMachines, ns, targetName);
        if (target is not null && api.Store.Get(ResourceCatalog.VirtualMachineInstances, ns, targetName) is not null)
        {
            Json.SetCondition(status, "Progressing", "True", "Waiting", $"restore target VirtualMachine {targetName} must be stopped", now, probeTimes: true);
            Json.SetCondition(status, "Ready", "False", "Waiting", $"restore target VirtualMachine {targetName} must be stopped", now, probeTimes: true);
            api.SaveStatus(ResourceCatalog.Restores, restore, status);
            return;
        }

        var spec = (JsonObject)(saved["spec"]?.DeepClone() ?? new JsonObject());
        if (target is null)
        {
            spec.Remove("running");
            spec["runStrategy"] = "Halted";
            api.Create(ResourceCatalog.VirtualMachines, ns, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = targetName,
                    ["namespace"] = ns,
                    ["labels"] = saved["metadata"]?["labels"]?.DeepClone(),
                    ["annotations"] = new JsonObject { ["restore.kubevirt.io/lastRestoreUID"] = $"{Json.Name(restore)}-{Json.Uid(restore)}" },
                },
                ["spec"] = spec,
            });
        }
        else
        {
            var currentSpec = Json.Obj(target, "spec");
            spec.Remove("running");
            spec.Remove("runStrategy");
            if (currentSpec["running"] is { } r)
            {
                spec["running"] = r.DeepClone();
            }

            if (currentSpec["runStrategy"] is { } rs)
            {
                spec["runStrategy"] = rs.DeepClone();
            }

            target["spec"] = spec;
            Json.Obj(Json.Meta(target), "annotations")["restore.kubevirt.io/lastRestoreUID"] = $"{Json.Name(restore)}-{Json.Uid(restore)}";
            api.Replace(ResourceCatalog.VirtualMachines, ns, targetName, target);
        }

        status["complete"] = true;
        status["restoreTime"] = Json.Timestamp(now);
        status["restores"] = new JsonArray();
        Json.SetCondition(status, "Progressing", "False", "Operation complete", "Operation complete", now, probeTimes: true);
        Json.SetCondition(status, "Ready", "True", "Operation complete", "Operation complete", now, probeTimes: true);
        api.SaveStatus(ResourceCatalog.Restores, restore, status);
        api.RecordEvent(restore, "Normal", "VirtualMachineRestoreComplete", $"Successfully completed VirtualMachineRestore {Json.Name(restore)}", "restore-controller");
    }
}
