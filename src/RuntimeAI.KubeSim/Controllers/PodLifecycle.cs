using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>
/// Scheduler and kubelet in one: binds pending pods to a node whose allocatable cpu, memory and pod count fit the
/// requests (most free cpu first, honouring nodeSelector), then after <see cref="KubeSimOptions.PodStartDelay"/>
/// reports the containers running and the pod Ready. No container actually runs.
/// </summary>
internal static class PodLifecycle
{
    public static void Reconcile(SimulatedApi api)
    {
        var nodes = api.Store.List(ResourceCatalog.Nodes);
        foreach (var pod in api.Store.List(ResourceCatalog.Pods))
        {
            if (Json.At(pod, "metadata", "deletionTimestamp") is not null || Json.Str(pod, "status", "phase") is "Succeeded" or "Failed")
            {
                continue;
            }

            Reconciler.Safely(() =>
            {
                if (string.IsNullOrEmpty(Json.Str(pod, "spec", "nodeName")))
                {
                    Schedule(api, pod, nodes);
                }
                else if (Json.Str(pod, "status", "phase") == "Pending")
                {
                    Start(api, pod, nodes);
                }
            });
        }
    }

    public static (decimal Cpu, decimal Memory) Requests(JsonObject pod)
    {
        decimal cpu = 0, mem = 0;
        foreach (var c in Quotas.Containers(pod))
        {
            cpu += Quantity.Parse(Json.Str(c, "resources", "requests", "cpu") ?? Json.Str(c, "resources", "limits", "cpu"));
            mem += Quantity.Parse(Json.Str(c, "resources", "requests", "memory") ?? Json.Str(c, "resources", "limits", "memory"));
        }

        return (cpu, mem);
    }

    private static void Schedule(SimulatedApi api, JsonObject pod, List<JsonObject> nodes)
    {
        var (cpu, mem) = Requests(pod);
        var selector = Json.StringMap(Json.At(pod, "spec", "nodeSelector"));
        var pods = api.Store.ListShared(ResourceCatalog.Pods).Where(p => Json.Str(p, "status", "phase") is not ("Succeeded" or "Failed")).ToList();
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        JsonObject? best = null;
        decimal bestFree = -1;
        foreach (var node in nodes)
        {
            var nodeName = Json.Name(node);
            var onNode = pods.Where(p => Json.Str(p, "spec", "nodeName") == nodeName).ToList();
            var usedCpu = onNode.Sum(p => Requests(p).Cpu);
            var usedMem = onNode.Sum(p => Requests(p).Memory);
            var freeCpu = Quantity.Parse(Json.Str(node, "status", "allocatable", "cpu")) - usedCpu;
            var freeMem = Quantity.Parse(Json.Str(node, "status", "allocatable", "memory")) - usedMem;
            string? reason = null;
            if (Json.ConditionStatus(node["status"], "Ready") != "True")
            {
                reason = "node(s) were not ready";
            }
            else if (Json.Bool(node, "spec", "unschedulable") == true)
            {
                reason = "node(s) were unschedulable";
            }
            else if (!LabelSelector.FromMap(selector).Matches(node))
            {
                reason = "node(s) didn't match Pod's node affinity/selector";
            }
            else if (freeCpu < cpu)
            {
                reason = "Insufficient cpu";
            }
            else if (freeMem < mem)
            {
                reason = "Insufficient memory";
            }
            else if (onNode.Count >= Quantity.Parse(Json.Str(node, "status", "allocatable", "pods") ?? "110"))
            {
                reason = "Too many pods";
            }

            if (reason is not null)
            {
                reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                continue;
            }

            if (freeCpu > bestFree)
            {
                best = node;
                bestFree = freeCpu;
            }
        }

        var status = (JsonObject)(pod["status"]?.DeepClone() ?? new JsonObject());
        var now = api.Now;
        if (best is null)
        {
            var message = $"0/{nodes.Count} nodes are available: {string.Join(", ", reasons.Select(kv => $"{kv.Value} {kv.Key}"))}. preemption: 0/{nodes.Count} nodes are available.";
            if (Json.ConditionStatus(status, "PodScheduled") != "False")
            {
                api.RecordEvent(pod, "Warning", "FailedScheduling", message, "default-scheduler");
            }

            Json.SetCondition(status, "PodScheduled", "False", "Unschedulable", message, now, probeTimes: true);
            api.SaveStatus(ResourceCatalog.Pods, pod, status);
            return;
        }

        var chosen = Json.Name(best);
        Json.Obj(pod, "spec")["nodeName"] = chosen;
        status["hostIP"] = Json.Str((Json.At(best, "status", "addresses") as JsonArray)?.FirstOrDefault(), "address");
        status["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = status["hostIP"]?.DeepClone() });
        Json.SetCondition(status, "PodReadyToStartContainers", "False", null, null, now, probeTimes: true);
        Json.SetCondition(status, "Initialized", "True", null, null, now, probeTimes: true);
        Json.SetCondition(status, "Ready", "False", "ContainersNotReady", $"containers with unready status: [{string.Join(' ', Quotas.Containers(pod).Select(c => Json.Str(c, "name")))}]", now, probeTimes: true);
        Json.SetCondition(status, "ContainersReady", "False", "ContainersNotReady", null, now, probeTimes: true);
        Json.SetCondition(status, "PodScheduled", "True", null, null, now, probeTimes: true);
        status["containerStatuses"] = new JsonArray(Quotas.Containers(pod).Select(c => (JsonNode)new JsonObject
        {
            ["name"] = Json.Str(c, "name"),
            ["image"] = Json.Str(c, "image"),
            ["imageID"] = string.Empty,
            ["ready"] = false,
            ["started"] = false,
            ["restartCount"] = 0,
            ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } },
            ["lastState"] = new JsonObject(),
        }).ToArray());
        status["startTime"] = Json.Timestamp(now);
        pod["status"] = status;
        api.Save(ResourceCatalog.Pods, pod);
        api.RecordEvent(pod, "Normal", "Scheduled", $"Successfully assigned {Json.Namespace(pod)}/{Json.Name(pod)} to {chosen}", "default-scheduler");
    }

    private static void Start(SimulatedApi api, JsonObject pod, List<JsonObject> nodes)
    {
        var scheduledAt = Json.ParseTime((Json.At(pod, "status", "conditions") as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(c => Json.Str(c, "type") == "PodScheduled") is { } cond ? Json.Str(cond, "lastTransitionTime") : null);
        var now = api.Now;
        if (scheduledAt is null || now - scheduledAt.Value < api.Options.Delay(api.Options.PodStartDelay))
        {
            return;
        }

        var nodeName = Json.Str(pod, "spec", "nodeName");
        var nodeIndex = nodes.FindIndex(n => Json.Name(n) == nodeName);
        var h = SimulatedApi.StableHash(Json.Uid(pod) ?? Json.Name(pod));
        var ip = string.Create(CultureInfo.InvariantCulture, $"10.244.{Math.Max(0, nodeIndex)}.{h % 250 + 2}");
        var status = (JsonObject)(pod["status"]?.DeepClone() ?? new JsonObject());
        status["phase"] = "Running";
        status["podIP"] = ip;
        status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip });
        status["startTime"] ??= Json.Timestamp(now);
        foreach (var type in new[] { "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled" })
        {
            Json.SetCondition(status, type, "True", null, null, now, probeTimes: true);
        }

        status["containerStatuses"] = new JsonArray(Quotas.Containers(pod).Select(c =>
        {
            var image = Json.Str(c, "image") ?? string.Empty;
            var fullImage = image.Contains('/', StringComparison.Ordinal) ? image : $"docker.io/library/{image}";
            return (JsonNode)new JsonObject
            {
                ["name"] = Json.Str(c, "name"),
                ["image"] = fullImage.Contains(':', StringComparison.Ordinal) ? fullImage : fullImage + ":latest",
                ["imageID"] = $"{fullImage.Split(':')[0]}@sha256:{SimulatedApi.StableHash(image):x8}{new string('0', 56)}",
                ["containerID"] = $"containerd://{SimulatedApi.StableHash(Json.Uid(pod) + Json.Str(c, "name")):x8}{new string('a', 56)}",
                ["ready"] = true,
                ["started"] = true,
                ["restartCount"] = 0,
                ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Json.Timestamp(now) } },
                ["lastState"] = new JsonObject(),
            };
        }).ToArray());
        api.SaveStatus(ResourceCatalog.Pods, pod, status);
        foreach (var c in Quotas.Containers(pod))
        {
            var name = Json.Str(c, "name");
            api.RecordEvent(pod, "Normal", "Pulled", $"Container image \"{Json.Str(c, "image")}\" already present on machine (simulated)", "kubelet");
            api.RecordEvent(pod, "Normal", "Created", $"Created container {name}", "kubelet");
            api.RecordEvent(pod, "Normal", "Started", $"Started container {name}", "kubelet");
        }
    }
}
