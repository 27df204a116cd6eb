using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>PodDisruptionBudget arithmetic and the eviction subresource that honours it.</summary>
internal static class Disruption
{
    public static void Evict(SimulatedApi api, string ns, string name, JsonObject eviction, bool dryRun)
    {
        var pod = api.Get(ResourceCatalog.Pods, ns, name);
        foreach (var pdb in api.Store.List(ResourceCatalog.PodDisruptionBudgets, ns))
        {
            if (!LabelSelector.FromObject(Json.At(pdb, "spec", "selector")).Matches(pod))
            {
                continue;
            }

            var (healthy, desired, allowed) = Compute(api, pdb);
            if (IsHealthy(pod) && allowed < 1)
            {
                var details = new JsonObject
                {
                    ["causes"] = new JsonArray(new JsonObject
                    {
                        ["reason"] = "DisruptionBudget",
                        ["message"] = $"The disruption budget {Json.Name(pdb)} needs {desired} healthy pods and has {healthy} currently",
                    }),
                };
                throw new KubeApiException(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", details);
            }
        }

        var dryRunRequested = dryRun || (Json.At(eviction, "deleteOptions", "dryRun") as JsonArray)?.Any(v => Json.Str(v) == "All") == true;
        api.Delete(ResourceCatalog.Pods, ns, name, dryRun: dryRunRequested);
        if (!dryRunRequested)
        {
            api.RecordEvent(pod, "Normal", "Killing", $"Stopping container {Json.Str(Quotas.Containers(pod).FirstOrDefault(), "name")} (evicted)", "kubelet");
        }
    }

    public static bool IsHealthy(JsonObject pod) =>
        Json.Str(pod, "status", "phase") == "Running" && Json.ConditionStatus(pod["status"], "Ready") == "True" &&
        Json.At(pod, "metadata", "deletionTimestamp") is null;

    /// <summary>(currentHealthy, desiredHealthy, disruptionsAllowed) for a budget, as the disruption controller computes them.</summary>
    public static (int Healthy, int Desired, int Allowed) Compute(SimulatedApi api, JsonObject pdb)
    {
        var selector = LabelSelector.FromObject(Json.At(pdb, "spec", "selector"));
        var pods = api.Store.ListShared(ResourceCatalog.Pods, Json.Namespace(pdb)).Where(selector.Matches).ToList();
        var expected = pods.Count;
        var healthy = pods.Count(IsHealthy);
        int desired;
        if (Json.At(pdb, "spec", "minAvailable") is { } min)
        {
            desired = Resolve(min, expected, roundUp: true);
        }
        else if (Json.At(pdb, "spec", "maxUnavailable") is { } max)
        {
            desired = Math.Max(0, expected - Resolve(max, expected, roundUp: true));
        }
        else
        {
            desired = expected;
        }

        return (healthy, desired, Math.Max(0, healthy - desired));
    }

    private static int Resolve(JsonNode value, int total, bool roundUp)
    {
        var text = Json.Str(value) ?? "0";
        if (text.EndsWith('%'))
        {
            var pct = decimal.Parse(text[..^1], CultureInfo.InvariantCulture);
            var exact = total * pct / 100m;
            return (int)(roundUp ? Math.Ceiling(exact) : Math.Floor(exact));
        }

        return int.Parse(text, CultureInfo.InvariantCulture);
    }
}
