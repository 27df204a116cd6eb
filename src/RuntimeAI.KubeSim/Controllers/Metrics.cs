using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>
/// metrics.k8s.io/v1beta1, computed on read: usage follows a daily-ish sine with per-object phase plus small
/// deterministic noise, all derived from <see cref="KubeSimOptions.RandomSeed"/> and the simulated clock, so the
/// numbers move over time and repeat for the same seed.
/// </summary>
internal static class Metrics
{
    private static readonly TimeSpan s_period = TimeSpan.FromHours(1);

    public static JsonObject Get(SimulatedApi api, ResourceType type, string? ns, string name) =>
        List(api, type, ns).FirstOrDefault(o => Json.Name(o) == name) ?? throw KubeApiException.NotFound(type, name);

    public static List<JsonObject> List(SimulatedApi api, ResourceType type, string? ns)
    {
        var now = api.Now;
        if (type == ResourceCatalog.PodMetrics)
        {
            return api.Store.List(ResourceCatalog.Pods, ns).Where(p => Json.Str(p, "status", "phase") == "Running").Select(p => ForPod(api, p, now)).ToList();
        }

        var pods = api.Store.List(ResourceCatalog.Pods).Where(p => Json.Str(p, "status", "phase") == "Running").ToList();
        return api.Store.List(ResourceCatalog.Nodes).Select(n =>
        {
            var nodeName = Json.Name(n);
            decimal cpu = 0.1m + Wave(api, nodeName, now, 0.05m), memory = 600m * 1024 * 1024;
            foreach (var p in pods.Where(p => Json.Str(p, "spec", "nodeName") == nodeName))
            {
                foreach (var (c, m) in ContainerUsage(api, p, now))
                {
                    cpu += c;
                    memory += m;
                }
            }

            return new JsonObject
            {
                ["kind"] = "NodeMetrics",
                ["apiVersion"] = "metrics.k8s.io/v1beta1",
                ["metadata"] = new JsonObject { ["name"] = nodeName, ["creationTimestamp"] = Json.Timestamp(now), ["labels"] = Json.At(n, "metadata", "labels")?.DeepClone() },
                ["timestamp"] = Json.Timestamp(now),
                ["window"] = "20.05s",
                ["usage"] = new JsonObject { ["cpu"] = Quantity.NanoCores(cpu), ["memory"] = Quantity.Memory(Math.Round(memory / 1024) * 1024) },
            };
        }).ToList();
    }

    private static JsonObject ForPod(SimulatedApi api, JsonObject pod, DateTimeOffset now)
    {
        var containers = new JsonArray();
        var names = Quotas.Containers(pod).Select(c => Json.Str(c, "name")).ToList();
        var usage = ContainerUsage(api, pod, now);
        for (var i = 0; i < names.Count; i++)
        {
            containers.Add((JsonNode)new JsonObject
            {
                ["name"] = names[i],
                ["usage"] = new JsonObject { ["cpu"] = Quantity.NanoCores(usage[i].Cpu), ["memory"] = Quantity.Memory(Math.Round(usage[i].Memory / 1024) * 1024) },
            });
        }

        return new JsonObject
        {
            ["kind"] = "PodMetrics",
            ["apiVersion"] = "metrics.k8s.io/v1beta1",
            ["metadata"] = new JsonObject
            {
                ["name"] = Json.Name(pod),
                ["namespace"] = Json.Namespace(pod),
                ["creationTimestamp"] = Json.Timestamp(now),
                ["labels"] = Json.At(pod, "metadata", "labels")?.DeepClone(),
            },
            ["timestamp"] = Json.Timestamp(now),
            ["window"] = "18.3s",
            ["containers"] = containers,
        };
    }

    /// <summary>Per container (cpu cores, memory bytes): a fraction of the request (or a small default) that moves with time.</summary>
    public static List<(decimal Cpu, decimal Memory)> ContainerUsage(SimulatedApi api, JsonObject pod, DateTimeOffset now)
    {
        var result = new List<(decimal, decimal)>();
        foreach (var c in Quotas.Containers(pod))
        {
            var key = $"{Json.Namespace(pod)}/{Json.Name(pod)}/{Json.Str(c, "name")}";
            var cpuBase = Quantity.Parse(Json.Str(c, "resources", "requests", "cpu") ?? Json.Str(c, "resources", "limits", "cpu") ?? "100m");
            var memBase = Quantity.Parse(Json.Str(c, "resources", "requests", "memory") ?? Json.Str(c, "resources", "limits", "memory") ?? "128Mi");
            var factor = api.Faults?.UsageMultiplier(Json.Namespace(pod), Json.Name(pod)) ?? 1m;
            var cpu = Math.Max(0.001m, cpuBase * (0.45m + Wave(api, key, now, 0.35m)) * factor);
            var mem = Math.Max(1024m * 1024, memBase * (0.6m + Wave(api, key + "/mem", now, 0.15m)) * factor);
            result.Add((cpu, mem));
        }

        return result;
    }

    private static decimal Wave(SimulatedApi api, string key, DateTimeOffset now, decimal amplitude)
    {
        var h = SimulatedApi.StableHash($"{api.Options.RandomSeed}/{key}");
        var phase = h % 1000 / 1000.0 * 2 * Math.PI;
        var t = now.ToUnixTimeSeconds() / s_period.TotalSeconds * 2 * Math.PI;
        var minute = now.ToUnixTimeSeconds() / 60;
        var noise = (SimulatedApi.StableHash($"{h}/{minute}") % 1000 / 1000.0 - 0.5) * 0.2;
        return amplitude * (decimal)(Math.Sin(t + phase) + noise);
    }
}
