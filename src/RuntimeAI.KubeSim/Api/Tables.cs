using System.Globalization;
using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>Server-side printing: the meta.k8s.io/v1 Table kubectl asks for, with the columns kubectl users know.</summary>
internal static class Tables
{
    private sealed record Column(string Name, string Type, int Priority, Func<JsonObject, DateTimeOffset, JsonNode?> Cell, string Format = "");

    public static JsonObject Build(ResourceType type, IEnumerable<JsonObject> objects, string resourceVersion, string? continueToken, DateTimeOffset now, bool includeColumns = true)
    {
        var columns = ColumnsFor(type);
        var rows = new JsonArray();
        foreach (var o in objects)
        {
            var cells = new JsonArray(columns.Select(c => c.Cell(o, now)).ToArray());
            rows.Add((JsonNode)new JsonObject { ["cells"] = cells, ["object"] = o });
        }

        var meta = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (!string.IsNullOrEmpty(continueToken))
        {
            meta["continue"] = continueToken;
        }

        var table = new JsonObject { ["kind"] = "Table", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = meta };
        table["columnDefinitions"] = includeColumns
            ? new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = string.Empty,
                ["priority"] = c.Priority,
            }).ToArray())
            : new JsonArray();
        table["rows"] = rows;
        return table;
    }

    public static string Age(string? timestamp, DateTimeOffset now)
    {
        if (Json.ParseTime(timestamp) is not { } t)
        {
            return "<unknown>";
        }

        var d = now - t;
        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        var s = (long)d.TotalSeconds;
        string F(string f, params object[] a) => string.Format(CultureInfo.InvariantCulture, f, a);
        if (s < 120)
        {
            return F("{0}s", s);
        }

        var m = s / 60;
        if (m < 10)
        {
            return s % 60 == 0 ? F("{0}m", m) : F("{0}m{1}s", m, s % 60);
        }

        if (m < 180)
        {
            return F("{0}m", m);
        }

        var h = m / 60;
        if (h < 8)
        {
            return m % 60 == 0 ? F("{0}h", h) : F("{0}h{1}m", h, m % 60);
        }

        if (h < 48)
        {
            return F("{0}h", h);
        }

        var days = h / 24;
        if (h < 24 * 8)
        {
            return h % 24 == 0 ? F("{0}d", days) : F("{0}d{1}h", days, h % 24);
        }

        return days < 365 * 2 ? F("{0}d", days) : F("{0}y{1}d", days / 365, days % 365);
    }

    private static Column Name() => new("Name", "string", 0, (o, _) => Json.Name(o), "name");

    private static Column AgeColumn() => new("Age", "string", 0, (o, now) => Age(Json.Str(o, "metadata", "creationTimestamp"), now));

    private static Column Str(string name, params string[] path) => new(name, "string", 0, (o, _) => Json.Str(o, path) ?? "<none>");

    private static List<Column> ColumnsFor(ResourceType type) => type.Resource switch
    {
        "pods" when type.Group.Length == 0 =>
        [
            Name(),
            new("Ready", "string", 0, (o, _) => PodReady(o)),
            new("Status", "string", 0, (o, _) => PodStatus(o)),
            new("Restarts", "string", 0, (o, _) => (JsonNode)(ContainerStatuses(o).Sum(c => Json.Long(c, "restartCount") ?? 0)).ToString(CultureInfo.InvariantCulture)),
            AgeColumn(),
            new("IP", "string", 1, (o, _) => Json.Str(o, "status", "podIP") ?? "<none>"),
            new("Node", "string", 1, (o, _) => Json.Str(o, "spec", "nodeName") ?? "<none>"),
            new("Nominated Node", "string", 1, (_, _) => "<none>"),
            new("Readiness Gates", "string", 1, (_, _) => "<none>"),
        ],
        "deployments" =>
        [
            Name(),
            new("Ready", "string", 0, (o, _) => $"{Json.Long(o, "status", "readyReplicas") ?? 0}/{Json.Long(o, "spec", "replicas") ?? 0}"),
            new("Up-to-date", "integer", 0, (o, _) => Json.Long(o, "status", "updatedReplicas") ?? 0),
            new("Available", "integer", 0, (o, _) => Json.Long(o, "status", "availableReplicas") ?? 0),
            AgeColumn(),
            new("Containers", "string", 1, (o, _) => Join(o, "name")),
            new("Images", "string", 1, (o, _) => Join(o, "image")),
            new("Selector", "string", 1, (o, _) => Selector(Json.At(o, "spec", "selector", "matchLabels"))),
        ],
        "replicasets" =>
        [
            Name(),
            new("Desired", "integer", 0, (o, _) => Json.Long(o, "spec", "replicas") ?? 0),
            new("Current", "integer", 0, (o, _) => Json.Long(o, "status", "replicas") ?? 0),
            new("Ready", "integer", 0, (o, _) => Json.Long(o, "status", "readyReplicas") ?? 0),
            AgeColumn(),
        ],
        "statefulsets" =>
        [
            Name(),
            new("Ready", "string", 0, (o, _) => $"{Json.Long(o, "status", "readyReplicas") ?? 0}/{Json.Long(o, "spec", "replicas") ?? 0}"),
            AgeColumn(),
        ],
        "nodes" when type.Group.Length == 0 =>
        [
            Name(),
            new("Status", "string", 0, (o, _) => (Json.ConditionStatus(o["status"], "Ready") == "True" ? "Ready" : "NotReady") + (Json.Bool(o, "spec", "unschedulable") == true ? ",SchedulingDisabled" : string.Empty)),
            new("Roles", "string", 0, (o, _) => Roles(o)),
            AgeColumn(),
            Str("Version", "status", "nodeInfo", "kubeletVersion"),
            new("Internal-IP", "string", 1, (o, _) => (Json.At(o, "status", "addresses") as JsonArray ?? []).OfType<JsonObject>().Where(a => Json.Str(a, "type") == "InternalIP").Select(a => Json.Str(a, "address")).FirstOrDefault() ?? "<none>"),
            new("External-IP", "string", 1, (_, _) => "<none>"),
            Str("OS-Image", "status", "nodeInfo", "osImage") with { Priority = 1 },
            Str("Kernel-Version", "status", "nodeInfo", "kernelVersion") with { Priority = 1 },
            Str("Container-Runtime", "status", "nodeInfo", "containerRuntimeVersion") with { Priority = 1 },
        ],
        "namespaces" => [Name(), Str("Status", "status", "phase"), AgeColumn()],
        "services" =>
        [
            Name(),
            Str("Type", "spec", "type"),
            new("Cluster-IP", "string", 0, (o, _) => Json.Str(o, "spec", "clusterIP") ?? "<none>"),
            new("External-IP", "string", 0, (o, _) => Json.Str(o, "spec", "type") == "LoadBalancer" ? "<pending>" : "<none>"),
            new("Port(s)", "string", 0, (o, _) => Ports(o)),
            AgeColumn(),
            new("Selector", "string", 1, (o, _) => Selector(Json.At(o, "spec", "selector"))),
        ],
        "configmaps" => [Name(), new("Data", "integer", 0, (o, _) => (o["data"] as JsonObject)?.Count + (o["binaryData"] as JsonObject)?.Count ?? (o["data"] as JsonObject)?.Count ?? 0), AgeColumn()],
        "secrets" => [Name(), Str("Type", "type"), new("Data", "integer", 0, (o, _) => (o["data"] as JsonObject)?.Count ?? 0), AgeColumn()],
        "roles" or "clusterroles" => [Name(), new("Created At", "string", 0, (o, _) => Json.Str(o, "metadata", "creationTimestamp") ?? "<none>")],
        "rolebindings" or "clusterrolebindings" =>
        [
            Name(),
            new("Role", "string", 0, (o, _) => $"{Json.Str(o, "roleRef", "kind")}/{Json.Str(o, "roleRef", "name")}"),
            AgeColumn(),
        ],
        "serviceaccounts" => [Name(), new("Secrets", "integer", 0, (o, _) => (o["secrets"] as JsonArray)?.Count ?? 0), AgeColumn()],
        "endpoints" => [Name(), new("Endpoints", "string", 0, (o, _) => Endpoints(o)), AgeColumn()],
        "events" when type.Group.Length == 0 =>
        [
            new("Last Seen", "string", 0, (o, now) => Age(Json.Str(o, "lastTimestamp") ?? Json.Str(o, "metadata", "creationTimestamp"), now)),
            Str("Type", "type"),
            Str("Reason", "reason"),
            new("Object", "string", 0, (o, _) => $"{Json.Str(o, "involvedObject", "kind")?.ToLowerInvariant()}/{Json.Str(o, "involvedObject", "name")}"),
            Str("Message", "message"),
        ],
        "persistentvolumeclaims" =>
        [
            Name(), Str("Status", "status", "phase"), new("Volume", "string", 0, (o, _) => Json.Str(o, "spec", "volumeName") ?? string.Empty),
            new("Capacity", "string", 0, (o, _) => Json.Str(o, "status", "capacity", "storage") ?? string.Empty),
            new("Access Modes", "string", 0, (o, _) => string.Join(',', (Json.At(o, "spec", "accessModes") as JsonArray ?? []).Select(m => Json.Str(m) switch { "ReadWriteOnce" => "RWO", "ReadOnlyMany" => "ROX", "ReadWriteMany" => "RWX", var x => x }))),
            new("StorageClass", "string", 0, (o, _) => Json.Str(o, "spec", "storageClassName") ?? "standard"),
            new("VolumeAttributesClass", "string", 0, (_, _) => "<unset>"),
            AgeColumn(),
        ],
        "resourcequotas" =>
        [
            Name(), AgeColumn(),
            new("Request", "string", 0, (o, _) => QuotaSummary(o, k => !k.StartsWith("limits.", StringComparison.Ordinal))),
            new("Limit", "string", 0, (o, _) => QuotaSummary(o, k => k.StartsWith("limits.", StringComparison.Ordinal))),
        ],
        "poddisruptionbudgets" =>
        [
            Name(),
            new("Min Available", "string", 0, (o, _) => Json.Str(o, "spec", "minAvailable") ?? "N/A"),
            new("Max Unavailable", "string", 0, (o, _) => Json.Str(o, "spec", "maxUnavailable") ?? "N/A"),
            new("Allowed Disruptions", "integer", 0, (o, _) => Json.Long(o, "status", "disruptionsAllowed") ?? 0),
            AgeColumn(),
        ],
        "virtualmachines" =>
        [
            Name(), AgeColumn(), new("Status", "string", 0, (o, _) => Json.Str(o, "status", "printableStatus") ?? "Stopped"),
            new("Ready", "string", 0, (o, _) => Json.ConditionStatus(o["status"], "Ready") ?? "False"),
        ],
        "virtualmachineinstances" =>
        [
            Name(), AgeColumn(), Str("Phase", "status", "phase"),
            new("IP", "string", 0, (o, _) => Json.Str((Json.At(o, "status", "interfaces") as JsonArray)?.FirstOrDefault(), "ipAddress") ?? string.Empty),
            new("NodeName", "string", 0, (o, _) => Json.Str(o, "status", "nodeName") ?? string.Empty),
            new("Ready", "string", 0, (o, _) => Json.ConditionStatus(o["status"], "Ready") ?? "False"),
        ],
        "virtualmachinesnapshots" =>
        [
            Name(), Str("SourceKind", "spec", "source", "kind"), Str("SourceName", "spec", "source", "name"), Str("Phase", "status", "phase"),
            new("ReadyToUse", "string", 0, (o, _) => (Json.Bool(o, "status", "readyToUse") ?? false) ? "true" : "false"),
            Str("CreationTime", "status", "creationTime"), new("Error", "string", 0, (o, _) => Json.Str(o, "status", "error", "message") ?? string.Empty),
        ],
        "virtualmachinerestores" =>
        [
            Name(), Str("TargetKind", "spec", "target", "kind"), Str("TargetName", "spec", "target", "name"),
            new("Complete", "string", 0, (o, _) => (Json.Bool(o, "status", "complete") ?? false) ? "true" : "false"),
            Str("RestoreTime", "status", "restoreTime"), new("Error", "string", 0, (_, _) => string.Empty),
        ],
        _ => [Name(), AgeColumn()],
    };

    private static IEnumerable<JsonObject> ContainerStatuses(JsonObject pod) =>
        (Json.At(pod, "status", "containerStatuses") as JsonArray ?? []).OfType<JsonObject>();

    private static string PodReady(JsonObject pod)
    {
        var total = (Json.At(pod, "spec", "containers") as JsonArray)?.Count ?? 0;
        var ready = ContainerStatuses(pod).Count(c => Json.Bool(c, "ready") == true);
        return $"{ready}/{total}";
    }

    public static string PodStatus(JsonObject pod)
    {
        if (Json.At(pod, "metadata", "deletionTimestamp") is not null)
        {
            return "Terminating";
        }

        if (Json.Str(pod, "status", "reason") is { } reason)
        {
            return reason;
        }

        foreach (var c in ContainerStatuses(pod))
        {
            if (Json.Str(c, "state", "waiting", "reason") is { } waiting)
            {
                return waiting;
            }
        }

        return Json.Str(pod, "status", "phase") ?? "Unknown";
    }

    private static string Roles(JsonObject node)
    {
        var roles = Json.Labels(node).Keys.Where(k => k.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
            .Select(k => k["node-role.kubernetes.io/".Length..]).ToList();
        return roles.Count == 0 ? "<none>" : string.Join(',', roles);
    }

    private static string Join(JsonObject o, string field) => string.Join(',',
        (Json.At(o, "spec", "template", "spec", "containers") as JsonArray ?? []).Select(c => Json.Str(c, field)));

    private static string Selector(JsonNode? map)
    {
        var m = Json.StringMap(map);
        return m.Count == 0 ? "<none>" : string.Join(',', m.Select(kv => $"{kv.Key}={kv.Value}"));
    }

    private static string Ports(JsonObject svc)
    {
        var ports = (Json.At(svc, "spec", "ports") as JsonArray ?? []).OfType<JsonObject>()
            .Select(p => Json.Long(p, "nodePort") is { } np ? $"{Json.Long(p, "port")}:{np}/{Json.Str(p, "protocol")}" : $"{Json.Long(p, "port")}/{Json.Str(p, "protocol")}")
            .ToList();
        return ports.Count == 0 ? "<none>" : string.Join(',', ports);
    }

    private static string Endpoints(JsonObject ep)
    {
        var list = new List<string>();
        foreach (var subset in (ep["subsets"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var ports = (subset["ports"] as JsonArray ?? []).Select(p => Json.Long(p, "port")).ToList();
            foreach (var addr in (subset["addresses"] as JsonArray ?? []))
            {
                list.AddRange(ports.Count == 0 ? [Json.Str(addr, "ip") ?? string.Empty] : ports.Select(p => $"{Json.Str(addr, "ip")}:{p}"));
            }
        }

        return list.Count == 0 ? "<none>" : string.Join(',', list);
    }

    private static string QuotaSummary(JsonObject quota, Func<string, bool> include)
    {
        var hard = Json.StringMap(Json.At(quota, "status", "hard") ?? Json.At(quota, "spec", "hard"));
        var used = Json.StringMap(Json.At(quota, "status", "used"));
        return string.Join(", ", hard.Where(kv => include(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}: {used.GetValueOrDefault(kv.Key, "0")}/{kv.Value}"));
    }
}
