using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.Controllers;

namespace RuntimeAI.KubeSim;

/// <summary>
/// Simulated vcluster: a host StatefulSet labelled <c>app=vcluster,release=NAME</c> gets a nested simulated API at
/// <c>/vcluster/NS/NAME/</c> once its pod NAME-0 is ready, a Secret <c>vc-NAME</c> with a kubeconfig under key
/// <c>config</c>, and a Service NAME. Pods created inside appear on the host as <c>POD-x-NS-x-NAME</c> with the
/// <c>vcluster.loft.sh/*</c> labels, are scheduled and counted (quota) there, and their status flows back inside.
/// </summary>
internal static class VirtualClusterController
{
    public const string ManagedByLabel = "vcluster.loft.sh/managed-by";

    public static bool IsVirtualCluster(JsonObject sts)
    {
        var labels = Json.Labels(sts);
        return labels.GetValueOrDefault("app") == "vcluster" && labels.ContainsKey("release");
    }

    public static void Reconcile(KubeSimServer server)
    {
        var host = server.Host;
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sts in host.Store.List(ResourceCatalog.StatefulSets).Where(IsVirtualCluster))
        {
            var ns = Json.Namespace(sts)!;
            var name = Json.Labels(sts)["release"];
            live.Add($"{ns}/{name}");
            Reconciler.Safely(() => One(server, sts, ns, name));
        }

        foreach (var (ns, name, api) in server.VirtualClusterApis().ToList())
        {
            if (!live.Contains($"{ns}/{name}"))
            {
                server.RemoveVirtualCluster(ns, name);
                foreach (var pod in host.Store.List(ResourceCatalog.Pods, ns).Where(p => Json.Labels(p).GetValueOrDefault(ManagedByLabel) == name))
                {
                    host.TryDelete(ResourceCatalog.Pods, ns, Json.Name(pod));
                }
            }
            else if (server.Options.SyncVirtualClusterPodsToHost)
            {
                Reconciler.Safely(() => SyncPods(host, api, ns, name));
            }
        }
    }

    private static void One(KubeSimServer server, JsonObject sts, string ns, string name)
    {
        var host = server.Host;
        var api = server.FindVirtualCluster(ns, name) ?? server.AddVirtualCluster(ns, name);
        api.PodsSyncedToHost = server.Options.SyncVirtualClusterPodsToHost;
        var pod = host.Store.Get(ResourceCatalog.Pods, ns, $"{Json.Name(sts)}-0");
        var ready = (Json.Long(sts, "spec", "replicas") ?? 1) > 0 && pod is not null && Workloads.IsReady(pod);
        api.Unavailable = !ready;
        if (!ready)
        {
            return;
        }

        var secretName = $"vc-{name}";
        if (host.Store.Get(ResourceCatalog.Secrets, ns, secretName) is null)
        {
            var kubeconfig = server.CreateVirtualClusterKubeconfigYaml(ns, name);
            host.Create(ResourceCatalog.Secrets, ns, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = secretName,
                    ["namespace"] = ns,
                    ["labels"] = new JsonObject { ["app"] = "vcluster", ["release"] = name },
                    ["ownerReferences"] = new JsonArray(SimulatedApi.OwnerReference(sts)),
                },
                ["type"] = "Opaque",
                ["data"] = new JsonObject
                {
                    ["config"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(kubeconfig)),
                    ["certificate-authority"] = string.Empty,
                    ["client-certificate"] = string.Empty,
                    ["client-key"] = string.Empty,
                },
            });
            host.RecordEvent(sts, "Normal", "VirtualClusterReady", $"virtual cluster {name} is serving a simulated API at {server.VirtualClusterAddress(ns, name)}", "kubesim-vcluster");
        }

        if (host.Store.Get(ResourceCatalog.Services, ns, name) is null)
        {
            host.Create(ResourceCatalog.Services, ns, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["namespace"] = ns,
                    ["labels"] = new JsonObject { ["app"] = "vcluster", ["release"] = name },
                    ["ownerReferences"] = new JsonArray(SimulatedApi.OwnerReference(sts)),
                },
                ["spec"] = new JsonObject
                {
                    ["selector"] = new JsonObject { ["app"] = "vcluster", ["release"] = name },
                    ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["targetPort"] = 8443, ["protocol"] = "TCP" }),
                },
            });
        }
    }

    public static string HostPodName(string pod, string vns, string vcluster) => $"{pod}-x-{vns}-x-{vcluster}";

    private static void SyncPods(SimulatedApi host, SimulatedApi api, string hostNs, string vcluster)
    {
        if (api.Unavailable)
        {
            return;
        }

        var virtualPods = api.Store.List(ResourceCatalog.Pods);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var vpod in virtualPods)
        {
            var vns = Json.Namespace(vpod)!;
            var hostName = HostPodName(Json.Name(vpod), vns, vcluster);
            wanted.Add(hostName);
            var hostPod = host.Store.Get(ResourceCatalog.Pods, hostNs, hostName);
            if (hostPod is null)
            {
                var labels = Json.Labels(vpod);
                var translated = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (k, v) in labels)
                {
                    translated[$"vcluster.loft.sh/label-{vcluster}-x-{k.Replace('/', '-')}"] = v;
                }

                translated[ManagedByLabel] = vcluster;
                translated["vcluster.loft.sh/namespace"] = vns;
                translated["vcluster.loft.sh/object-name"] = Json.Name(vpod);
                var spec = (JsonObject)(vpod["spec"]?.DeepClone() ?? new JsonObject());
                spec.Remove("nodeName");
                try
                {
                    host.Create(ResourceCatalog.Pods, hostNs, new JsonObject
                    {
                        ["metadata"] = new JsonObject
                        {
                            ["name"] = hostName,
                            ["namespace"] = hostNs,
                            ["labels"] = Json.ToObject(translated),
                            ["annotations"] = new JsonObject
                            {
                                ["vcluster.loft.sh/object-name"] = Json.Name(vpod),
                                ["vcluster.loft.sh/object-namespace"] = vns,
                                ["vcluster.loft.sh/object-uid"] = Json.Uid(vpod),
                                ["vcluster.loft.sh/object-kind"] = "/v1, Kind=Pod",
                            },
                        },
                        ["spec"] = spec,
                    });
                }
                catch (KubeApiException ex)
                {
                    api.RecordEvent(vpod, "Warning", "SyncError", $"Error syncing to physical cluster: {ex.Message}", "pod-syncer");
                }

                continue;
            }

            var nodeName = Json.Str(hostPod, "spec", "nodeName");
            if (nodeName is not null && Json.Str(vpod, "spec", "nodeName") != nodeName)
            {
                Json.Obj(vpod, "spec")["nodeName"] = nodeName;
                vpod["status"] = hostPod["status"]?.DeepClone();
                api.Save(ResourceCatalog.Pods, vpod);
                continue;
            }

            if (hostPod["status"] is JsonObject hostStatus)
            {
                api.SaveStatus(ResourceCatalog.Pods, vpod, (JsonObject)hostStatus.DeepClone());
            }
        }

        foreach (var hostPod in host.Store.List(ResourceCatalog.Pods, hostNs).Where(p => Json.Labels(p).GetValueOrDefault(ManagedByLabel) == vcluster))
        {
            if (!wanted.Contains(Json.Name(hostPod)))
            {
                host.TryDelete(ResourceCatalog.Pods, hostNs, Json.Name(hostPod));
            }
        }
    }
}
