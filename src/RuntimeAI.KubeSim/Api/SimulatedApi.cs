using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RuntimeAI.KubeSim.Patching;
using RuntimeAI.KubeSim.Store;

namespace RuntimeAI.KubeSim.Api;

/// <summary>
/// One simulated Kubernetes API: the host one, or one per virtual cluster. It owns the object store and
/// applies the write path of a kube-apiserver: defaulting, validation, admission (namespaces, quota),
/// status/spec separation, patches, owner-reference cascading.
/// </summary>
internal sealed partial class SimulatedApi
{
    private static readonly TimeSpan s_eventAggregationWindow = TimeSpan.FromSeconds(30);
    private static readonly string[] s_systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private long _serviceIpCounter = 10;

    public SimulatedApi(string name, string pathPrefix, KubeSimOptions options, Func<Uri> baseAddress)
    {
        Name = name;
        PathPrefix = pathPrefix;
        Options = options;
        BaseAddressProvider = baseAddress;
        Time = options.TimeProvider;
        _random = new Random(options.RandomSeed + StableHash(name));
        Store = new ObjectStore(Time, options.WatchLogCapacity, (long)(uint)StableHash(name) << 24);
        foreach (var ns in s_systemNamespaces)
        {
            Create(ResourceCatalog.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
        }

        Create(ResourceCatalog.Services, "default", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["labels"] = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" } },
            ["spec"] = new JsonObject
            {
                ["clusterIP"] = "10.96.0.1",
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = 6443 }),
            },
        });
    }

    /// <summary>The server's fault injection, consulted by computed resources (metrics).</summary>
    public KubeSimFaults? Faults { get; set; }

    /// <summary>Set on a virtual cluster's API when its pods are run by the host (vcluster's syncer) instead of its own scheduler.</summary>
    public bool PodsSyncedToHost { get; set; }

    /// <summary>Writes a controller's change; an object whose last finalizer went away is deleted and its dependents cascade.</summary>
    public JsonObject Save(ResourceType type, JsonObject obj)
    {
        var saved = Store.Update(type, obj);
        if (Json.At(saved, "metadata", "deletionTimestamp") is not null && Store.Get(type, Json.Namespace(saved), Json.Name(saved)) is null)
        {
            AfterDelete(type, saved, "Background");
        }

        return saved;
    }

    /// <summary>Replaces status if it changed; returns whether a write happened.</summary>
    public bool SaveStatus(ResourceType type, JsonObject obj, JsonObject status)
    {
        if (JsonNode.DeepEquals(obj["status"], status))
        {
            return false;
        }

        obj["status"] = status;
        Save(type, obj);
        return true;
    }

    public string Name { get; }

    /// <summary>Path prefix under the server's base address ("" for the host API).</summary>
    public string PathPrefix { get; }

    public KubeSimOptions Options { get; }

    public Func<Uri> BaseAddressProvider { get; }

    public TimeProvider Time { get; }

    public ResourceCatalog Catalog { get; } = new();

    public ObjectStore Store { get; }

    /// <summary>Set while a virtual cluster is scaled to zero: its API answers 503 like a vcluster whose pod is gone.</summary>
    public bool Unavailable { get; set; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public static int StableHash(string s)
    {
        unchecked
        {
            var h = (int)2166136261;
            foreach (var c in s)
            {
                h = (h ^ c) * 16777619;
            }

            return h & 0x7fffffff;
        }
    }

    /// <summary>A random suffix from the alphabet Kubernetes uses for generated names.</summary>
    public string RandomSuffix(int length = 5)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var sb = new StringBuilder(length);
        lock (_randomGate)
        {
            for (var i = 0; i < length; i++)
            {
                sb.Append(alphabet[_random.Next(alphabet.Length)]);
            }
        }

        return sb.ToString();
    }

    public int NextRandom(int max)
    {
        lock (_randomGate)
        {
            return _random.Next(max);
        }
    }

    public JsonObject Get(ResourceType type, string? ns, string name) =>
        Store.Get(type, ns, name) ?? throw KubeApiException.NotFound(type, name);

    // ---------------------------------------------------------------- create

    public JsonObject Create(ResourceType type, string? ns, JsonObject obj, bool dryRun = false, string? fieldManager = null)
    {
        if (type.ReadOnly)
        {
            throw KubeApiException.MethodNotAllowed($"the server does not allow this method on the requested resource ({type.GroupResource})");
        }

        CheckKind(type, obj);
        var meta = Json.Meta(obj);
        if (type.Namespaced)
        {
            var bodyNs = Json.Str(meta, "namespace") is { Length: > 0 } given ? given : null;
            ns ??= bodyNs ?? "default";
            if (bodyNs is not null && bodyNs != ns)
            {
                throw KubeApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            meta["namespace"] = ns;
            if (Store.Get(ResourceCatalog.Namespaces, null, ns) is not { } nsObj)
            {
                throw new KubeApiException(404, "NotFound", $"namespaces \"{ns}\" not found",
                    new JsonObject { ["name"] = ns, ["kind"] = "namespaces" });
            }

            if (Json.At(nsObj, "metadata", "deletionTimestamp") is not null)
            {
                throw new KubeApiException(403, "Forbidden",
                    $"{type.Resource} \"{Json.Name(obj)}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated");
            }
        }

        if (string.IsNullOrEmpty(Json.Str(meta, "name")))
        {
            var generate = Json.Str(meta, "generateName");
            if (string.IsNullOrEmpty(generate))
            {
                throw KubeApiException.Invalid(type, string.Empty, "metadata.name: Required value: name or generateName is required");
            }

            meta["name"] = generate + RandomSuffix();
        }

        ValidateName(type, Json.Name(obj));
        Default(type, obj);
        Validate(type, obj);
        if (fieldManager is not null)
        {
            RecordManager(obj, type, fieldManager, "Update");
        }

        if (type.Namespaced)
        {
            Quotas.Admit(this, type, obj, null);
        }

        var created = Store.Create(type, obj, dryRun);
        if (!dryRun)
        {
            AfterCreate(type, created);
        }

        return created;
    }

    private static void CheckKind(ResourceType type, JsonObject obj)
    {
        var kind = Json.Str(obj, "kind");
        var apiVersion = Json.Str(obj, "apiVersion");
        if ((kind is not null && kind != type.Kind) || (apiVersion is not null && apiVersion != type.ApiVersion))
        {
            throw KubeApiException.BadRequest(
                $"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion}) or the kind ({kind}) does not match {type.Kind}");
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex SubdomainPattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex LabelPattern();

    private static void ValidateName(ResourceType type, string name)
    {
        var dnsLabel = type == ResourceCatalog.Namespaces || type == ResourceCatalog.Services;
        var ok = dnsLabel ? name.Length <= 63 && LabelPattern().IsMatch(name) : name.Length <= 253 && SubdomainPattern().IsMatch(name);
        if (type == ResourceCatalog.Events || type == ResourceCatalog.Nodes)
        {
            ok = name.Length > 0;
        }

        if (!ok)
        {
            throw KubeApiException.Invalid(type, name,
                dnsLabel
                    ? $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
                    : $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
        }
    }

    // ---------------------------------------------------------------- update / patch

    /// <summary>PUT on the main resource: spec and metadata change, status is kept where a status subresource exists.</summary>
    public JsonObject Replace(ResourceType type, string? ns, string name, JsonObject obj, bool dryRun = false, string? fieldManager = null)
    {
        if (type.ReadOnly)
        {
            throw KubeApiException.MethodNotAllowed($"the server does not allow this method on the requested resource ({type.GroupResource})");
        }

        CheckKind(type, obj);
        var meta = Json.Meta(obj);
        if (Json.Str(meta, "name") is { } bodyName && bodyName != name)
        {
            throw KubeApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        meta["name"] = name;
        if (type.Namespaced)
        {
            meta["namespace"] = ns;
        }

        var current = Get(type, ns, name);
        if (type.HasStatus)
        {
            obj["status"] = current["status"]?.DeepClone();
            if (obj["status"] is null)
            {
                obj.Remove("status");
            }
        }

        Default(type, obj);
        Validate(type, obj);
        ValidateUpdate(type, current, obj);
        if (fieldManager is not null)
        {
            RecordManager(obj, type, fieldManager, "Update");
        }

        if (type.Namespaced)
        {
            Quotas.Admit(this, type, obj, current);
        }

        var updated = Store.Update(type, obj, dryRun);
        if (!dryRun)
        {
            if (Json.At(updated, "metadata", "deletionTimestamp") is not null && Store.Get(type, ns, name) is null)
            {
                AfterDelete(type, updated, "Background");
            }
            else
            {
                AfterUpdate(type, updated);
            }
        }

        return updated;
    }

    /// <summary>PUT on the status subresource: only status changes.</summary>
    public JsonObject ReplaceStatus(ResourceType type, string? ns, string name, JsonObject obj, bool dryRun = false)
    {
        var current = Get(type, ns, name);
        var requested = Json.Str(obj, "metadata", "resourceVersion");
        current["status"] = obj["status"]?.DeepClone();
        Json.Meta(current)["resourceVersion"] = string.IsNullOrEmpty(requested) ? Json.Str(current, "metadata", "resourceVersion") : requested;
        return Store.Update(type, current, dryRun);
    }

    public JsonObject Patch(ResourceType type, string? ns, string name, string contentType, string body, string? subresource, bool dryRun, string? fieldManager, bool force)
    {
        // As the API server does: a patch that does not name a resourceVersion applies to whatever
        // is current, so a write that slipped in between (a controller updating status) makes it
        // read and apply again instead of answering 409 (up to 10 times; the API server's patcher gives up
        // after 5, but the simulator's controllers run in-process beside the request). A patch that
        // names one conflicts as asked.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return PatchOnce(type, ns, name, contentType, body, subresource, dryRun, fieldManager);
            }
            catch (KubeApiException ex) when (ex.Code == 409 && attempt < 10 && !PinsResourceVersion(contentType, body))
            {
            }
        }
    }

    private static bool PinsResourceVersion(string contentType, string body)
    {
        try
        {
            return !string.IsNullOrEmpty(Json.Str(ApplyPatch(new JsonObject(), contentType, body) as JsonObject, "metadata", "resourceVersion"));
        }
        catch (KubeApiException)
        {
            return true;
        }
    }

    private JsonObject PatchOnce(ResourceType type, string? ns, string name, string contentType, string body, string? subresource, bool dryRun, string? fieldManager)
    {
        var isApply = contentType.StartsWith("application/apply-patch", StringComparison.Ordinal);
        if (isApply && string.IsNullOrEmpty(fieldManager))
        {
            throw KubeApiException.BadRequest("PATCH /: fieldManager is required for apply requests");
        }

        var current = Store.Get(type, ns, name);
        if (current is null)
        {
            if (isApply && subresource is null)
            {
                var applied = Yaml.ParseObject(body);
                Json.Meta(applied)["name"] = name;
                var created = Create(type, ns, applied, dryRun);
                if (!dryRun)
                {
                    RecordManager(created, type, fieldManager!, "Apply", FieldSet(Yaml.ParseObject(body)));
                    return Store.Update(type, created);
                }

                return created;
            }

            throw KubeApiException.NotFound(type, name);
        }

        var patched = ApplyPatch(current, contentType, body);
        if (patched is not JsonObject patchedObj)
        {
            throw KubeApiException.BadRequest("the patch did not produce an object");
        }

        var wantedVersion = Json.Str(patchedObj, "metadata", "resourceVersion");
        if (string.IsNullOrEmpty(wantedVersion) || wantedVersion == Json.Str(current, "metadata", "resourceVersion"))
        {
            Json.Meta(patchedObj)["resourceVersion"] = Json.Str(current, "metadata", "resourceVersion");
        }

        if (isApply)
        {
            // Server-side apply: fields this manager applied before and no longer applies are removed.
            var appliedFields = FieldSet(Yaml.ParseObject(body));
            var previous = (Json.At(current, "metadata", "managedFields") as JsonArray ?? []).OfType<JsonObject>()
                .FirstOrDefault(m => Json.Str(m, "manager") == fieldManager && Json.Str(m, "operation") == "Apply")?["fieldsV1"] as JsonObject;
            if (previous is not null)
            {
                RemoveDropped(patchedObj, previous, appliedFields);
            }

            RecordManager(patchedObj, type, fieldManager!, "Apply", appliedFields);
        }

        if (subresource == "status")
        {
            return ReplaceStatus(type, ns, name, patchedObj, dryRun);
        }

        return Replace(type, ns, name, patchedObj, dryRun);
    }

    public static JsonNode? ApplyPatch(JsonNode? current, string contentType, string body)
    {
        var media = contentType.Split(';')[0].Trim();
        return media switch
        {
            "application/merge-patch+json" => MergePatch.Apply(current, Json.Parse(body)),
            "application/strategic-merge-patch+json" => StrategicMergePatch.Apply(current, Json.Parse(body)),
            "application/apply-patch+yaml" or "application/apply-patch+cbor" => StrategicMergePatch.Apply(current, Yaml.ParseObject(body)),
            "application/json-patch+json" => JsonPatch.Apply(current, ParseArray(body)),
            _ => throw new KubeApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"),
        };
    }

    private static JsonArray ParseArray(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonArray ?? throw KubeApiException.BadRequest("a JSON patch must be an array of operations");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw KubeApiException.BadRequest($"invalid JSON patch: {ex.Message}");
        }
    }

    /// <summary>The fields a configuration sets, in the <c>FieldsV1</c> shape (<c>{"f:spec":{"f:replicas":{}}}</c>); lists count as one field.</summary>
    internal static JsonObject FieldSet(JsonObject config)
    {
        var set = new JsonObject();
        foreach (var (key, value) in config)
        {
            if (key is "apiVersion" or "kind" or "status" || value is null)
            {
                continue;
            }

            set[$"f:{key}"] = value is JsonObject child && child.Count > 0 ? FieldSet(child) : new JsonObject();
        }

        if (set["f:metadata"] is JsonObject meta)
        {
            meta.Remove("f:name");
            meta.Remove("f:namespace");
            meta.Remove("f:resourceVersion");
        }

        return set;
    }

    private static void RemoveDropped(JsonObject obj, JsonObject previous, JsonObject next)
    {
        foreach (var (field, prevChildren) in previous)
        {
            var key = field.StartsWith("f:", StringComparison.Ordinal) ? field[2..] : field;
            if (next[field] is not JsonObject nextChildren)
            {
                obj.Remove(key);
            }
            else if (prevChildren is JsonObject p && p.Count > 0 && nextChildren.Count > 0 && obj[key] is JsonObject child)
            {
                RemoveDropped(child, p, nextChildren);
            }
        }
    }

    private void RecordManager(JsonObject obj, ResourceType type, string manager, string operation, JsonObject? fields = null)
    {
        var meta = Json.Meta(obj);
        var managed = Json.Arr(meta, "managedFields");
        foreach (var existing in managed.OfType<JsonObject>().Where(m => Json.Str(m, "manager") == manager && Json.Str(m, "operation") == operation).ToList())
        {
            managed.Remove(existing);
        }

        managed.Add((JsonNode)new JsonObject
        {
            ["manager"] = manager,
            ["operation"] = operation,
            ["apiVersion"] = type.ApiVersion,
            ["time"] = Json.Timestamp(Now),
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = fields ?? new JsonObject(),
        });
    }

    // ---------------------------------------------------------------- delete

    public JsonObject Delete(ResourceType type, string? ns, string name, string? propagationPolicy = null, bool dryRun = false, string? preconditionUid = null, string? preconditionVersion = null)
    {
        if (type.ReadOnly)
        {
            throw KubeApiException.MethodNotAllowed($"the server does not allow this method on the requested resource ({type.GroupResource})");
        }

        if (propagationPolicy is not null and not ("Orphan" or "Background" or "Foreground"))
        {
            throw KubeApiException.Invalid(type, name, $"propagationPolicy: Unsupported value: \"{propagationPolicy}\"");
        }

        if (type == ResourceCatalog.Namespaces && s_systemNamespaces.Contains(name))
        {
            throw new KubeApiException(403, "Forbidden", $"namespaces \"{name}\" is forbidden: this namespace may not be deleted");
        }

        var deleted = Store.Delete(type, ns, name, preconditionUid, preconditionVersion, dryRun);
        if (dryRun || Json.At(deleted, "metadata", "deletionTimestamp") is not null)
        {
            return deleted;
        }

        AfterDelete(type, deleted, propagationPolicy ?? "Background");
        return deleted;
    }

    private void AfterDelete(ResourceType type, JsonObject deleted, string propagation)
    {
        var uid = Json.Uid(deleted);
        if (type == ResourceCatalog.Namespaces)
        {
            var ns = Json.Name(deleted);
            foreach (var t in Catalog.All.Where(t => t.Namespaced && !t.ReadOnly && !t.Review))
            {
                foreach (var o in Store.List(t, ns))
                {
                    TryDelete(t, ns, Json.Name(o), "Background");
                }
            }
        }

        if (type == ResourceCatalog.CustomResourceDefinitions)
        {
            var group = Json.Str(deleted, "spec", "group") ?? string.Empty;
            var plural = Json.Str(deleted, "spec", "names", "plural") ?? string.Empty;
            Catalog.Remove(group, plural);
        }

        foreach (var (t, dependent) in Dependents(uid))
        {
            if (propagation == "Orphan")
            {
                var refs = Json.Arr(Json.Meta(dependent), "ownerReferences");
                foreach (var r in refs.OfType<JsonObject>().Where(r => Json.Str(r, "uid") == uid).ToList())
                {
                    refs.Remove(r);
                }

                Json.Meta(dependent).Remove("resourceVersion");
                Store.Update(t, dependent);
            }
            else
            {
                TryDelete(t, Json.Namespace(dependent), Json.Name(dependent), "Background");
            }
        }
    }

    public void TryDelete(ResourceType type, string? ns, string name, string propagation = "Background")
    {
        try
        {
            Delete(type, ns, name, propagation);
        }
        catch (KubeApiException ex) when (ex.Code == 404)
        {
            // Already gone: deletion is idempotent for cascades and controllers.
        }
    }

    private IEnumerable<(ResourceType Type, JsonObject Object)> Dependents(string? uid)
    {
        if (uid is null)
        {
            yield break;
        }

        foreach (var t in Catalog.All.Where(t => !t.ReadOnly && !t.Review))
        {
            foreach (var o in Store.ListShared(t))
            {
                if ((Json.At(o, "metadata", "ownerReferences") as JsonArray ?? []).OfType<JsonObject>().Any(r => Json.Str(r, "uid") == uid))
                {
                    yield return (t, o);
                }
            }
        }
    }

    public static JsonObject OwnerReference(JsonObject owner, bool controller = true) => new()
    {
        ["apiVersion"] = Json.Str(owner, "apiVersion"),
        ["kind"] = Json.Str(owner, "kind"),
        ["name"] = Json.Name(owner),
        ["uid"] = Json.Uid(owner),
        ["controller"] = controller,
        ["blockOwnerDeletion"] = true,
    };

    public static bool IsOwnedBy(JsonObject obj, string? ownerUid) =>
        ownerUid is not null && (Json.At(obj, "metadata", "ownerReferences") as JsonArray ?? []).OfType<JsonObject>()
            .Any(r => Json.Str(r, "uid") == ownerUid && Json.Bool(r, "controller") != false);

    // ---------------------------------------------------------------- events

    /// <summary>Records a core/v1 Event about <paramref name="involved"/>; repeats bump count and lastTimestamp.</summary>
    public void RecordEvent(JsonObject involved, string type, string reason, string message, string component)
    {
        var ns = Json.Namespace(involved) ?? "default";
        var now = Json.Timestamp(Now);
        var uid = Json.Uid(involved);
        foreach (var shared in Store.ListShared(ResourceCatalog.Events, ns))
        {
            if (Json.Str(shared, "involvedObject", "uid") == uid && Json.Str(shared, "reason") == reason && Json.Str(shared, "message") == message)
            {
                var e = (JsonObject)shared.DeepClone();
                // Like the kubelet's event correlator: a repeat within the aggregation window is not written again,
                // which also lets controllers settle while something keeps failing.
                if (Json.ParseTime(Json.Str(e, "lastTimestamp")) is { } last && Now - last < s_eventAggregationWindow)
                {
                    return;
                }

                e["count"] = (Json.Long(e, "count") ?? 1) + 1;
                e["lastTimestamp"] = now;
                Store.Update(ResourceCatalog.Events, e);
                return;
            }
        }

        var ev = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = $"{Json.Name(involved)}.{Store.ResourceVersion + 1:x}{NextRandom(0xffff):x4}", ["namespace"] = ns },
            ["involvedObject"] = new JsonObject
            {
                ["kind"] = Json.Str(involved, "kind"),
                ["namespace"] = Json.Namespace(involved),
                ["name"] = Json.Name(involved),
                ["uid"] = uid,
                ["apiVersion"] = Json.Str(involved, "apiVersion"),
                ["resourceVersion"] = Json.Str(involved, "metadata", "resourceVersion"),
            },
            ["reason"] = reason,
            ["message"] = message,
            ["type"] = type,
            ["source"] = new JsonObject { ["component"] = component },
            ["firstTimestamp"] = now,
            ["lastTimestamp"] = now,
            ["count"] = 1,
            ["reportingComponent"] = component,
            ["reportingInstance"] = string.Empty,
        };
        try
        {
            Store.Create(ResourceCatalog.Events, ev);
        }
        catch (KubeApiException)
        {
            // Events are best effort, as in Kubernetes.
        }
    }

    /// <summary>Whether an event with this reason was recorded for the object within <paramref name="window"/>: controllers back off on it.</summary>
    public bool RecentlyRecorded(JsonObject involved, string reason, TimeSpan window)
    {
        var uid = Json.Uid(involved);
        return Store.ListShared(ResourceCatalog.Events, Json.Namespace(involved) ?? "default").Any(e =>
            Json.Str(e, "involvedObject", "uid") == uid && Json.Str(e, "reason") == reason &&
            Json.ParseTime(Json.Str(e, "lastTimestamp")) is { } last && Now - last < window);
    }

    public string NextServiceIp()
    {
        var n = Interlocked.Increment(ref _serviceIpCounter);
        return string.Create(CultureInfo.InvariantCulture, $"10.96.{n / 250 % 250}.{n % 250 + 1}");
    }
}
