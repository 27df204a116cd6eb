using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>The endpoints controller: one Endpoints object per selector-backed Service, listing ready and not-ready pod IPs.</summary>
internal static class Networking
{
    public static void Endpoints(SimulatedApi api)
    {
        var services = api.Store.List(ResourceCatalog.Services);
        foreach (var svc in services)
        {
            if (Json.At(svc, "spec", "selector") is not JsonObject selectorNode || selectorNode.Count == 0)
            {
                continue;
            }

            Reconciler.Safely(() =>
            {
                var ns = Json.Namespace(svc);
                var selector = LabelSelector.FromMap(Json.StringMap(selectorNode));
                var pods = api.Store.ListShared(ResourceCatalog.Pods, ns).Where(p => selector.Matches(p) && Json.Str(p, "status", "podIP") is not null).ToList();
                JsonObject Address(JsonObject p) => new()
                {
                    ["ip"] = Json.Str(p, "status", "podIP"),
                    ["nodeName"] = Json.Str(p, "spec", "nodeName"),
                    ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["namespace"] = ns, ["name"] = Json.Name(p), ["uid"] = Json.Uid(p) },
                };
                var ports = new JsonArray((Json.At(svc, "spec", "ports") as JsonArray ?? []).OfType<JsonObject>().Select(p =>
                {
                    var port = new JsonObject
                    {
                        ["port"] = Json.Long(p, "targetPort") ?? Json.Long(p, "port"),
                        ["protocol"] = Json.Str(p, "protocol") ?? "TCP",
                    };
                    if (Json.Str(p, "name") is { } n)
                    {
                        port["name"] = n;
                    }

                    return (JsonNode)port;
                }).ToArray());
                var subsets = new JsonArray();
                var ready = pods.Where(Workloads.IsReady).Select(p => (JsonNode)Address(p)).ToArray();
                var notReady = pods.Where(p => !Workloads.IsReady(p)).Select(p => (JsonNode)Address(p)).ToArray();
                if (ready.Length + notReady.Length > 0)
                {
                    var subset = new JsonObject { ["ports"] = ports };
                    if (ready.Length > 0)
                    {
                        subset["addresses"] = new JsonArray(ready);
                    }

                    if (notReady.Length > 0)
                    {
                        subset["notReadyAddresses"] = new JsonArray(notReady);
                    }

                    subsets.Add((JsonNode)subset);
                }

                var existing = api.Store.Get(ResourceCatalog.Endpoints, ns, Json.Name(svc));
                if (existing is null)
                {
                    var ep = new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["name"] = Json.Name(svc), ["namespace"] = ns, ["labels"] = Json.At(svc, "metadata", "labels")?.DeepClone() },
                        ["subsets"] = subsets,
                    };
                    api.Create(ResourceCatalog.Endpoints, ns, ep);
                }
                else if (!JsonNode.DeepEquals(existing["subsets"] ?? new JsonArray(), subsets))
                {
                    existing["subsets"] = subsets;
                    api.Save(ResourceCatalog.Endpoints, existing);
                }
            });
        }

        var names = services.Select(s => $"{Json.Namespace(s)}/{Json.Name(s)}").ToHashSet(StringComparer.Ordinal);
        foreach (var ep in api.Store.List(ResourceCatalog.Endpoints))
        {
            if (!names.Contains($"{Json.Namespace(ep)}/{Json.Name(ep)}"))
            {
                api.TryDelete(ResourceCatalog.Endpoints, Json.Namespace(ep), Json.Name(ep));
            }
        }
    }
}

/// <summary>Dynamic provisioning in one step: every pending claim is bound to a made-up volume of the requested size.</summary>
internal static class Storage
{
    public static void Claims(SimulatedApi api)
    {
        foreach (var pvc in api.Store.List(ResourceCatalog.PersistentVolumeClaims))
        {
            if (Json.Str(pvc, "status", "phase") == "Bound")
            {
                continue;
            }

            Reconciler.Safely(() =>
            {
                var spec = Json.Obj(pvc, "spec");
                spec["volumeName"] = $"pvc-{Json.Uid(pvc)}";
                spec["storageClassName"] ??= "standard";
                spec["volumeMode"] ??= "Filesystem";
                pvc["status"] = new JsonObject
                {
                    ["phase"] = "Bound",
                    ["accessModes"] = spec["accessModes"]?.DeepClone() ?? new JsonArray("ReadWriteOnce"),
                    ["capacity"] = new JsonObject { ["storage"] = Json.Str(spec, "resources", "requests", "storage") ?? "1Gi" },
                };
                api.Save(ResourceCatalog.PersistentVolumeClaims, pvc);
                api.RecordEvent(pvc, "Normal", "ProvisioningSucceeded", $"Successfully provisioned volume pvc-{Json.Uid(pvc)} (simulated)", "kubesim-provisioner");
            });
        }
    }
}

/// <summary>Status of ResourceQuotas (hard and used) and PodDisruptionBudgets (healthy, desired, allowed).</summary>
internal static class Policies
{
    public static void Quotas(SimulatedApi api)
    {
        foreach (var q in api.Store.List(ResourceCatalog.ResourceQuotas))
        {
            Reconciler.Safely(() => api.SaveStatus(ResourceCatalog.ResourceQuotas, q, new JsonObject
            {
                ["hard"] = Json.At(q, "spec", "hard")?.DeepClone() ?? new JsonObject(),
                ["used"] = Api.Quotas.Used(api, q),
            }));
        }
    }

    public static void DisruptionBudgets(SimulatedApi api)
    {
        foreach (var pdb in api.Store.List(ResourceCatalog.PodDisruptionBudgets))
        {
            Reconciler.Safely(() =>
            {
                var (healthy, desired, allowed) = Disruption.Compute(api, pdb);
                var expected = api.Store.List(ResourceCatalog.Pods, Json.Namespace(pdb)).Count(LabelSelector.FromObject(Json.At(pdb, "spec", "selector")).Matches);
                var status = pdb["status"] is JsonObject s ? (JsonObject)s.DeepClone() : [];
                status["currentHealthy"] = healthy;
                status["desiredHealthy"] = desired;
                status["disruptionsAllowed"] = allowed;
                status["expectedPods"] = expected;
                status["observedGeneration"] = Json.Long(pdb, "metadata", "generation");
                Json.SetCondition(status, "DisruptionAllowed", allowed > 0 ? "True" : "False", allowed > 0 ? "SufficientPods" : "InsufficientPods", string.Empty, api.Now);
                api.SaveStatus(ResourceCatalog.PodDisruptionBudgets, pdb, status);
            });
        }
    }
}
