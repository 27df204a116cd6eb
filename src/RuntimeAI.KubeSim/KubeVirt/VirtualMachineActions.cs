using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.KubeVirt;

/// <summary>
/// The subresources.kubevirt.io/v1 verbs (what virtctl calls), with KubeVirt's runStrategy rules:
/// start/stop/restart on VirtualMachines, pause/unpause on VirtualMachineInstances, and a simulated migrate.
/// </summary>
internal static class VirtualMachineActions
{
    public static void Handle(SimulatedApi api, string ns, string resource, string name, string action, string body, bool dryRun)
    {
        if (resource == "virtualmachines" && ResourceCatalog.VirtualMachineActions.Contains(action))
        {
            var vm = api.Get(ResourceCatalog.VirtualMachines, ns, name);
            var vmi = api.Store.Get(ResourceCatalog.VirtualMachineInstances, ns, name);
            var running = vmi is not null && Json.At(vmi, "metadata", "deletionTimestamp") is null && Json.Str(vmi, "status", "phase") is not ("Succeeded" or "Failed");
            var strategy = VirtualMachineController.RunStrategy(vm);
            var options = string.IsNullOrWhiteSpace(body) ? new JsonObject() : Json.Parse(body);
            dryRun |= (options["dryRun"] as JsonArray)?.Any(v => Json.Str(v) == "All") == true;
            switch (action)
            {
                case "start":
                    Start(api, vm, strategy, running, dryRun);
                    return;
                case "stop":
                    Stop(api, vm, vmi, strategy, running, dryRun);
                    return;
                case "restart":
                    if (strategy == "Halted")
                    {
                        throw Conflict("RunStategy Halted does not support manual restart requests");
                    }

                    if (!running)
                    {
                        throw Conflict("VM is not running");
                    }

                    if (!dryRun)
                    {
                        if (strategy == "Manual")
                        {
                            SetRequests(api, vm, "Stop", "Start");
                        }
                        else
                        {
                            api.Delete(ResourceCatalog.VirtualMachineInstances, ns, name);
                        }

                        api.RecordEvent(vm, "Normal", "Restarted", "VirtualMachine restart requested", "virt-api");
                    }

                    return;
                case "migrate":
                    Migrate(api, vm, vmi, running, dryRun);
                    return;
            }
        }

        if (resource == "virtualmachineinstances" && ResourceCatalog.VirtualMachineInstanceActions.Contains(action))
        {
            var vmi = api.Get(ResourceCatalog.VirtualMachineInstances, ns, name);
            var paused = Json.ConditionStatus(vmi["status"], "Paused") == "True";
            if (Json.Str(vmi, "status", "phase") != "Running")
            {
                throw Conflict("VMI is not running");
            }

            if (action == "pause" && paused)
            {
                throw Conflict("VMI is already paused");
            }

            if (action == "unpause" && !paused)
            {
                throw Conflict("VMI is not paused");
            }

            if (dryRun)
            {
                return;
            }

            var status = (JsonObject)(vmi["status"]?.DeepClone() ?? new JsonObject());
            if (action == "pause")
            {
                Json.SetCondition(status, "Paused", "True", "PausedByUser", "VMI was paused by user", api.Now, probeTimes: true);
            }
            else if (status["conditions"] is JsonArray conditions)
            {
                foreach (var c in conditions.OfType<JsonObject>().Where(c => Json.Str(c, "type") == "Paused").ToList())
                {
                    conditions.Remove(c);
                }
            }

            api.SaveStatus(ResourceCatalog.VirtualMachineInstances, vmi, status);
            api.RecordEvent(vmi, "Normal", action == "pause" ? "Paused" : "Unpaused", action == "pause" ? "VirtualMachineInstance paused" : "VirtualMachineInstance unpaused", "virt-handler");
            return;
        }

        throw new KubeApiException(404, "NotFound", $"the server could not find the requested resource ({resource}/{action})");
    }

    private static KubeApiException Conflict(string message) => new(409, "Conflict", message);

    private static void Start(SimulatedApi api, JsonObject vm, string strategy, bool running, bool dryRun)
    {
        switch (strategy)
        {
            case "Always" or "Once":
                throw Conflict(running ? "VM is already running" : $"{strategy} does not support manual start requests");
            case "Halted":
                if (running)
                {
                    throw Conflict("VM is already running");
                }

                if (!dryRun)
                {
                    SetStrategy(api, vm, "Always");
                }

                break;
            default:
                if (running)
                {
                    throw Conflict("VM is already running");
                }

                if (!dryRun)
                {
                    SetRequests(api, vm, "Start");
                }

                break;
        }
    }

    private static void Stop(SimulatedApi api, JsonObject vm, JsonObject? vmi, string strategy, bool running, bool dryRun)
    {
        if (strategy == "Halted" && vmi is null)
        {
            throw Conflict("VM is not running");
        }

        if (strategy == "Manual")
        {
            if (!running)
            {
                throw Conflict("VM is not running");
            }

            if (!dryRun)
            {
                SetRequests(api, vm, "Stop");
            }

            return;
        }

        if (!dryRun && strategy != "Halted")
        {
            SetStrategy(api, vm, "Halted");
        }
        else if (!dryRun && vmi is not null)
        {
            api.Delete(ResourceCatalog.VirtualMachineInstances, Json.Namespace(vm), Json.Name(vm));
        }
    }

    private static void Migrate(SimulatedApi api, JsonObject vm, JsonObject? vmi, bool running, bool dryRun)
    {
        if (!running || vmi is null || Json.Str(vmi, "status", "phase") != "Running")
        {
            throw Conflict("VM is not running");
        }

        if (Json.ConditionStatus(vmi["status"], "LiveMigratable") != "True")
        {
            throw Conflict("VMI is not live migratable");
        }

        var source = Json.Str(vmi, "status", "nodeName");
        var target = api.Store.List(ResourceCatalog.Nodes).Select(Json.Name).FirstOrDefault(n => n != source)
            ?? throw Conflict("no other schedulable node to migrate to");
        if (dryRun)
        {
            return;
        }

        var status = (JsonObject)vmi["status"]!.DeepClone();
        var now = Json.Timestamp(api.Now);
        status["nodeName"] = target;
        status["migrationState"] = new JsonObject
        {
            ["sourceNode"] = source,
            ["targetNode"] = target,
            ["startTimestamp"] = now,
            ["endTimestamp"] = now,
            ["completed"] = true,
            ["failed"] = false,
            ["mode"] = "PreCopy",
            ["migrationUid"] = api.Store.NewUid(),
        };
        api.SaveStatus(ResourceCatalog.VirtualMachineInstances, vmi, status);
        api.RecordEvent(vm, "Normal", "Migrated", $"The VirtualMachineInstance migrated from {source} to {target} (simulated)", "virt-handler");
    }

    private static void SetStrategy(SimulatedApi api, JsonObject vm, string strategy)
    {
        var spec = Json.Obj(vm, "spec");
        spec.Remove("running");
        spec["runStrategy"] = strategy;
        api.Replace(ResourceCatalog.VirtualMachines, Json.Namespace(vm), Json.Name(vm), vm);
    }

    private static void SetRequests(SimulatedApi api, JsonObject vm, params string[] actions)
    {
        var status = vm["status"] is JsonObject s ? (JsonObject)s.DeepClone() : [];
        status["stateChangeRequests"] = new JsonArray(actions.Select(a => (JsonNode)new JsonObject { ["action"] = a }).ToArray());
        api.SaveStatus(ResourceCatalog.VirtualMachines, vm, status);
    }
}
