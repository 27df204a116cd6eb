using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>The apps/v1 controllers: Deployment → ReplicaSet → Pods, and StatefulSet → ordered pods and claims.</summary>
internal static class Workloads
{
    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    /// <summary>After a refused pod creation a controller waits this long (simulated time) before trying again.</summary>
    private static readonly TimeSpan s_createBackoff = TimeSpan.FromSeconds(10);

    public static string TemplateHash(JsonNode? template)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var h = (uint)SimulatedApi.StableHash(Canonical(WithoutHashLabel(template)));
        var sb = new StringBuilder();
        for (var i = 0; i < 10; i++)
        {
            sb.Append(alphabet[(int)(h % (uint)alphabet.Length)]);
            h = (h / (uint)alphabet.Length) ^ (h * 2654435761u);
        }

        return sb.ToString();
    }

    /// <summary>The template without the pod-template-hash label, so a rollback to an old template finds its old ReplicaSet.</summary>
    private static JsonNode? WithoutHashLabel(JsonNode? template)
    {
        if (template?.DeepClone() is not JsonObject copy)
        {
            return template;
        }

        (Json.At(copy, "metadata", "labels") as JsonObject)?.Remove("pod-template-hash");
        return copy;
    }

    /// <summary>JSON with object keys sorted, so equal templates hash equally whatever order a patch left their fields in.</summary>
    public static string Canonical(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node);
        return sb.ToString();

        void Write(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    sb.Append('{');
                    foreach (var (k, v) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    {
                        if (v is null)
                        {
                            continue;
                        }

                        sb.Append('"').Append(k).Append("\":");
                        Write(v);
                        sb.Append(',');
                    }

                    sb.Append('}');
                    break;
                case JsonArray a:
                    sb.Append('[');
                    foreach (var item in a)
                    {
                        Write(item);
                        sb.Append(',');
                    }

                    sb.Append(']');
                    break;
                default:
                    sb.Append(n?.ToJsonString() ?? "null");
                    break;
            }
        }
    }

    private static bool Deleting(JsonObject o) => Json.At(o, "metadata", "deletionTimestamp") is not null;

    public static bool IsReady(JsonObject pod) => Disruption.IsHealthy(pod);

    private static List<JsonObject> OwnedPods(SimulatedApi api, JsonObject owner) =>
        api.Store.ListShared(ResourceCatalog.Pods, Json.Namespace(owner)).Where(p => SimulatedApi.IsOwnedBy(p, Json.Uid(owner)) && !Deleting(p)).ToList();

    public static JsonObject PodFromTemplate(JsonObject owner, string? name, string? generateName, IReadOnlyDictionary<string, string>? extraLabels)
    {
        var template = Json.At(owner, "spec", "template") as JsonObject ?? [];
        var meta = template["metadata"] is JsonObject m ? (JsonObject)m.DeepClone() : [];
        meta.Remove("name");
        meta.Remove("namespace");
        if (name is not null)
        {
            meta["name"] = name;
        }

        if (generateName is not null)
        {
            meta["generateName"] = generateName;
        }

        meta["namespace"] = Json.Namespace(owner);
        var labels = Json.Obj(meta, "labels");
        foreach (var (k, v) in extraLabels ?? new Dictionary<string, string>())
        {
            labels[k] = v;
        }

        meta["ownerReferences"] = new JsonArray(SimulatedApi.OwnerReference(owner));
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = meta,
            ["spec"] = template["spec"]?.DeepClone() ?? new JsonObject(),
        };
    }

    // ------------------------------------------------------------------ Deployment

    public static void Deployments(SimulatedApi api)
    {
        foreach (var d in api.Store.List(ResourceCatalog.Deployments))
        {
            if (!Deleting(d))
            {
                Reconciler.Safely(() => Deployment(api, d));
            }
        }
    }

    private static void Deployment(SimulatedApi api, JsonObject d)
    {
        var ns = Json.Namespace(d);
        var name = Json.Name(d);
        var desired = Json.Long(d, "spec", "replicas") ?? 1;
        var hash = TemplateHash(Json.At(d, "spec", "template"));
        var owned = api.Store.List(ResourceCatalog.ReplicaSets, ns).Where(rs => SimulatedApi.IsOwnedBy(rs, Json.Uid(d)) && !Deleting(rs)).ToList();
        var newRs = owned.FirstOrDefault(rs => Json.Str(rs, "metadata", "labels", "pod-template-hash") == hash);
        var olds = owned.Where(rs => rs != newRs).ToList();
        var paused = Json.Bool(d, "spec", "paused") == true;
        var recreate = Json.Str(d, "spec", "strategy", "type") == "Recreate";
        var maxRevision = owned.Select(rs => Json.Long(rs, "metadata", "annotations", RevisionAnnotation) ?? 0).DefaultIfEmpty(0).Max();

        if (!paused)
        {
            var oldPodsLeft = olds.Sum(rs => OwnedPods(api, rs).Count);
            if (newRs is null && (!recreate || oldPodsLeft == 0))
            {
                var template = (JsonObject)(Json.At(d, "spec", "template")?.DeepClone() ?? new JsonObject());
                Json.Obj(Json.Obj(template, "metadata"), "labels")["pod-template-hash"] = hash;
                var selector = (JsonObject)(Json.At(d, "spec", "selector")?.DeepClone() ?? new JsonObject());
                Json.Obj(selector, "matchLabels")["pod-template-hash"] = hash;
                var labels = Json.StringMap(Json.At(d, "spec", "template", "metadata", "labels"));
                labels["pod-template-hash"] = hash;
                var rs = new JsonObject
                {
                    ["metadata"] = new JsonObject
                    {
                        ["name"] = $"{name}-{hash}",
                        ["namespace"] = ns,
                        ["labels"] = Json.ToObject(labels),
                        ["annotations"] = new JsonObject
                        {
                            [RevisionAnnotation] = (maxRevision + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                            ["deployment.kubernetes.io/desired-replicas"] = desired.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        },
                        ["ownerReferences"] = new JsonArray(SimulatedApi.OwnerReference(d)),
                    },
                    ["spec"] = new JsonObject { ["replicas"] = desired, ["selector"] = selector, ["template"] = template },
                };
                newRs = api.Create(ResourceCatalog.ReplicaSets, ns, rs);
                api.RecordEvent(d, "Normal", "ScalingReplicaSet", $"Scaled up replica set {Json.Name(newRs)} from 0 to {desired}", "deployment-controller");
            }
            else if (newRs is not null && (Json.Long(newRs, "metadata", "annotations", RevisionAnnotation) ?? 0) < maxRevision)
            {
                // A rollback to an older template reuses its ReplicaSet, which becomes the newest revision.
                Json.Obj(Json.Meta(newRs), "annotations")[RevisionAnnotation] = (maxRevision + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                newRs = api.Save(ResourceCatalog.ReplicaSets, newRs);
            }
            else if (newRs is not null && (Json.Long(newRs, "spec", "replicas") ?? 0) != desired && (!recreate || oldPodsLeft == 0))
            {
                var from = Json.Long(newRs, "spec", "replicas") ?? 0;
                Json.Obj(newRs, "spec")["replicas"] = desired;
                newRs = api.Save(ResourceCatalog.ReplicaSets, newRs);
                api.RecordEvent(d, "Normal", "ScalingReplicaSet", $"Scaled {(desired > from ? "up" : "down")} replica set {Json.Name(newRs)} from {from} to {desired}", "deployment-controller");
            }

            var newReady = newRs is null ? 0 : OwnedPods(api, newRs).Count(IsReady);
            foreach (var old in olds.Where(o => (Json.Long(o, "spec", "replicas") ?? 0) > 0))
            {
                if (recreate || newReady >= desired)
                {
                    var from = Json.Long(old, "spec", "replicas") ?? 0;
                    Json.Obj(old, "spec")["replicas"] = 0;
                    api.Save(ResourceCatalog.ReplicaSets, old);
                    api.RecordEvent(d, "Normal", "ScalingReplicaSet", $"Scaled down replica set {Json.Name(old)} from {from} to 0", "deployment-controller");
                }
            }

            var limit = Json.Long(d, "spec", "revisionHistoryLimit") ?? 10;
            var retired = olds.Where(o => (Json.Long(o, "spec", "replicas") ?? 0) == 0 && (Json.Long(o, "status", "replicas") ?? 0) == 0)
                .OrderBy(o => Json.Long(o, "metadata", "annotations", RevisionAnnotation) ?? 0).ToList();
            foreach (var old in retired.Take(Math.Max(0, retired.Count - (int)limit)))
            {
                api.TryDelete(ResourceCatalog.ReplicaSets, ns, Json.Name(old));
            }
        }

        // Status from the freshest ReplicaSets.
        var all = api.Store.List(ResourceCatalog.ReplicaSets, ns).Where(rs => SimulatedApi.IsOwnedBy(rs, Json.Uid(d))).ToList();
        var current = all.FirstOrDefault(rs => Json.Str(rs, "metadata", "labels", "pod-template-hash") == hash);
        long Sum(string field) => all.Sum(rs => Json.Long(rs, "status", field) ?? 0);
        var replicas = Sum("replicas");
        var ready = Sum("readyReplicas");
        var available = Sum("availableReplicas");
        var updated = current is null ? 0 : Json.Long(current, "status", "replicas") ?? 0;
        var fresh = api.Get(ResourceCatalog.Deployments, ns, name);
        var status = fresh["status"] is JsonObject s ? (JsonObject)s.DeepClone() : [];
        status["observedGeneration"] = Json.Long(fresh, "metadata", "generation");
        status["replicas"] = replicas;
        status["updatedReplicas"] = updated;
        status["readyReplicas"] = ready;
        status["availableReplicas"] = available;
        status["unavailableReplicas"] = Math.Max(0, replicas - available);
        foreach (var zero in new[] { "readyReplicas", "availableReplicas", "replicas", "updatedReplicas", "unavailableReplicas" })
        {
            if (Json.Long(status, zero) == 0)
            {
                status.Remove(zero);
            }
        }

        var now = api.Now;
        var complete = current is not null && updated == desired && available >= desired && replicas == desired;
        Json.SetCondition(status, "Available", available >= desired ? "True" : "False",
            available >= desired ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
            available >= desired ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now);
        Json.SetCondition(status, "Progressing", "True", complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
            current is null ? $"Deployment \"{name}\" is progressing." :
            complete ? $"ReplicaSet \"{Json.Name(current)}\" has successfully progressed." : $"ReplicaSet \"{Json.Name(current)}\" is progressing.", now);
        foreach (var c in ((JsonArray)status["conditions"]!).OfType<JsonObject>())
        {
            c["lastUpdateTime"] ??= c["lastTransitionTime"]?.DeepClone();
        }

        var revision = current is null ? null : Json.Str(current, "metadata", "annotations", RevisionAnnotation);
        if (revision is not null && Json.Str(fresh, "metadata", "annotations", RevisionAnnotation) != revision)
        {
            Json.Obj(Json.Meta(fresh), "annotations")[RevisionAnnotation] = revision;
            fresh["status"] = status;
            api.Save(ResourceCatalog.Deployments, fresh);
            return;
        }

        api.SaveStatus(ResourceCatalog.Deployments, fresh, status);
    }

    // ------------------------------------------------------------------ ReplicaSet

    public static void ReplicaSets(SimulatedApi api)
    {
        foreach (var rs in api.Store.List(ResourceCatalog.ReplicaSets))
        {
            if (!Deleting(rs))
            {
                Reconciler.Safely(() => ReplicaSet(api, rs));
            }
        }
    }

    private static void ReplicaSet(SimulatedApi api, JsonObject rs)
    {
        var ns = Json.Namespace(rs);
        var desired = Json.Long(rs, "spec", "replicas") ?? 1;
        var pods = OwnedPods(api, rs);
        if (pods.Count < desired && !api.RecentlyRecorded(rs, "FailedCreate", s_createBackoff))
        {
            for (var i = pods.Count; i < desired; i++)
            {
                try
                {
                    var created = api.Create(ResourceCatalog.Pods, ns, PodFromTemplate(rs, null, Json.Name(rs) + "-", null));
                    api.RecordEvent(rs, "Normal", "SuccessfulCreate", $"Created pod: {Json.Name(created)}", "replicaset-controller");
                }
                catch (KubeApiException ex)
                {
                    api.RecordEvent(rs, "Warning", "FailedCreate", $"Error creating: {ex.Message}", "replicaset-controller");
                    break;
                }
            }
        }
        else if (pods.Count > desired)
        {
            var victims = pods.OrderBy(p => IsReady(p) ? 1 : 0)
                .ThenByDescending(p => Json.Str(p, "metadata", "creationTimestamp"), StringComparer.Ordinal)
                .ThenByDescending(p => Json.Name(p), StringComparer.Ordinal)
                .Take(pods.Count - (int)desired);
            foreach (var v in victims)
            {
                api.TryDelete(ResourceCatalog.Pods, ns, Json.Name(v));
                api.RecordEvent(rs, "Normal", "SuccessfulDelete", $"Deleted pod: {Json.Name(v)}", "replicaset-controller");
            }
        }

        pods = OwnedPods(api, rs);
        var fresh = api.Get(ResourceCatalog.ReplicaSets, ns, Json.Name(rs));
        var status = new JsonObject
        {
            ["replicas"] = pods.Count,
            ["fullyLabeledReplicas"] = pods.Count,
            ["readyReplicas"] = pods.Count(IsReady),
            ["availableReplicas"] = pods.Count(IsReady),
            ["observedGeneration"] = Json.Long(fresh, "metadata", "generation"),
        };
        foreach (var zero in new[] { "readyReplicas", "availableReplicas", "fullyLabeledReplicas" })
        {
            if (Json.Long(status, zero) == 0)
            {
                status.Remove(zero);
            }
        }

        api.SaveStatus(ResourceCatalog.ReplicaSets, fresh, status);
    }

    // ------------------------------------------------------------------ StatefulSet

    public static void StatefulSets(SimulatedApi api)
    {
        foreach (var sts in api.Store.List(ResourceCatalog.StatefulSets))
        {
            if (!Deleting(sts))
            {
                Reconciler.Safely(() => StatefulSet(api, sts));
            }
        }
    }

    private static int Ordinal(JsonObject pod, string setName) =>
        int.TryParse(Json.Name(pod).AsSpan(setName.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : -1;

    private static void StatefulSet(SimulatedApi api, JsonObject sts)
    {
        var ns = Json.Namespace(sts)!;
        var name = Json.Name(sts);
        var desired = (int)(Json.Long(sts, "spec", "replicas") ?? 1);
        var parallel = Json.Str(sts, "spec", "podManagementPolicy") == "Parallel";
        var revision = $"{name}-{TemplateHash(Json.At(sts, "spec", "template"))}";
        var pods = OwnedPods(api, sts).ToDictionary(p => Ordinal(p, name));

        var progressed = false;
        for (var i = 0; i < desired && !progressed; i++)
        {
            if (pods.ContainsKey(i))
            {
                if (!parallel && !IsReady(pods[i]))
                {
                    break;
                }

                continue;
            }

            var podName = $"{name}-{i}";
            var pod = PodFromTemplate(sts, podName, null, new Dictionary<string, string>
            {
                ["statefulset.kubernetes.io/pod-name"] = podName,
                ["apps.kubernetes.io/pod-index"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["controller-revision-hash"] = revision,
            });
            var spec = Json.Obj(pod, "spec");
            spec["hostname"] = podName;
            if (Json.Str(sts, "spec", "serviceName") is { Length: > 0 } svc)
            {
                spec["subdomain"] = svc;
            }

            foreach (var claim in (Json.At(sts, "spec", "volumeClaimTemplates") as JsonArray ?? []).OfType<JsonObject>())
            {
                var claimName = $"{Json.Str(claim, "metadata", "name")}-{podName}";
                if (api.Store.Get(ResourceCatalog.PersistentVolumeClaims, ns, claimName) is null)
                {
                    var pvc = new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["name"] = claimName, ["namespace"] = ns, ["labels"] = Json.At(sts, "spec", "selector", "matchLabels")?.DeepClone() },
                        ["spec"] = claim["spec"]?.DeepClone(),
                    };
                    api.Create(ResourceCatalog.PersistentVolumeClaims, ns, pvc);
                    api.RecordEvent(sts, "Normal", "SuccessfulCreate", $"create Claim {claimName} Pod {podName} in StatefulSet {name} success", "statefulset-controller");
                }

                var volumes = Json.Arr(spec, "volumes");
                var volName = Json.Str(claim, "metadata", "name");
                if (!volumes.OfType<JsonObject>().Any(v => Json.Str(v, "name") == volName))
                {
                    volumes.Add((JsonNode)new JsonObject { ["name"] = volName, ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = claimName } });
                }
            }

            try
            {
                api.Create(ResourceCatalog.Pods, ns, pod);
                api.RecordEvent(sts, "Normal", "SuccessfulCreate", $"create Pod {podName} in StatefulSet {name} successful", "statefulset-controller");
            }
            catch (KubeApiException ex)
            {
                api.RecordEvent(sts, "Warning", "FailedCreate", $"create Pod {podName} in StatefulSet {name} failed error: {ex.Message}", "statefulset-controller");
                break;
            }

            progressed = !parallel;
        }

        // Scale down from the highest ordinal; OrderedReady removes one at a time.
        foreach (var (ordinal, pod) in pods.Where(kv => kv.Key >= desired || kv.Key < 0).OrderByDescending(kv => kv.Key))
        {
            api.TryDelete(ResourceCatalog.Pods, ns, Json.Name(pod));
            api.RecordEvent(sts, "Normal", "SuccessfulDelete", $"delete Pod {Json.Name(pod)} in StatefulSet {name} successful", "statefulset-controller");
            if (!parallel)
            {
                break;
            }
        }

        // Rolling update: replace the highest stale pod once every pod is ready.
        var current = OwnedPods(api, sts);
        if (current.Count == desired && current.All(IsReady))
        {
            var stale = current.Where(p => Json.Str(p, "metadata", "labels", "controller-revision-hash") != revision).OrderByDescending(p => Ordinal(p, name)).FirstOrDefault();
            if (stale is not null)
            {
                api.TryDelete(ResourceCatalog.Pods, ns, Json.Name(stale));
            }
        }

        current = OwnedPods(api, sts);
        var fresh = api.Get(ResourceCatalog.StatefulSets, ns, name);
        var updatedCount = current.Count(p => Json.Str(p, "metadata", "labels", "controller-revision-hash") == revision);
        var status = new JsonObject
        {
            ["observedGeneration"] = Json.Long(fresh, "metadata", "generation"),
            ["replicas"] = current.Count,
            ["readyReplicas"] = current.Count(IsReady),
            ["currentReplicas"] = updatedCount,
            ["updatedReplicas"] = updatedCount,
            ["availableReplicas"] = current.Count(IsReady),
            ["currentRevision"] = revision,
            ["updateRevision"] = revision,
            ["collisionCount"] = 0,
        };
        if (Json.Long(status, "readyReplicas") == 0)
        {
            status.Remove("readyReplicas");
        }

        api.SaveStatus(ResourceCatalog.StatefulSets, fresh, status);
    }
}
