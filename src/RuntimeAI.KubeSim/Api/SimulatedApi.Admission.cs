using System.Text;
using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>Defaulting, validation and the side effects of writes, per kind.</summary>
internal sealed partial class SimulatedApi
{
    private void Default(ResourceType type, JsonObject obj)
    {
        var spec = obj["spec"] as JsonObject;
        if (type == ResourceCatalog.Namespaces)
        {
            Json.Obj(Json.Meta(obj), "labels")["kubernetes.io/metadata.name"] = Json.Name(obj);
            Json.Obj(obj, "spec")["finalizers"] ??= new JsonArray("kubernetes");
            Json.Obj(obj, "status")["phase"] ??= "Active";
        }
        else if (type == ResourceCatalog.Pods && spec is not null)
        {
            DefaultPodSpec(spec);
            var status = Json.Obj(obj, "status");
            status["phase"] ??= "Pending";
            status["qosClass"] ??= QosClass(spec);
        }
        else if (type == ResourceCatalog.Services)
        {
            spec ??= Json.Obj(obj, "spec");
            spec["type"] ??= "ClusterIP";
            if (string.IsNullOrEmpty(Json.Str(spec, "clusterIP")) && Json.Str(spec, "type") != "ExternalName")
            {
                spec["clusterIP"] = NextServiceIp();
            }

            if (Json.Str(spec, "clusterIP") is { } ip)
            {
                spec["clusterIPs"] ??= new JsonArray(ip);
            }

            spec["sessionAffinity"] ??= "None";
            spec["internalTrafficPolicy"] ??= "Cluster";
            spec["ipFamilies"] ??= new JsonArray("IPv4");
            spec["ipFamilyPolicy"] ??= "SingleStack";
            foreach (var port in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
            {
                port["protocol"] ??= "TCP";
                port["targetPort"] ??= port["port"]?.DeepClone();
                if (Json.Str(spec, "type") is "NodePort" or "LoadBalancer")
                {
                    port["nodePort"] ??= 30000 + NextRandom(2767);
                }
            }

            Json.Obj(Json.Obj(obj, "status"), "loadBalancer");
        }
        else if (type == ResourceCatalog.Deployments && spec is not null)
        {
            spec["replicas"] ??= 1;
            spec["revisionHistoryLimit"] ??= 10;
            spec["progressDeadlineSeconds"] ??= 600;
            spec["strategy"] ??= new JsonObject
            {
                ["type"] = "RollingUpdate",
                ["rollingUpdate"] = new JsonObject { ["maxSurge"] = "25%", ["maxUnavailable"] = "25%" },
            };
            DefaultTemplate(spec);
        }
        else if ((type == ResourceCatalog.ReplicaSets || type == ResourceCatalog.StatefulSets) && spec is not null)
        {
            spec["replicas"] ??= 1;
            if (type == ResourceCatalog.StatefulSets)
            {
                spec["podManagementPolicy"] ??= "OrderedReady";
                spec["revisionHistoryLimit"] ??= 10;
                spec["updateStrategy"] ??= new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["partition"] = 0 } };
            }

            DefaultTemplate(spec);
        }
        else if (type == ResourceCatalog.Secrets)
        {
            obj["type"] ??= "Opaque";
            if (obj["stringData"] is JsonObject stringData)
            {
                var data = Json.Obj(obj, "data");
                foreach (var (k, v) in Json.StringMap(stringData))
                {
                    data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(v));
                }

                obj.Remove("stringData");
            }
        }
        else if (type == ResourceCatalog.PersistentVolumeClaims)
        {
            Json.Obj(obj, "status")["phase"] ??= "Pending";
        }
    }

    private static void DefaultTemplate(JsonObject spec)
    {
        if (Json.At(spec, "template", "spec") is JsonObject podSpec)
        {
            DefaultPodSpec(podSpec);
        }
    }

    private static void DefaultPodSpec(JsonObject spec)
    {
        spec["restartPolicy"] ??= "Always";
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["schedulerName"] ??= "default-scheduler";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["securityContext"] ??= new JsonObject();
        foreach (var c in (spec["containers"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var image = Json.Str(c, "image") ?? string.Empty;
            var tagged = image.Contains(':', StringComparison.Ordinal) && !image.EndsWith(":latest", StringComparison.Ordinal);
            c["imagePullPolicy"] ??= tagged ? "IfNotPresent" : "Always";
            c["terminationMessagePath"] ??= "/dev/termination-log";
            c["terminationMessagePolicy"] ??= "File";
            c["resources"] ??= new JsonObject();
        }
    }

    private static string QosClass(JsonObject spec)
    {
        var containers = (spec["containers"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (containers.All(c => Json.At(c, "resources", "requests") is null && Json.At(c, "resources", "limits") is null))
        {
            return "BestEffort";
        }

        var guaranteed = containers.All(c =>
            Json.At(c, "resources", "limits", "cpu") is not null && Json.At(c, "resources", "limits", "memory") is not null &&
            (Json.At(c, "resources", "requests") is null ||
             (Json.Str(c, "resources", "requests", "cpu") ?? Json.Str(c, "resources", "limits", "cpu")) == Json.Str(c, "resources", "limits", "cpu")));
        return guaranteed ? "Guaranteed" : "Burstable";
    }

    private void Validate(ResourceType type, JsonObject obj)
    {
        var name = Json.Name(obj);
        if (type == ResourceCatalog.Pods)
        {
            ValidatePodSpec(type, name, obj["spec"] as JsonObject, "spec");
        }
        else if (type == ResourceCatalog.Deployments || type == ResourceCatalog.ReplicaSets || type == ResourceCatalog.StatefulSets)
        {
            var selector = Json.At(obj, "spec", "selector");
            if (selector is not JsonObject)
            {
                throw KubeApiException.Invalid(type, name, "spec.selector: Required value");
            }

            var labels = Json.StringMap(Json.At(obj, "spec", "template", "metadata", "labels"));
            if (!LabelSelector.FromObject(selector).Matches(labels) || LabelSelector.FromObject(selector).IsEmpty)
            {
                throw KubeApiException.Invalid(type, name, "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`");
            }

            if (Json.Long(obj, "spec", "replicas") is < 0)
            {
                throw KubeApiException.Invalid(type, name, "spec.replicas: Invalid value: must be greater than or equal to 0");
            }

            ValidatePodSpec(type, name, Json.At(obj, "spec", "template", "spec") as JsonObject, "spec.template.spec");
        }
        else if (type == ResourceCatalog.VirtualMachines)
        {
            if (Json.At(obj, "spec", "running") is not null && Json.At(obj, "spec", "runStrategy") is not null)
            {
                throw KubeApiException.Invalid(type, name, "spec.running: Running and RunStrategy are mutually exclusive");
            }

            if (Json.Str(obj, "spec", "runStrategy") is { } rs && rs is not ("Always" or "Halted" or "Manual" or "RerunOnFailure" or "Once"))
            {
                throw KubeApiException.Invalid(type, name, $"spec.runStrategy: Unsupported value: \"{rs}\"");
            }

            if (Json.Str(obj, "spec", "instancetype", "name") is { } it)
            {
                var kind = Json.Str(obj, "spec", "instancetype", "kind") ?? "VirtualMachineClusterInstancetype";
                var found = kind.Equals("VirtualMachineInstancetype", StringComparison.OrdinalIgnoreCase)
                    ? Store.Get(ResourceCatalog.Instancetypes, Json.Namespace(obj), it)
                    : Store.Get(ResourceCatalog.ClusterInstancetypes, null, it);
                if (found is null)
                {
                    throw KubeApiException.Invalid(type, name, $"spec.instancetype.name: Invalid value: \"{it}\": Failure to find instancetype: {kind.ToLowerInvariant()}s.instancetype.kubevirt.io \"{it}\" not found");
                }
            }
        }
        else if (type == ResourceCatalog.CustomResourceDefinitions)
        {
            if (Json.Str(obj, "spec", "group") is null || Json.Str(obj, "spec", "names", "plural") is null || Json.Str(obj, "spec", "names", "kind") is null)
            {
                throw KubeApiException.Invalid(type, name, "spec: Required value: group, names.plural and names.kind are required");
            }

            if (name != $"{Json.Str(obj, "spec", "names", "plural")}.{Json.Str(obj, "spec", "group")}")
            {
                throw KubeApiException.Invalid(type, name, "metadata.name: Invalid value: must be spec.names.plural+\".\"+spec.group");
            }
        }
    }

    private static void ValidatePodSpec(ResourceType type, string name, JsonObject? spec, string path)
    {
        var containers = spec?["containers"] as JsonArray;
        if (containers is null || containers.Count == 0)
        {
            throw KubeApiException.Invalid(type, name, $"{path}.containers: Required value");
        }

        for (var i = 0; i < containers.Count; i++)
        {
            if (string.IsNullOrEmpty(Json.Str(containers[i], "name")))
            {
                throw KubeApiException.Invalid(type, name, $"{path}.containers[{i}].name: Required value");
            }

            if (string.IsNullOrEmpty(Json.Str(containers[i], "image")))
            {
                throw KubeApiException.Invalid(type, name, $"{path}.containers[{i}].image: Required value");
            }
        }
    }

    private static void ValidateUpdate(ResourceType type, JsonObject current, JsonObject updated)
    {
        var name = Json.Name(current);
        if ((type == ResourceCatalog.Deployments || type == ResourceCatalog.ReplicaSets || type == ResourceCatalog.StatefulSets) &&
            !JsonNode.DeepEquals(Json.At(current, "spec", "selector"), Json.At(updated, "spec", "selector")))
        {
            throw KubeApiException.Invalid(type, name, "spec.selector: Invalid value: field is immutable");
        }

        if (type == ResourceCatalog.Pods && Json.Str(current, "spec", "nodeName") is { } node &&
            Json.Str(updated, "spec", "nodeName") is { } newNode && node != newNode)
        {
            throw KubeApiException.Invalid(type, name, "spec: Forbidden: pod updates may not change fields other than image, activeDeadlineSeconds, tolerations");
        }
    }

    private void AfterCreate(ResourceType type, JsonObject created)
    {
        if (type == ResourceCatalog.Namespaces)
        {
            try
            {
                Store.Create(ResourceCatalog.ServiceAccounts, new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = "default", ["namespace"] = Json.Name(created) },
                });
            }
            catch (KubeApiException)
            {
                // Recreated namespace: the account survived.
            }
        }
        else if (type == ResourceCatalog.CustomResourceDefinitions)
        {
            RegisterCustomResource(created);
        }
    }

    private void AfterUpdate(ResourceType type, JsonObject updated)
    {
        if (type == ResourceCatalog.CustomResourceDefinitions)
        {
            RegisterCustomResource(updated);
        }
    }

    private void RegisterCustomResource(JsonObject crd)
    {
        var spec = crd["spec"] as JsonObject ?? [];
        var versions = (spec["versions"] as JsonArray ?? []).OfType<JsonObject>().Where(v => Json.Bool(v, "served") != false).ToList();
        foreach (var v in versions)
        {
            var subresources = Json.At(v, "subresources") is JsonObject s ? s.Select(kv => kv.Key).ToArray() : [];
            Catalog.Add(new ResourceType(
                Json.Str(spec, "group")!,
                Json.Str(v, "name") ?? "v1",
                Json.Str(spec, "names", "plural")!,
                Json.Str(spec, "names", "kind")!,
                Json.Str(spec, "scope") != "Cluster",
                (Json.At(spec, "names", "shortNames") as JsonArray ?? []).Select(n => Json.Str(n) ?? string.Empty).ToArray(),
                subresources,
                (Json.At(spec, "names", "categories") as JsonArray ?? []).Select(n => Json.Str(n) ?? string.Empty).ToArray()));
        }

        var status = Json.Obj(crd, "status");
        Json.SetCondition(status, "NamesAccepted", "True", "NoConflicts", "no conflicts found", Now);
        Json.SetCondition(status, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted", Now);
        status["acceptedNames"] = spec["names"]?.DeepClone();
        status["storedVersions"] = new JsonArray(versions.Select(v => (JsonNode?)Json.Str(v, "name")).ToArray());
        Json.Meta(crd).Remove("resourceVersion");
        Store.Update(ResourceCatalog.CustomResourceDefinitions, crd);
    }
}
