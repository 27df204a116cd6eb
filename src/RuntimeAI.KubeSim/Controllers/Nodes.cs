using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>Simulated nodes: capacity, allocatable (capacity minus system reservations), conditions and node info.</summary>
internal static class Nodes
{
    public static JsonObject Create(SimulatedApi api, string name, string cpu, string memory, int pods, IReadOnlyDictionary<string, string>? labels, IEnumerable<string>? roles = null)
    {
        var index = api.Store.List(ResourceCatalog.Nodes).Count + 1;
        var allLabels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kubernetes.io/hostname"] = name,
            ["kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = "amd64",
            ["beta.kubernetes.io/os"] = "linux",
            ["beta.kubernetes.io/arch"] = "amd64",
            ["topology.kubernetes.io/zone"] = $"zone-{(char)('a' + ((index - 1) % 3))}",
            ["kubevirt.io/schedulable"] = "true",
        };
        foreach (var role in roles ?? [])
        {
            allLabels[$"node-role.kubernetes.io/{role}"] = string.Empty;
        }

        foreach (var (k, v) in labels ?? new Dictionary<string, string>())
        {
            allLabels[k] = v;
        }

        var cpuCores = Quantity.Parse(cpu);
        var memBytes = Quantity.Parse(memory);
        var now = api.Now;
        var status = new JsonObject
        {
            ["capacity"] = new JsonObject
            {
                ["cpu"] = Quantity.Cpu(cpuCores),
                ["memory"] = Quantity.Memory(memBytes),
                ["pods"] = pods.ToString(CultureInfo.InvariantCulture),
                ["ephemeral-storage"] = "100Gi",
                ["devices.kubevirt.io/kvm"] = "1k",
            },
            ["allocatable"] = new JsonObject
            {
                ["cpu"] = Quantity.Cpu(Math.Max(0.1m, cpuCores - 0.1m)),
                ["memory"] = Quantity.Memory(Math.Max(256m * 1024 * 1024, memBytes - (512m * 1024 * 1024))),
                ["pods"] = pods.ToString(CultureInfo.InvariantCulture),
                ["ephemeral-storage"] = "95Gi",
                ["devices.kubevirt.io/kvm"] = "1k",
            },
            ["addresses"] = new JsonArray(
                new JsonObject { ["type"] = "InternalIP", ["address"] = $"172.18.0.{index + 1}" },
                new JsonObject { ["type"] = "Hostname", ["address"] = name }),
            ["nodeInfo"] = new JsonObject
            {
                ["machineID"] = $"{SimulatedApi.StableHash(name):x8}{index:x24}",
                ["systemUUID"] = api.Store.NewUid(),
                ["bootID"] = api.Store.NewUid(),
                ["kernelVersion"] = "6.8.0-kubesim",
                ["osImage"] = "KubeSim simulated node",
                ["containerRuntimeVersion"] = "containerd://1.7.24 (simulated)",
                ["kubeletVersion"] = api.Options.KubernetesVersion,
                ["kubeProxyVersion"] = api.Options.KubernetesVersion,
                ["operatingSystem"] = "linux",
                ["architecture"] = "amd64",
            },
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = 10250 } },
        };
        Json.SetCondition(status, "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", now);
        Json.SetCondition(status, "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now);
        Json.SetCondition(status, "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", now);
        Json.SetCondition(status, "Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated)", now);
        foreach (var c in ((JsonArray)status["conditions"]!).OfType<JsonObject>())
        {
            c["lastHeartbeatTime"] = Json.Timestamp(now);
        }

        var node = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = Json.ToObject(allLabels) },
            ["spec"] = new JsonObject { ["podCIDR"] = $"10.244.{index - 1}.0/24", ["podCIDRs"] = new JsonArray($"10.244.{index - 1}.0/24") },
            ["status"] = status,
        };
        return api.Create(ResourceCatalog.Nodes, null, node);
    }
}
