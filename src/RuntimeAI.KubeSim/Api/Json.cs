using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>Small accessors for <see cref="JsonNode"/> trees; objects stay untyped so unknown fields survive.</summary>
internal static class Json
{
    public static string? Str(JsonNode? node, params string[] path)
    {
        var n = At(node, path);
        return n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : n?.ToJsonString();
    }

    public static JsonNode? At(JsonNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(key, out node))
            {
                return null;
            }
        }

        return node;
    }

    public static long? Long(JsonNode? node, params string[] path)
    {
        var n = At(node, path);
        if (n is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number)
            {
                // Values built in code hold int/long/double, parsed ones a JsonElement: the text form is uniform.
                var text = v.ToJsonString();
                return long.TryParse(text, CultureInfo.InvariantCulture, out var l) ? l
                    : double.TryParse(text, CultureInfo.InvariantCulture, out var d) ? (long)d : null;
            }

            if (v.GetValueKind() == JsonValueKind.String && long.TryParse(v.GetValue<string>(), CultureInfo.InvariantCulture, out var s))
            {
                return s;
            }
        }

        return null;
    }

    public static bool? Bool(JsonNode? node, params string[] path) =>
        At(node, path) is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    /// <summary>Gets or creates the object at <paramref name="key"/>.</summary>
    public static JsonObject Obj(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[key] = created;
        return created;
    }

    public static JsonArray Arr(JsonObject parent, string key)
    {
        if (parent[key] is JsonArray existing)
        {
            return existing;
        }

        var created = new JsonArray();
        parent[key] = created;
        return created;
    }

    public static JsonObject Meta(JsonObject obj) => Obj(obj, "metadata");

    public static string Name(JsonObject obj) => Str(obj, "metadata", "name") ?? string.Empty;

    public static string? Namespace(JsonObject obj) => Str(obj, "metadata", "namespace");

    public static string? Uid(JsonObject obj) => Str(obj, "metadata", "uid");

    public static Dictionary<string, string> Labels(JsonObject obj) => StringMap(At(obj, "metadata", "labels"));

    public static Dictionary<string, string> StringMap(JsonNode? node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o)
            {
                result[k] = v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String ? jv.GetValue<string>() : v?.ToJsonString() ?? string.Empty;
            }
        }

        return result;
    }

    public static JsonObject ToObject(IEnumerable<KeyValuePair<string, string>> map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map)
        {
            o[k] = v;
        }

        return o;
    }

    public static JsonObject Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw KubeApiException.BadRequest("the request body must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw KubeApiException.BadRequest($"invalid JSON: {ex.Message}");
        }
    }

    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(string? s) =>
        s is not null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;

    public static JsonArray Array(params JsonNode?[] items) => new(items);

    /// <summary>Adds or replaces the condition of the given type; transition time changes only when status changes.</summary>
    public static void SetCondition(JsonObject status, string type, string value, string? reason, string? message, DateTimeOffset now, bool probeTimes = false)
    {
        var conditions = Arr(status, "conditions");
        var stamp = Timestamp(now);
        foreach (var c in conditions.OfType<JsonObject>())
        {
            if (Str(c, "type") == type)
            {
                if (Str(c, "status") != value)
                {
                    c["lastTransitionTime"] = stamp;
                }

                c["status"] = value;
                SetOrRemove(c, "reason", reason);
                SetOrRemove(c, "message", message);
                if (probeTimes)
                {
                    c["lastProbeTime"] = null;
                }

                return;
            }
        }

        var added = new JsonObject { ["type"] = type, ["status"] = value, ["lastTransitionTime"] = stamp };
        if (probeTimes)
        {
            added["lastProbeTime"] = null;
        }

        SetOrRemove(added, "reason", reason);
        SetOrRemove(added, "message", message);
        conditions.Add((JsonNode)added);
    }

    public static string? ConditionStatus(JsonNode? status, string type) =>
        (At(status, "conditions") as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Str(c, "type") == type) is { } c ? Str(c, "status") : null;

    private static void SetOrRemove(JsonObject o, string key, string? value)
    {
        if (value is null)
        {
            o.Remove(key);
        }
        else
        {
            o[key] = value;
        }
    }
}
