using System.Text.Json;

namespace RuntimeAI.Core.Graph;

/// <summary>What one edge of the graph means. An edge points from the dependent to what it depends on.</summary>
public enum EdgeKind
{
    /// <summary>The object is owned (<c>ownerReferences</c>) by the target: it goes when the owner goes.</summary>
    Owner,

    /// <summary>A Service selects the target pod: the Service is down when its pods are.</summary>
    Selects,

    /// <summary>The object mounts the target PersistentVolumeClaim.</summary>
    Volume,

    /// <summary>The object reads the target ConfigMap (env, envFrom, volume).</summary>
    ConfigMap,

    /// <summary>The object reads the target Secret (env, envFrom, volume, image pull secret).</summary>
    Secret,

    /// <summary>The pod runs on the target node.</summary>
    Node,

    /// <summary>A runtime depends on the target runtime (label <c>runtimeai.io/depends-on</c>).</summary>
    DependsOn,

    /// <summary>The host pod is the copy a vcluster synced of the target pod inside it.</summary>
    SyncedFrom,

    /// <summary>The object lives inside the target runtime (a vcluster): it goes down when the runtime stops.</summary>
    RunsIn,
}

/// <summary>A typed reference from one object to another of the same namespace (or a node).</summary>
/// <param name="Edge">What the reference means.</param>
/// <param name="Key">The target's graph key.</param>
public readonly record struct GraphRef(EdgeKind Edge, string Key);

/// <summary>
/// One object of a watched cluster, reduced to what the graph needs: identity, labels, owners,
/// selectors, references and the few fields a "what changed" answer names. Never the whole object
/// (a Secret's data, a ConfigMap's values and annotations are not kept).
/// </summary>
public sealed class GraphObject
{
    /// <summary>Lower-case kind, e.g. <c>pod</c>, <c>deployment</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Namespace; null for cluster-scoped objects.</summary>
    public string? Namespace { get; init; }

    /// <summary>Name.</summary>
    public required string Name { get; init; }

    /// <summary>UID (owner references point at it).</summary>
    public required string Uid { get; init; }

    /// <summary>The object's resourceVersion.</summary>
    public required string ResourceVersion { get; init; }

    /// <summary><c>metadata.generation</c> (moves when the spec changes).</summary>
    public long Generation { get; init; }

    /// <summary>Labels as pairs.</summary>
    public KeyValuePair<string, string>[] Labels { get; init; } = [];

    /// <summary>UIDs of the owners.</summary>
    public string[] Owners { get; init; } = [];

    /// <summary>A Service's selector, or a workload's <c>matchLabels</c>; empty for other kinds.</summary>
    public KeyValuePair<string, string>[] Selector { get; init; } = [];

    /// <summary>ConfigMaps, Secrets, claims and the node the object (or its pod template) refers to.</summary>
    public GraphRef[] Refs { get; init; } = [];

    /// <summary>Container images (pods and pod templates), in order.</summary>
    public string[] Images { get; init; } = [];

    /// <summary>Desired replicas of a workload.</summary>
    public int? Replicas { get; init; }

    /// <summary>A PodDisruptionBudget's <c>status.disruptionsAllowed</c>: how many of its pods may be evicted now.</summary>
    public int? DisruptionsAllowed { get; init; }

    /// <summary>Phase or state: pod phase, node readiness, claim phase.</summary>
    public string? Phase { get; init; }

    /// <summary>The graph key: <c>kind/namespace/name</c> or <c>kind/name</c>.</summary>
    public string Key => KeyOf(Kind, Namespace, Name);

    /// <summary>The graph key of an object.</summary>
    public static string KeyOf(string kind, string? ns, string name) =>
        string.IsNullOrEmpty(ns) ? $"{kind}/{name}" : $"{kind}/{ns}/{name}";

    /// <summary>The value of a label, or null.</summary>
    public string? Label(string name)
    {
        foreach (var pair in Labels)
        {
            if (pair.Key == name)
            {
                return pair.Value;
            }
        }

        return null;
    }

    /// <summary>Whether the labels satisfy every pair of <paramref name="selector"/> (an empty selector matches nothing).</summary>
    public bool MatchedBy(KeyValuePair<string, string>[] selector)
    {
        if (selector.Length == 0)
        {
            return false;
        }

        foreach (var pair in selector)
        {
            if (Label(pair.Key) != pair.Value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reduces an API object to its graph form. <paramref name="kind"/> is the lower-case Kind
    /// (the API leaves <c>kind</c> out of list items). Strings are interned through <paramref name="pool"/>.
    /// </summary>
    public static GraphObject? FromJson(JsonElement obj, string kind, StringPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty("metadata", out var meta) || Str(meta, "name") is not { } name)
        {
            return null;
        }

        var ns = Str(meta, "namespace") is { Length: > 0 } n ? pool.Intern(n) : null;
        var spec = obj.TryGetProperty("spec", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var refs = new List<GraphRef>();
        var images = new List<string>();
        var selector = Array.Empty<KeyValuePair<string, string>>();
        int? replicas = null;
        int? allowed = null;
        string? phase = null;
        switch (kind)
        {
            case "pod":
                ReadPodSpec(spec, ns, refs, images, pool);
                if (spec.ValueKind == JsonValueKind.Object && Str(spec, "nodeName") is { Length: > 0 } node)
                {
                    refs.Add(new GraphRef(EdgeKind.Node, pool.Intern(KeyOf("node", null, node))));
                }

                phase = obj.TryGetProperty("status", out var podStatus) ? Str(podStatus, "phase") : null;
                break;
            case "deployment" or "replicaset" or "statefulset" or "daemonset" or "job":
                if (spec.ValueKind == JsonValueKind.Object)
                {
                    replicas = spec.TryGetProperty("replicas", out var r) && r.TryGetInt32(out var count) ? count : null;
                    selector = spec.TryGetProperty("selector", out var sel) && sel.TryGetProperty("matchLabels", out var match) ? Pairs(match, pool) : [];
                    if (spec.TryGetProperty("template", out var template) && template.TryGetProperty("spec", out var podSpec))
                    {
                        ReadPodSpec(podSpec, ns, refs, images, pool);
                    }
                }

                break;
            case "service":
                selector = spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("selector", out var svcSel) ? Pairs(svcSel, pool) : [];
                phase = spec.ValueKind == JsonValueKind.Object ? Str(spec, "type") : null;
                break;
            case "poddisruptionbudget":
                selector = spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("selector", out var pdbSel) && pdbSel.TryGetProperty("matchLabels", out var pdbMatch) ? Pairs(pdbMatch, pool) : [];
                allowed = obj.TryGetProperty("status", out var pdbStatus) && pdbStatus.ValueKind == JsonValueKind.Object
                          && pdbStatus.TryGetProperty("disruptionsAllowed", out var a) && a.TryGetInt32(out var canDisrupt) ? canDisrupt : null;
                break;
            case "node":
                phase = NodeReady(obj);
                break;
            case "persistentvolumeclaim":
                phase = obj.TryGetProperty("status", out var claimStatus) ? Str(claimStatus, "phase") : null;
                break;
        }

        return new GraphObject
        {
            Kind = kind,
            Namespace = ns,
            Name = name,
            Uid = Str(meta, "uid") ?? $"{kind}/{ns}/{name}",
            ResourceVersion = Str(meta, "resourceVersion") ?? "0",
            Generation = meta.TryGetProperty("generation", out var g) && g.TryGetInt64(out var gen) ? gen : 0,
            Labels = meta.TryGetProperty("labels", out var labels) ? Pairs(labels, pool) : [],
            Owners = meta.TryGetProperty("ownerReferences", out var owners) && owners.ValueKind == JsonValueKind.Array
                ? owners.EnumerateArray().Select(o => Str(o, "uid")).OfType<string>().ToArray()
                : [],
            Selector = selector,
            Refs = refs.Distinct().ToArray(),
            Images = images.ToArray(),
            Replicas = replicas,
            DisruptionsAllowed = allowed,
            Phase = phase is null ? null : pool.Intern(phase),
        };
    }

    private static void ReadPodSpec(JsonElement spec, string? ns, List<GraphRef> refs, List<string> images, StringPool pool)
    {
        if (spec.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        void Add(EdgeKind edge, string kind, string? name)
        {
            if (!string.IsNullOrEmpty(name))
            {
                refs.Add(new GraphRef(edge, pool.Intern(KeyOf(kind, ns, name))));
            }
        }

        if (spec.TryGetProperty("volumes", out var volumes) && volumes.ValueKind == JsonValueKind.Array)
        {
            foreach (var v in volumes.EnumerateArray())
            {
                if (v.TryGetProperty("persistentVolumeClaim", out var pvc))
                {
                    Add(EdgeKind.Volume, "persistentvolumeclaim", Str(pvc, "claimName"));
                }

                if (v.TryGetProperty("configMap", out var cm))
                {
                    Add(EdgeKind.ConfigMap, "configmap", Str(cm, "name"));
                }

                if (v.TryGetProperty("secret", out var secret))
                {
                    Add(EdgeKind.Secret, "secret", Str(secret, "secretName"));
                }

                if (v.TryGetProperty("projected", out var projected) && projected.TryGetProperty("sources", out var sources) && sources.ValueKind == JsonValueKind.Array)
                {
                    foreach (var source in sources.EnumerateArray())
                    {
                        if (source.TryGetProperty("configMap", out var pcm))
                        {
                            Add(EdgeKind.ConfigMap, "configmap", Str(pcm, "name"));
                        }

                        if (source.TryGetProperty("secret", out var ps))
                        {
                            Add(EdgeKind.Secret, "secret", Str(ps, "name"));
                        }
                    }
                }
            }
        }

        if (spec.TryGetProperty("imagePullSecrets", out var pulls) && pulls.ValueKind == JsonValueKind.Array)
        {
            foreach (var p in pulls.EnumerateArray())
            {
                Add(EdgeKind.Secret, "secret", Str(p, "name"));
            }
        }

        foreach (var list in (ReadOnlySpan<string>)["initContainers", "containers"])
        {
            if (!spec.TryGetProperty(list, out var containers) || containers.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var c in containers.EnumerateArray())
            {
                if (list == "containers" && Str(c, "image") is { } image)
                {
                    images.Add(pool.Intern(image));
                }

                if (c.TryGetProperty("envFrom", out var envFrom) && envFrom.ValueKind == JsonValueKind.Array)
                {
                    foreach (var e in envFrom.EnumerateArray())
                    {
                        if (e.TryGetProperty("configMapRef", out var cmr))
                        {
                            Add(EdgeKind.ConfigMap, "configmap", Str(cmr, "name"));
                        }

                        if (e.TryGetProperty("secretRef", out var sr))
                        {
                            Add(EdgeKind.Secret, "secret", Str(sr, "name"));
                        }
                    }
                }

                if (c.TryGetProperty("env", out var env) && env.ValueKind == JsonValueKind.Array)
                {
                    foreach (var e in env.EnumerateArray())
                    {
                        if (e.TryGetProperty("valueFrom", out var from))
                        {
                            if (from.TryGetProperty("configMapKeyRef", out var cmk))
                            {
                                Add(EdgeKind.ConfigMap, "configmap", Str(cmk, "name"));
                            }

                            if (from.TryGetProperty("secretKeyRef", out var sk))
                            {
                                Add(EdgeKind.Secret, "secret", Str(sk, "name"));
                            }
                        }
                    }
                }
            }
        }
    }

    private static string? NodeReady(JsonElement obj)
    {
        if (obj.TryGetProperty("status", out var status) && status.TryGetProperty("conditions", out var conditions) && conditions.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in conditions.EnumerateArray())
            {
                if (Str(c, "type") == "Ready")
                {
                    return Str(c, "status") == "True" ? "Ready" : "NotReady";
                }
            }
        }

        return null;
    }

    private static KeyValuePair<string, string>[] Pairs(JsonElement map, StringPool pool)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var p in map.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.String)
            {
                pairs.Add(new(pool.Intern(p.Name), pool.Intern(p.Value.GetString()!)));
            }
        }

        return pairs.ToArray();
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>Interns the strings many objects share (label keys and values, images, namespaces) to bound memory.</summary>
public sealed class StringPool
{
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The pooled copy of <paramref name="value"/>.</summary>
    public string Intern(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_lock)
        {
            if (_strings.TryGetValue(value, out var pooled))
            {
                return pooled;
            }

            // Unique strings (pod names, UIDs) would only grow the pool: keep it bounded.
            if (_strings.Count < 200_000)
            {
                _strings[value] = value;
            }

            return value;
        }
    }
}
