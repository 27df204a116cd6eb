using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>
/// The node lifecycle controller: pods on a node that is not Ready lose their Ready condition at once and are
/// evicted (deleted, so their controllers replace them elsewhere) after <see cref="KubeSimOptions.NodeNotReadyEvictionDelay"/>,
/// like the default not-ready toleration of 300 s. When the node is Ready again its pods are Ready again.
/// </summary>
internal static class NodeLifecycle
{
    public static void Reconcile(SimulatedApi api)
    {
        var now = api.Now;
        foreach (var node in api.Store.ListShared(ResourceCatalog.Nodes))
        {
            var nodeName = Json.Name(node);
            var ready = Json.ConditionStatus(node["status"], "Ready") == "True";
            var since = (Json.At(node, "status", "conditions") as JsonArray ?? []).OfType<JsonObject>()
                .Where(c => Json.Str(c, "type") == "Ready").Select(c => Json.ParseTime(Json.Str(c, "lastTransitionTime"))).FirstOrDefault() ?? now;
            var pods = api.Store.ListShared(ResourceCatalog.Pods)
                .Where(p => Json.Str(p, "spec", "nodeName") == nodeName && Json.Str(p, "status", "phase") == "Running" && Json.At(p, "metadata", "deletionTimestamp") is null)
                .ToList();
            foreach (var pod in pods)
            {
                Reconciler.Safely(() =>
                {
                    var podReady = Json.ConditionStatus(pod["status"], "Ready") == "True";
                    if (!ready && now - since >= api.Options.NodeNotReadyEvictionDelay)
                    {
                        api.RecordEvent(pod, "Normal", "TaintManagerEviction", $"Marking for deletion Pod {Json.Namespace(pod)}/{Json.Name(pod)}", "taint-eviction-controller");
                        api.TryDelete(ResourceCatalog.Pods, Json.Namespace(pod), Json.Name(pod));
                        return;
                    }

                    if (ready == podReady)
                    {
                        return;
                    }

                    var status = (JsonObject)pod["status"]!.DeepClone();
                    var value = ready ? "True" : "False";
                    Json.SetCondition(status, "Ready", value, ready ? null : "NodeNotReady", null, now, probeTimes: true);
                    Json.SetCondition(status, "ContainersReady", value, ready ? null : "NodeNotReady", null, now, probeTimes: true);
                    foreach (var c in (status["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        c["ready"] = ready;
                    }

                    var copy = (JsonObject)pod.DeepClone();
                    api.SaveStatus(ResourceCatalog.Pods, copy, status);
                    if (!ready)
                    {
                        api.RecordEvent(copy, "Warning", "NodeNotReady", "Node is not ready", "node-controller");
                    }
                });
            }
        }
    }

    /// <summary>Sets a node's Ready condition as a kubelet that stopped (or resumed) posting status would.</summary>
    public static void SetReady(SimulatedApi api, string nodeName, bool ready)
    {
        var node = api.Get(ResourceCatalog.Nodes, null, nodeName);
        var status = (JsonObject)(node["status"]?.DeepClone() ?? new JsonObject());
        if (ready)
        {
            Json.SetCondition(status, "Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated)", api.Now);
        }
        else
        {
            Json.SetCondition(status, "Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", api.Now);
        }

        api.SaveStatus(ResourceCatalog.Nodes, node, status);
        api.RecordEvent(node, ready ? "Normal" : "Warning", ready ? "NodeReady" : "NodeNotReady",
            ready ? $"Node {nodeName} status is now: NodeReady" : $"Node {nodeName} status is now: NodeNotReady", "node-controller");
    }
}
