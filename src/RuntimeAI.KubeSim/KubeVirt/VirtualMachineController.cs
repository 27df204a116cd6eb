using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.Controllers;

namespace RuntimeAI.KubeSim.KubeVirt;

/// <summary>
/// The virt-controller part of KubeVirt, simulated: a VirtualMachine's runStrategy (and pending state change requests)
/// decides whether a VirtualMachineInstance should exist; a VMI gets a virt-launcher pod (which the pod lifecycle
/// schedules and starts, and which counts against quota), then runs; VM status carries printableStatus.
/// No guest runs.
/// </summary>
internal static class VirtualMachineController
{
    public const string ShutdownFinalizer = "kubevirt.io/virtualMachineControllerFinalize";

    public static string RunStrategy(JsonObject vm) =>
        Json.Str(vm, "spec", "runStrategy") ?? (Json.Bool(vm, "spec", "running") == true ? "Always" : "Halted");

    public static void Reconcile(SimulatedApi api)
    {
        foreach (var vm in api.Store.List(ResourceCatalog.VirtualMachines))
        {
            if (Json.At(vm, "metadata", "deletionTimestamp") is null)
            {
                Reconciler.Safely(() => VirtualMachine(api, vm));
            }
        }

        foreach (var vmi in api.Store.List(ResourceCatalog.VirtualMachineInstances))
        {
            Reconciler.Safely(() => Instance(api, vmi));
        }
    }

    private static void VirtualMachine(SimulatedApi api, JsonObject vm)
    {
        var ns = Json.Namespace(vm)!;
        var name = Json.Name(vm);
        var strategy = RunStrategy(vm);
        var vmi = api.Store.Get(ResourceCatalog.VirtualMachineInstances, ns, name);
        var requests = (Json.At(vm, "status", "stateChangeRequests") as JsonArray ?? []).OfType<JsonObject>().Select(r => Json.Str(r, "action")).ToList();
        var status = vm["status"] is JsonObject s ? (JsonObject)s.DeepClone() : [];

        if (requests.FirstOrDefault() == "Stop")
        {
            if (vmi is not null && Json.At(vmi, "metadata", "deletionTimestamp") is null)
            {
                api.Delete(ResourceCatalog.VirtualMachineInstances, ns, name);
                api.RecordEvent(vm, "Normal", "SuccessfulDelete", $"Stopped the virtual machine by deleting the virtual machine instance {Json.Uid(vmi)}", "virtualmachine-controller");
                return;
            }

            if (vmi is null)
            {
                requests.RemoveAt(0);
            }
        }
        else
        {
            var final = vmi is not null && Json.Str(vmi, "status", "phase") is "Succeeded" or "Failed";
            var shouldRun = strategy switch
            {
                "Always" => true,
                "RerunOnFailure" => !(vmi is not null && Json.Str(vmi, "status", "phase") == "Succeeded"),
                "Once" => vmi is null ? Json.Bool(status, "created") != true && !(Json.Str(status, "printableStatus") is "Stopped" && Json.At(status, "conditions") is not null) : !final,
                "Manual" => requests.FirstOrDefault() == "Start" || (vmi is not null && !final),
                _ => false,
            };
            if (shouldRun && vmi is null)
            {
                vmi = CreateInstance(api, vm);
                if (requests.FirstOrDefault() == "Start")
                {
                    requests.RemoveAt(0);
                }
            }
            else if (shouldRun && final && strategy is "Always" or "RerunOnFailure")
            {
                api.Delete(ResourceCatalog.VirtualMachineInstances, ns, name);
                return;
            }
            else if (!shouldRun && vmi is not null && Json.At(vmi, "metadata", "deletionTimestamp") is null && !final)
            {
                api.Delete(ResourceCatalog.VirtualMachineInstances, ns, name);
                api.RecordEvent(vm, "Normal", "SuccessfulDelete", $"Stopped the virtual machine by deleting the virtual machine instance {Json.Uid(vmi)}", "virtualmachine-controller");
                vmi = api.Store.Get(ResourceCatalog.VirtualMachineInstances, ns, name);
            }
        }

        var phase = Json.Str(vmi, "status", "phase");
        var stopping = vmi is not null && Json.At(vmi, "metadata", "deletionTimestamp") is not null;
        var paused = vmi is not null && Json.ConditionStatus(vmi["status"], "Paused") == "True";
        var unschedulable = vmi is not null && Json.ConditionStatus(vmi["status"], "PodScheduled") == "False";
        var printable = vmi is null ? "Stopped"
            : stopping ? "Stopping"
            : paused ? "Paused"
            : unschedulable ? "ErrorUnschedulable"
            : phase switch
            {
                "Running" => "Running",
                "Succeeded" or "Failed" => "Stopped",
                "Migrating" => "Migrating",
                _ => "Starting",
            };
        var ready = phase == "Running" && !stopping && !paused;
        var now = api.Now;
        status["printableStatus"] = printable;
        status["created"] = vmi is not null;
        status["ready"] = ready;
        status["runStrategy"] = strategy;
        status["observedGeneration"] = Json.Long(vm, "metadata", "generation");
        status["desiredGeneration"] = Json.Long(vm, "metadata", "generation");
        if (status["created"]?.GetValue<bool>() == false)
        {
            status.Remove("created");
        }

        if (!ready)
        {
            status.Remove("ready");
        }

        Json.SetCondition(status, "Ready", ready ? "True" : "False", ready ? null : vmi is null ? "VMINotExists" : "PodNotExists",
            ready ? null : vmi is null ? "VMI does not exist" : "virt-launcher pod is not ready", now, probeTimes: true);
        if (paused)
        {
            Json.SetCondition(status, "Paused", "True", "PausedByUser", "VMI was paused by user", now, probeTimes: true);
        }
        else if (status["conditions"] is JsonArray conds)
        {
            foreach (var c in conds.OfType<JsonObject>().Where(c => Json.Str(c, "type") == "Paused").ToList())
            {
                conds.Remove(c);
            }
        }

        if (requests.Count > 0)
        {
            status["stateChangeRequests"] = new JsonArray(requests.Select(r => (JsonNode)new JsonObject { ["action"] = r }).ToArray());
        }
        else
        {
            status.Remove("stateChangeRequests");
        }

        var fresh = api.Get(ResourceCatalog.VirtualMachines, ns, name);
        if (Json.Str(fresh, "metadata", "resourceVersion") != Json.Str(vm, "metadata", "resourceVersion"))
        {
            return; // a client changed the VM meanwhile; the next pass decides again.
        }

        api.SaveStatus(ResourceCatalog.VirtualMachines, fresh, status);
    }

    private static JsonObject CreateInstance(SimulatedApi api, JsonObject vm)
    {
        var ns = Json.Namespace(vm)!;
        var name = Json.Name(vm);
        var template = Json.At(vm, "spec", "template") as JsonObject ?? [];
        var meta = template["metadata"] is JsonObject m ? (JsonObject)m.DeepClone() : [];
        meta["name"] = name;
        meta["namespace"] = ns;
        Json.Obj(meta, "labels")["kubevirt.io/vm"] = name;
        meta["ownerReferences"] = new JsonArray(SimulatedApi.OwnerReference(vm));
        meta["finalizers"] = new JsonArray(ShutdownFinalizer);
        var spec = (JsonObject)(template["spec"]?.DeepClone() ?? new JsonObject());
        var (cpu, memory) = KubeVirtCatalog.GuestResources(api, vm);
        var domain = Json.Obj(spec, "domain");
        Json.Obj(domain, "cpu")["sockets"] ??= cpu;
        Json.Obj(domain, "cpu")["cores"] ??= 1;
        Json.Obj(domain, "cpu")["threads"] ??= 1;
        Json.Obj(domain, "memory")["guest"] ??= memory;
        domain["firmware"] ??= new JsonObject { ["uuid"] = api.Store.NewUid() };
        domain["machine"] ??= new JsonObject { ["type"] = "q35" };
        var vmi = api.Create(ResourceCatalog.VirtualMachineInstances, ns, new JsonObject
        {
            ["metadata"] = meta,
            ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = "Pending" },
        });
        vmi["status"] = new JsonObject { ["phase"] = "Pending", ["phaseTransitionTimestamps"] = new JsonArray(Transition("Pending", api.Now)) };
        vmi = api.Save(ResourceCatalog.VirtualMachineInstances, vmi);
        api.RecordEvent(vm, "Normal", "SuccessfulCreate", $"Started the virtual machine by creating the new virtual machine instance {name}", "virtualmachine-controller");
        return vmi;
    }

    private static JsonObject Transition(string phase, DateTimeOffset now) => new() { ["phase"] = phase, ["phaseTransitionTimestamp"] = Json.Timestamp(now) };

    private static void Instance(SimulatedApi api, JsonObject vmi)
    {
        var ns = Json.Namespace(vmi)!;
        var name = Json.Name(vmi);
        var now = api.Now;
        var launcher = api.Store.List(ResourceCatalog.Pods, ns).FirstOrDefault(p => SimulatedApi.IsOwnedBy(p, Json.Uid(vmi)));

        if (Json.At(vmi, "metadata", "deletionTimestamp") is { } deletion)
        {
            var since = Json.ParseTime(Json.Str(deletion)) ?? now;
            if (now - since < api.Options.Delay(api.Options.VirtualMachineStopDelay))
            {
                return;
            }

            if (launcher is not null)
            {
                api.TryDelete(ResourceCatalog.Pods, ns, Json.Name(launcher));
            }

            Json.Meta(vmi)["finalizers"] = new JsonArray((Json.At(vmi, "metadata", "finalizers") as JsonArray ?? [])
                .Where(f => Json.Str(f) != ShutdownFinalizer).Select(f => f?.DeepClone()).ToArray());
            api.Save(ResourceCatalog.VirtualMachineInstances, vmi);
            if (api.Store.Get(ResourceCatalog.VirtualMachines, ns, name) is { } vm)
            {
                api.RecordEvent(vm, "Normal", "Stopped", "The virtual machine was shut down (simulated)", "virt-handler");
            }

            return;
        }

        var status = vmi["status"] is JsonObject s ? (JsonObject)s.DeepClone() : [];
        var phase = Json.Str(status, "phase") ?? "Pending";
        if (phase is "Succeeded" or "Failed")
        {
            return;
        }

        if (launcher is null && api.RecentlyRecorded(vmi, "FailedCreate", TimeSpan.FromSeconds(10)))
        {
            return;
        }

        if (launcher is null)
        {
            var (cpu, memory) = ((int)(Json.Long(vmi, "spec", "domain", "cpu", "sockets") ?? 1), Json.Str(vmi, "spec", "domain", "memory", "guest") ?? "1Gi");
            var requestMemory = Quantity.Parse(memory) + (220m * 1024 * 1024);
            var pod = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["generateName"] = $"virt-launcher-{name}-",
                    ["namespace"] = ns,
                    ["labels"] = new JsonObject { ["kubevirt.io"] = "virt-launcher", ["kubevirt.io/created-by"] = Json.Uid(vmi), ["vm.kubevirt.io/name"] = name },
                    ["annotations"] = new JsonObject { ["kubectl.kubernetes.io/default-container"] = "compute", ["kubevirt.io/domain"] = name },
                    ["ownerReferences"] = new JsonArray(SimulatedApi.OwnerReference(vmi)),
                },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "compute",
                        ["image"] = "quay.io/kubevirt/virt-launcher:v1.4.0",
                        ["resources"] = new JsonObject
                        {
                            ["requests"] = new JsonObject { ["cpu"] = Quantity.Cpu(cpu * 0.1m), ["memory"] = Quantity.Memory(requestMemory) },
                        },
                    }),
                    ["nodeSelector"] = new JsonObject { ["kubevirt.io/schedulable"] = "true" },
                    ["restartPolicy"] = "Never",
                },
            };
            try
            {
                api.Create(ResourceCatalog.Pods, ns, pod);
                status["phase"] = "Scheduling";
                Json.Arr(status, "phaseTransitionTimestamps").Add((JsonNode)Transition("Scheduling", now));
            }
            catch (KubeApiException ex)
            {
                Json.SetCondition(status, "Synchronized", "False", "FailedCreate", $"failed to create virtual machine pod: {ex.Message}", now, probeTimes: true);
                api.RecordEvent(vmi, "Warning", "FailedCreate", $"Error creating pod: {ex.Message}", "virtualmachine-controller");
            }

            api.SaveStatus(ResourceCatalog.VirtualMachineInstances, vmi, status);
            return;
        }

        var podScheduled = Json.ConditionStatus(launcher["status"], "PodScheduled");
        if (podScheduled == "False")
        {
            Json.SetCondition(status, "PodScheduled", "False", "Unschedulable", (Json.At(launcher, "status", "conditions") as JsonArray ?? []).OfType<JsonObject>().Where(c => Json.Str(c, "type") == "PodScheduled").Select(c => Json.Str(c, "message")).FirstOrDefault(), now, probeTimes: true);
            api.SaveStatus(ResourceCatalog.VirtualMachineInstances, vmi, status);
            return;
        }

        if (status["conditions"] is JsonArray conds)
        {
            foreach (var c in conds.OfType<JsonObject>().Where(c => Json.Str(c, "type") is "PodScheduled" or "Synchronized").ToList())
            {
                conds.Remove(c);
            }
        }

        var node = Json.Str(launcher, "spec", "nodeName");
        if (node is not null && phase is "Pending" or "Scheduling")
        {
            status["phase"] = "Scheduled";
            status["nodeName"] = node;
            Json.Arr(status, "phaseTransitionTimestamps").Add((JsonNode)Transition("Scheduled", now));
        }

        var created = Json.ParseTime(Json.Str(vmi, "metadata", "creationTimestamp")) ?? now;
        if (Json.Str(launcher, "status", "phase") == "Running" && Json.Str(status, "phase") == "Scheduled" && now - created >= api.Options.Delay(api.Options.VirtualMachineStartDelay))
        {
            var ip = Json.Str(launcher, "status", "podIP");
            var h = SimulatedApi.StableHash(Json.Uid(vmi) ?? name);
            status["phase"] = "Running";
            Json.Arr(status, "phaseTransitionTimestamps").Add((JsonNode)Transition("Running", now));
            status["interfaces"] = new JsonArray(new JsonObject
            {
                ["name"] = "default",
                ["ipAddress"] = ip,
                ["ipAddresses"] = new JsonArray(ip),
                ["mac"] = string.Create(CultureInfo.InvariantCulture, $"02:6b:73:{h >> 16 & 0xff:x2}:{h >> 8 & 0xff:x2}:{h & 0xff:x2}"),
                ["interfaceName"] = "eth0",
                ["infoSource"] = "domain, guest-agent",
                ["queueCount"] = 1,
            });
            status["guestOSInfo"] = new JsonObject { ["id"] = "fedora", ["name"] = "Fedora Linux", ["version"] = "41", ["kernelRelease"] = "6.11.4-301.fc41.x86_64" };
            status["launcherContainerImageVersion"] = "quay.io/kubevirt/virt-launcher:v1.4.0";
            status["qosClass"] = "Burstable";
            status["migrationMethod"] = "BlockMigration";
            status["activePods"] = new JsonObject { [Json.Uid(launcher)!] = node };
            status["currentCPUTopology"] = new JsonObject { ["sockets"] = Json.Long(vmi, "spec", "domain", "cpu", "sockets") ?? 1, ["cores"] = 1, ["threads"] = 1 };
            status["memory"] = new JsonObject { ["guestAtBoot"] = Json.Str(vmi, "spec", "domain", "memory", "guest"), ["guestCurrent"] = Json.Str(vmi, "spec", "domain", "memory", "guest") };
            Json.SetCondition(status, "Ready", "True", null, null, now, probeTimes: true);
            Json.SetCondition(status, "LiveMigratable", "True", null, null, now, probeTimes: true);
            Json.SetCondition(status, "AgentConnected", "True", null, null, now, probeTimes: true);
            if (api.Store.Get(ResourceCatalog.VirtualMachines, ns, name) is { } vm)
            {
                api.RecordEvent(vm, "Normal", "Started", "VirtualMachineInstance started (simulated guest)", "virt-handler");
            }
        }
        else if (Json.Str(status, "phase") != "Running")
        {
            Json.SetCondition(status, "Ready", "False", "GuestNotRunning", "Guest VM is not reported as running", now, probeTimes: true);
        }

        api.SaveStatus(ResourceCatalog.VirtualMachineInstances, vmi, status);
    }
}
