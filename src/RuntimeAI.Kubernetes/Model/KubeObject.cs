using System.Text.Json;
using System.Text.Json.Nodes;

namespace RuntimeAI.Kubernetes.Model;

/// <summary>
/// Any Kubernetes object. The JSON is kept whole in <see cref="Json"/> so fields this library does
/// not model survive a read-modify-write; the typed accessors read and write that same JSON.
/// </summary>
public sealed class KubeObject
{
    /// <summary>Wraps an object's JSON (not copied: edits through this wrapper change it).</summary>
    /// <param name="json">The object.</param>
    public KubeObject(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Json = json;
    }

    /// <summary>Creates an object with <c>apiVersion</c>, <c>kind</c> and <c>metadata.name</c> (and namespace).</summary>
    /// <param name="apiVersion">e.g. <c>v1</c> or <c>apps/v1</c>.</param>
    /// <param name="kind">e.g. <c>ConfigMap</c>.</param>
    /// <param name="name">The object name.</param>
    /// <param name="namespace">The namespace, or <see langword="null"/> for cluster-scoped objects.</param>
    /// <returns>The object.</returns>
    public static KubeObject Create(string apiVersion, string kind, string name, string? @namespace = null)
    {
        var obj = new KubeObject(new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind, ["metadata"] = new JsonObject() })
        {
            Name = name,
        };
        if (@namespace is not null)
        {
            obj.Namespace = @namespace;
        }

        return obj;
    }

    /// <summary>Parses an object from JSON text.</summary>
    /// <param name="json">The JSON.</param>
    /// <returns>The object.</returns>
    /// <exception cref="JsonException">The text is not a JSON object.</exception>
    public static KubeObject Parse(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new JsonException("A Kubernetes object must be a JSON object."));

    /// <summary>The whole object.</summary>
    public JsonObject Json { get; }

    /// <summary><c>apiVersion</c>.</summary>
    public string? ApiVersion
    {
        get => GetString(Json, "apiVersion");
        set => Json["apiVersion"] = value;
    }

    /// <summary><c>kind</c>.</summary>
    public string? Kind
    {
        get => GetString(Json, "kind");
        set => Json["kind"] = value;
    }

    /// <summary>The <c>metadata</c> object, created when absent.</summary>
    public JsonObject MetadataJson => Json["metadata"] as JsonObject ?? (JsonObject)(Json["metadata"] = new JsonObject());

    /// <summary>A typed snapshot of <c>metadata</c> (edits to it do not flow back; use the setters here).</summary>
    public ObjectMeta Metadata => MetadataJson.Deserialize(KubeJsonContext.Default.ObjectMeta) ?? new ObjectMeta();

    /// <summary><c>metadata.name</c>.</summary>
    public string? Name
    {
        get => GetString(Json["metadata"] as JsonObject, "name");
        set => MetadataJson["name"] = value;
    }

    /// <summary><c>metadata.namespace</c>.</summary>
    public string? Namespace
    {
        get => GetString(Json["metadata"] as JsonObject, "namespace");
        set => MetadataJson["namespace"] = value;
    }

    /// <summary><c>metadata.resourceVersion</c>; set it to make a replace conditional.</summary>
    public string? ResourceVersion
    {
        get => GetString(Json["metadata"] as JsonObject, "resourceVersion");
        set
        {
            if (value is null)
            {
                MetadataJson.Remove("resourceVersion");
            }
            else
            {
                MetadataJson["resourceVersion"] = value;
            }
        }
    }

    /// <summary><c>metadata.uid</c>.</summary>
    public string? Uid => GetString(Json["metadata"] as JsonObject, "uid");

    /// <summary><c>metadata.generation</c>.</summary>
    public long? Generation => (Json["metadata"] as JsonObject)?["generation"] is JsonValue v && v.TryGetValue<long>(out var g) ? g : null;

    /// <summary><c>metadata.labels</c> (a copy).</summary>
    public IReadOnlyDictionary<string, string> Labels => StringMap(Json["metadata"]?["labels"] as JsonObject);

    /// <summary><c>metadata.annotations</c> (a copy).</summary>
    public IReadOnlyDictionary<string, string> Annotations => StringMap(Json["metadata"]?["annotations"] as JsonObject);

    /// <summary>The <c>spec</c> object, or <see langword="null"/>.</summary>
    public JsonObject? Spec => Json["spec"] as JsonObject;

    /// <summary>The <c>status</c> object, or <see langword="null"/>.</summary>
    public JsonObject? Status => Json["status"] as JsonObject;

    /// <summary>Sets (or, with <see langword="null"/>, removes) a label.</summary>
    /// <param name="key">The label key.</param>
    /// <param name="value">The value.</param>
    public void SetLabel(string key, string? value) => SetMapEntry("labels", key, value);

    /// <summary>Sets (or, with <see langword="null"/>, removes) an annotation.</summary>
    /// <param name="key">The annotation key.</param>
    /// <param name="value">The value.</param>
    public void SetAnnotation(string key, string? value) => SetMapEntry("annotations", key, value);

    /// <summary>Reads a sub-tree as a typed record through the source-generated context.</summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <param name="node">The sub-tree (e.g. <see cref="Status"/>).</param>
    /// <param name="typeInfo">Its type info from <see cref="KubeJsonContext"/>.</param>
    /// <returns>The record, or <see langword="null"/> when the node is absent.</returns>
    public static T? Read<T>(JsonNode? node, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        node is null ? default : node.Deserialize(typeInfo);

    /// <summary>A deep copy.</summary>
    /// <returns>The copy.</returns>
    public KubeObject Clone() => new((JsonObject)Json.DeepClone());

    /// <summary>The JSON text.</summary>
    /// <returns>Compact JSON.</returns>
    public override string ToString() => Json.ToJsonString();

    internal static string? GetString(JsonObject? obj, string key) =>
        obj?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static Dictionary<string, string> StringMap(JsonObject? obj)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj is null)
        {
            return map;
        }

        foreach (var (k, v) in obj)
        {
            if (v is JsonValue value && value.TryGetValue<string>(out var s))
            {
                map[k] = s;
            }
        }

        return map;
    }

    private void SetMapEntry(string mapName, string key, string? value)
    {
        var map = MetadataJson[mapName] as JsonObject;
        if (value is null)
        {
            map?.Remove(key);
            return;
        }

        if (map is null)
        {
            map = [];
            MetadataJson[mapName] = map;
        }

        map[key] = value;
    }
}

/// <summary>One page of a list response: the items and where to continue.</summary>
/// <param name="Items">The objects; each carries <c>apiVersion</c> and <c>kind</c> even though the server omits them per item.</param>
/// <param name="ResourceVersion">The list's resourceVersion (start a watch from it).</param>
/// <param name="Continue">The token for the next page, or <see langword="null"/> on the last page.</param>
/// <param name="RemainingItemCount">The server's estimate of items after this page, when it sends one.</param>
public sealed record KubeList(IReadOnlyList<KubeObject> Items, string? ResourceVersion, string? Continue, long? RemainingItemCount);
