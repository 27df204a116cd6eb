using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.KubeVirt;

/// <summary>The common-instancetypes u1 series, seeded as VirtualMachineClusterInstancetypes like a KubeVirt install provides.</summary>
internal static class KubeVirtCatalog
{
    public static readonly (string Name, int Cpu, string Memory)[] U1Series =
    [
        ("u1.nano", 1, "512Mi"), ("u1.micro", 1, "1Gi"), ("u1.small", 1, "2Gi"), ("u1.medium", 1, "4Gi"),
        ("u1.large", 2, "8Gi"), ("u1.xlarge", 4, "16Gi"), ("u1.2xlarge", 8, "32Gi"),
    ];

    public static void SeedInstancetypes(SimulatedApi api)
    {
        foreach (var (name, cpu, memory) in U1Series)
        {
            if (api.Store.Get(ResourceCatalog.ClusterInstancetypes, null, name) is not null)
            {
                continue;
            }

            api.Create(ResourceCatalog.ClusterInstancetypes, null, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["labels"] = new JsonObject
                    {
                        ["instancetype.kubevirt.io/vendor"] = "kubevirt.io",
                        ["instancetype.kubevirt.io/class"] = "general.purpose",
                        ["instancetype.kubevirt.io/cpu"] = cpu.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["instancetype.kubevirt.io/memory"] = memory,
                        ["instancetype.kubevirt.io/common-instancetypes-version"] = "v1.2.0",
                    },
                    ["annotations"] = new JsonObject
                    {
                        ["instancetype.kubevirt.io/description"] = "The U Series is quite neutral and provides resources for general purpose applications.",
                        ["instancetype.kubevirt.io/displayName"] = "General Purpose",
                    },
                },
                ["spec"] = new JsonObject
                {
                    ["cpu"] = new JsonObject { ["guest"] = cpu },
                    ["memory"] = new JsonObject { ["guest"] = memory },
                },
            });
        }
    }

    /// <summary>Guest (cpu, memory) of a VM: from its instancetype if it names one, else from its template domain.</summary>
    public static (int Cpu, string Memory) GuestResources(SimulatedApi api, JsonObject vm)
    {
        if (Json.Str(vm, "spec", "instancetype", "name") is { } it)
        {
            var kind = Json.Str(vm, "spec", "instancetype", "kind") ?? "VirtualMachineClusterInstancetype";
            var found = kind.Equals("VirtualMachineInstancetype", StringComparison.OrdinalIgnoreCase)
                ? api.Store.Get(ResourceCatalog.Instancetypes, Json.Namespace(vm), it)
                : api.Store.Get(ResourceCatalog.ClusterInstancetypes, null, it);
            if (found is not null)
            {
                return ((int)(Json.Long(found, "spec", "cpu", "guest") ?? 1), Json.Str(found, "spec", "memory", "guest") ?? "1Gi");
            }
        }

        var domain = Json.At(vm, "spec", "template", "spec", "domain");
        var cores = Json.Long(domain, "cpu", "cores") ?? 1;
        var sockets = Json.Long(domain, "cpu", "sockets") ?? 1;
        var threads = Json.Long(domain, "cpu", "threads") ?? 1;
        var memory = Json.Str(domain, "memory", "guest") ?? Json.Str(domain, "resources", "requests", "memory") ?? "1Gi";
        return ((int)(cores * sockets * threads), memory);
    }
}
