using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.Controllers;

namespace RuntimeAI.KubeSim.Seeding;

/// <summary>
/// Applies a seed: YAML documents that are either plain Kubernetes manifests (anything with <c>kind</c>) or a world
/// description with <c>nodes</c>, <c>namespaces</c>, <c>vclusters</c> and <c>objects</c>. See samples/kubesim-seed.yaml.
/// </summary>
internal sealed class SeedLoader(KubeSimServer server)
{
    public void Apply(string yaml)
    {
        foreach (var doc in Yaml.ParseAll(yaml).OfType<JsonObject>())
        {
            if (doc.ContainsKey("kind"))
            {
                ApplyManifest(server.Host, doc);
                continue;
            }

            foreach (var node in (doc["nodes"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var roles = (node["roles"] as JsonArray ?? []).Select(r => Json.Str(r)!).ToList();
                Nodes.Create(server.Host, Json.Str(node, "name") ?? throw new InvalidOperationException("seed: a node needs a name"),
                    Json.Str(node, "cpu") ?? "8", Json.Str(node, "memory") ?? "32Gi", (int)(Json.Long(node, "pods") ?? 110),
                    Json.StringMap(node["labels"]), roles);
            }

            foreach (var ns in doc["namespaces"] as JsonArray ?? [])
            {
                var (name, labels) = ns is JsonObject o ? (Json.Str(o, "name")!, o["labels"]?.DeepClone()) : (Json.Str(ns)!, null);
                if (server.Host.Store.Get(ResourceCatalog.Namespaces, null, name) is null)
                {
                    server.Host.Create(ResourceCatalog.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels } });
                }
            }

            foreach (var obj in (doc["objects"] as JsonArray ?? []).OfType<JsonObject>())
            {
                ApplyManifest(server.Host, (JsonObject)obj.DeepClone());
            }

            foreach (var vc in (doc["vclusters"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var name = Json.Str(vc, "name") ?? throw new InvalidOperationException("seed: a vcluster needs a name");
                var ns = Json.Str(vc, "namespace") ?? $"vcluster-{name}";
                if (server.Host.Store.Get(ResourceCatalog.Namespaces, null, ns) is null)
                {
                    server.Host.Create(ResourceCatalog.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
                }

                server.Host.Create(ResourceCatalog.StatefulSets, ns, VirtualClusterStatefulSet(name, ns));
                var api = server.AddVirtualCluster(ns, name);
                api.Unavailable = true;
                api.PodsSyncedToHost = server.Options.SyncVirtualClusterPodsToHost;
                foreach (var vns in vc["namespaces"] as JsonArray ?? [])
                {
                    var n = Json.Str(vns)!;
                    if (api.Store.Get(ResourceCatalog.Namespaces, null, n) is null)
                    {
                        api.Create(ResourceCatalog.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = n } });
                    }
                }

                foreach (var obj in (vc["objects"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    ApplyManifest(api, (JsonObject)obj.DeepClone());
                }
            }
        }
    }

    /// <summary>The StatefulSet the vcluster Helm chart would create, reduced to what the simulator looks at.</summary>
    public static JsonObject VirtualClusterStatefulSet(string name, string ns) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["labels"] = new JsonObject { ["app"] = "vcluster", ["release"] = name, ["chart"] = "vcluster-0.21.2" },
        },
        ["spec"] = new JsonObject
        {
            ["replicas"] = 1,
            ["serviceName"] = $"{name}-headless",
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "vcluster", ["release"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "vcluster", ["release"] = name } },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "syncer",
                        ["image"] = "ghcr.io/loft-sh/vcluster-oss:0.21.2",
                        ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = "200m", ["memory"] = "256Mi" } },
                    }),
                },
            },
        },
    };

    private static void ApplyManifest(SimulatedApi api, JsonObject manifest)
    {
        if (Json.Str(manifest, "kind") == "List")
        {
            foreach (var item in (manifest["items"] as JsonArray ?? []).OfType<JsonObject>())
            {
                ApplyManifest(api, (JsonObject)item.DeepClone());
            }

            return;
        }

        var apiVersion = Json.Str(manifest, "apiVersion") ?? string.Empty;
        var kind = Json.Str(manifest, "kind") ?? string.Empty;
        var type = api.Catalog.FindByKind(apiVersion, kind)
            ?? throw new InvalidOperationException($"seed: the simulator does not serve {kind} in {apiVersion}");
        var ns = type.Namespaced ? Json.Namespace(manifest) ?? "default" : null;
        if (ns is not null && api.Store.Get(ResourceCatalog.Namespaces, null, ns) is null)
        {
            api.Create(ResourceCatalog.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
        }

        try
        {
            api.Create(type, ns, manifest);
        }
        catch (KubeApiException ex)
        {
            throw new InvalidOperationException($"seed: {kind} {Json.Name(manifest)} was rejected: {ex.Message}", ex);
        }
    }
}
