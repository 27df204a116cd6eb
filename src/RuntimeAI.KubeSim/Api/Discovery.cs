using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>The discovery documents kubectl and client libraries read before any request.</summary>
internal static class Discovery
{
    private static readonly string[] s_readWrite = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    private static readonly string[] s_readOnly = ["get", "list"];
    private static readonly string[] s_createOnly = ["create"];

    public static JsonObject Version(string gitVersion, DateTimeOffset buildTime)
    {
        var v = gitVersion.TrimStart('v').Split('.');
        return new JsonObject
        {
            ["major"] = v.ElementAtOrDefault(0) ?? "1",
            ["minor"] = v.ElementAtOrDefault(1) ?? "0",
            ["gitVersion"] = gitVersion + "+kubesim",
            ["gitCommit"] = "0000000000000000000000000000000000000000",
            ["gitTreeState"] = "clean",
            ["buildDate"] = Json.Timestamp(buildTime),
            ["goVersion"] = "n/a (RuntimeAI KubeSim, a Kubernetes API simulator)",
            ["compiler"] = "dotnet",
            ["platform"] = "linux/amd64",
        };
    }

    public static JsonObject CoreVersions(string hostPort) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = hostPort }),
    };

    public static JsonObject Groups(ResourceCatalog catalog)
    {
        var groups = new JsonArray();
        foreach (var g in catalog.GroupVersions().GroupBy(gv => gv.Group))
        {
            groups.Add((JsonNode)Group(g.Key, g.Select(x => x.Version)));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public static JsonObject? Group(ResourceCatalog catalog, string group)
    {
        var versions = catalog.GroupVersions().Where(gv => gv.Group == group).Select(gv => gv.Version).ToList();
        if (versions.Count == 0)
        {
            return null;
        }

        var g = Group(group, versions);
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return g;
    }

    private static JsonObject Group(string name, IEnumerable<string> versions)
    {
        var list = versions.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = $"{name}/{v}", ["version"] = v }).ToArray();
        return new JsonObject
        {
            ["name"] = name,
            ["versions"] = new JsonArray(list),
            ["preferredVersion"] = list[0].DeepClone(),
        };
    }

    public static JsonObject? Resources(ResourceCatalog catalog, string group, string version)
    {
        var resources = new JsonArray();
        if (group == ResourceCatalog.KubeVirtSubresourceGroup && version == "v1")
        {
            foreach (var action in ResourceCatalog.VirtualMachineActions)
            {
                resources.Add((JsonNode)Subresource($"virtualmachines/{action}", "", ["update"]));
            }

            foreach (var action in ResourceCatalog.VirtualMachineInstanceActions)
            {
                resources.Add((JsonNode)Subresource($"virtualmachineinstances/{action}", "", ["update"]));
            }

            return List($"{group}/{version}", resources);
        }

        var types = catalog.All.Where(t => t.Group == group && t.Version == version).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        foreach (var t in types)
        {
            var r = new JsonObject
            {
                ["name"] = t.Resource,
                ["singularName"] = t.Singular,
                ["namespaced"] = t.Namespaced,
                ["kind"] = t.Kind,
                ["verbs"] = new JsonArray((t.Review ? s_createOnly : t.ReadOnly ? s_readOnly : s_readWrite).Select(v => (JsonNode)v).ToArray()),
            };
            if (t.ShortNames.Length > 0)
            {
                r["shortNames"] = new JsonArray(t.ShortNames.Select(s => (JsonNode)s).ToArray());
            }

            if (t.Categories.Length > 0)
            {
                r["categories"] = new JsonArray(t.Categories.Select(s => (JsonNode)s).ToArray());
            }

            resources.Add((JsonNode)r);
            foreach (var sub in t.Subresources)
            {
                var (kind, subGroup, subVersion, verbs) = sub switch
                {
                    "scale" => ("Scale", "autoscaling", "v1", new[] { "get", "patch", "update" }),
                    "status" => (t.Kind, (string?)null, (string?)null, new[] { "get", "patch", "update" }),
                    "log" => ("Pod", null, null, new[] { "get" }),
                    "eviction" => ("Eviction", "policy", "v1", new[] { "create" }),
                    "binding" => ("Binding", null, null, new[] { "create" }),
                    _ => (t.Kind, null, null, new[] { "update" }),
                };
                var s = Subresource($"{t.Resource}/{sub}", kind, verbs);
                s["namespaced"] = t.Namespaced;
                if (subGroup is not null)
                {
                    s["group"] = subGroup;
                    s["version"] = subVersion;
                }

                resources.Add((JsonNode)s);
            }
        }

        return List(types[0].GroupVersion, resources);
    }

    private static JsonObject Subresource(string name, string kind, string[] verbs) => new()
    {
        ["name"] = name,
        ["singularName"] = string.Empty,
        ["namespaced"] = true,
        ["kind"] = kind,
        ["verbs"] = new JsonArray(verbs.Select(v => (JsonNode)v).ToArray()),
    };

    private static JsonObject List(string groupVersion, JsonArray resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = resources,
    };
}
