using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.Controllers;

namespace RuntimeAI.KubeSim;

/// <summary>
/// Plays the part of a vcluster control plane that processes snapshot and restore requests, as the
/// current vcluster CLI hands them over: a ConfigMap labelled <c>vcluster.loft.sh/snapshot-request</c>
/// (or <c>vcluster.loft.sh/restore-request</c>) with a JSON request under <c>snapshotRequest</c> /
/// <c>restoreRequest</c>, an options Secret of the same name, both in the virtual cluster's host
/// namespace and labelled <c>vcluster.loft.sh/vcluster-name</c>. The "backing store" captured is the
/// nested simulated API's objects (those not owned by another object), kept in memory under the
/// request's URL; <c>container://</c> and <c>file://</c> (local) targets are accepted. The controller
/// writes the phase (InProgress, Completed, Failed) and a message back into the request.
/// </summary>
internal static class VirtualClusterSnapshotController
{
    public const string SnapshotRequestLabel = "vcluster.loft.sh/snapshot-request";
    public const string RestoreRequestLabel = "vcluster.loft.sh/restore-request";
    public const string VirtualClusterNameLabel = "vcluster.loft.sh/vcluster-name";

    private static readonly HashSet<string> s_skippedResources = new(StringComparer.Ordinal) { "nodes", "events", "endpoints" };
    private static readonly HashSet<string> s_systemNamespaces = new(StringComparer.Ordinal) { "default", "kube-system", "kube-public", "kube-node-lease" };

    public static void Reconcile(KubeSimServer server, ConcurrentDictionary<string, List<(ResourceType Type, JsonObject Object)>> store)
    {
        var host = server.Host;
        foreach (var cm in host.Store.List(ResourceCatalog.ConfigMaps))
        {
            var labels = Json.Labels(cm);
            if (!labels.TryGetValue(VirtualClusterNameLabel, out var vcluster))
            {
                continue;
            }

            if (labels.GetValueOrDefault(SnapshotRequestLabel) == "true")
            {
                Reconciler.Safely(() => Process(server, store, cm, vcluster, "snapshotRequest", snapshot: true));
            }
            else if (labels.GetValueOrDefault(RestoreRequestLabel) == "true")
            {
                Reconciler.Safely(() => Process(server, store, cm, vcluster, "restoreRequest", snapshot: false));
            }
        }
    }

    private static void Process(KubeSimServer server, ConcurrentDictionary<string, List<(ResourceType, JsonObject)>> store, JsonObject cm, string vcluster, string key, bool snapshot)
    {
        var ns = Json.Namespace(cm)!;
        var text = Json.Str(cm, "data", key);
        var request = text is null ? null : JsonNode.Parse(text) as JsonObject;
        var phase = Json.Str(request, "status", "phase") ?? "New";
        if (phase is "Completed" or "Failed")
        {
            return;
        }

        string newPhase;
        string message;
        var url = Json.Str(request, "spec", "url");
        var api = server.FindVirtualCluster(ns, vcluster);
        if (request is null || string.IsNullOrEmpty(url))
        {
            (newPhase, message) = ("Failed", $"configmap {Json.Name(cm)} has no {key} with spec.url");
        }
        else if (!url.StartsWith("container://", StringComparison.Ordinal) && !url.StartsWith("file://", StringComparison.Ordinal))
        {
            (newPhase, message) = ("Failed", $"unsupported snapshot target {url}: use container:///path or file:///path (volume snapshots and object stores are not simulated)");
        }
        else if (api is null || api.Unavailable)
        {
            (newPhase, message) = ("InProgress", "waiting for the virtual cluster's control plane to be running");
        }
        else if (snapshot)
        {
            store[$"{ns}/{vcluster}|{url}"] = Capture(api);
            (newPhase, message) = ("Completed", $"snapshot of {vcluster} written to {url}");
        }
        else if (store.TryGetValue($"{ns}/{vcluster}|{url}", out var saved))
        {
            Restore(api, saved);
            (newPhase, message) = ("Completed", $"{vcluster} restored from {url}");
        }
        else
        {
            (newPhase, message) = ("Failed", $"no snapshot of {vcluster} at {url}");
        }

        if (newPhase == phase && Json.Str(request, "status", "message") == message)
        {
            return;
        }

        request ??= new JsonObject();
        request["status"] = new JsonObject
        {
            ["phase"] = newPhase,
            ["message"] = message,
            ["completionTimestamp"] = newPhase is "Completed" or "Failed" ? Json.Timestamp(server.Host.Now) : null,
        };
        Json.Obj(cm, "data")[key] = request.ToJsonString();
        server.Host.Save(ResourceCatalog.ConfigMaps, cm);
        server.Host.RecordEvent(cm, newPhase == "Failed" ? "Warning" : "Normal", snapshot ? "Snapshot" + newPhase : "Restore" + newPhase, message, "vcluster");
    }

    private static bool Captured(ResourceType type) =>
        !type.ReadOnly && !type.Review && !s_skippedResources.Contains(type.Resource) && type.Group != "instancetype.kubevirt.io";

    private static bool Owned(JsonObject obj) => Json.At(obj, "metadata", "ownerReferences") is JsonArray { Count: > 0 };

    private static List<(ResourceType, JsonObject)> Capture(SimulatedApi api)
    {
        var items = new List<(ResourceType, JsonObject)>();
        foreach (var type in api.Catalog.All.Where(Captured))
        {
            foreach (var obj in api.Store.List(type).Where(o => !Owned(o)))
            {
                items.Add((type, Clean((JsonObject)obj.DeepClone())));
            }
        }

        return items;
    }

    private static void Restore(SimulatedApi api, List<(ResourceType Type, JsonObject Object)> saved)
    {
        var wanted = saved.Select(s => Key(s.Type, s.Object)).ToHashSet(StringComparer.Ordinal);
        // Remove what the snapshot does not have (namespaced objects first, namespaces last).
        foreach (var type in api.Catalog.All.Where(Captured).OrderBy(t => t.Namespaced ? 0 : 1))
        {
            foreach (var obj in api.Store.List(type).Where(o => !Owned(o) && !wanted.Contains(Key(type, o))))
            {
                if (type == ResourceCatalog.Namespaces && s_systemNamespaces.Contains(Json.Name(obj)))
                {
                    continue;
                }

                api.TryDelete(type, Json.Namespace(obj), Json.Name(obj));
            }
        }

        // Recreate or overwrite what it has (namespaces first).
        foreach (var (type, obj) in saved.OrderBy(s => s.Type.Namespaced ? 1 : 0))
        {
            var copy = (JsonObject)obj.DeepClone();
            var current = api.Store.Get(type, Json.Namespace(copy), Json.Name(copy));
            if (current is null)
            {
                api.Create(type, Json.Namespace(copy), copy);
            }
            else if (!JsonNode.DeepEquals(Clean((JsonObject)current.DeepClone())["spec"], copy["spec"]) || !JsonNode.DeepEquals(Clean((JsonObject)current.DeepClone())["data"], copy["data"]))
            {
                var meta = Json.Meta(copy);
                meta["resourceVersion"] = Json.Str(current, "metadata", "resourceVersion");
                meta["uid"] = Json.Uid(current);
                meta["creationTimestamp"] = Json.Str(current, "metadata", "creationTimestamp");
                api.Save(type, copy);
            }
        }
    }

    private static JsonObject Clean(JsonObject obj)
    {
        var meta = Json.Meta(obj);
        foreach (var field in new[] { "resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "deletionTimestamp" })
        {
            meta.Remove(field);
        }

        obj.Remove("status");
        return obj;
    }

    private static string Key(ResourceType type, JsonObject obj) =>
        new StringBuilder(type.GroupResource).Append('/').Append(Json.Namespace(obj)).Append('/').Append(Json.Name(obj)).ToString();
}
