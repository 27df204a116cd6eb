using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Patching;

/// <summary>JSON merge patch (RFC 7386): objects merge, null deletes, everything else replaces.</summary>
internal static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Apply(result[key], value);
            }
        }

        return result;
    }
}

/// <summary>JSON patch (RFC 6902): add, remove, replace, move, copy and test with JSON pointers.</summary>
internal static class JsonPatch
{
    public static JsonNode? Apply(JsonNode? target, JsonArray operations)
    {
        var doc = target?.DeepClone();
        foreach (var op in operations.OfType<JsonObject>())
        {
            var kind = Json.Str(op, "op");
            var path = Json.Str(op, "path") ?? throw KubeApiException.BadRequest("json patch operation without path");
            switch (kind)
            {
                case "add":
                    doc = Add(doc, path, op["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(doc, path);
                    break;
                case "replace":
                    if (Get(doc, path) is null && !Exists(doc, path))
                    {
                        throw Unprocessable($"replace operation does not apply: doc is missing key: {path}");
                    }

                    Remove(doc, path);
                    doc = Add(doc, path, op["value"]?.DeepClone());
                    break;
                case "move":
                    {
                        var from = Json.Str(op, "from") ?? throw KubeApiException.BadRequest("move without from");
                        var value = Get(doc, from)?.DeepClone();
                        Remove(doc, from);
                        doc = Add(doc, path, value);
                        break;
                    }

                case "copy":
                    {
                        var from = Json.Str(op, "from") ?? throw KubeApiException.BadRequest("copy without from");
                        doc = Add(doc, path, Get(doc, from)?.DeepClone());
                        break;
                    }

                case "test":
                    if (!JsonNode.DeepEquals(Get(doc, path), op["value"]))
                    {
                        throw Unprocessable($"testing value {path} failed");
                    }

                    break;
                default:
                    throw KubeApiException.BadRequest($"unexpected json patch operation \"{kind}\"");
            }
        }

        return doc;
    }

    private static KubeApiException Unprocessable(string message) => new(422, "Invalid", message);

    private static string[] Tokens(string pointer) => pointer.Length == 0
        ? []
        : pointer.TrimStart('/').Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();

    private static bool Exists(JsonNode? doc, string pointer)
    {
        var tokens = Tokens(pointer);
        if (tokens.Length == 0)
        {
            return true;
        }

        var parent = Navigate(doc, tokens[..^1]);
        return parent switch
        {
            JsonObject o => o.ContainsKey(tokens[^1]),
            JsonArray a => int.TryParse(tokens[^1], CultureInfo.InvariantCulture, out var i) && i >= 0 && i < a.Count,
            _ => false,
        };
    }

    private static JsonNode? Get(JsonNode? doc, string pointer) => Navigate(doc, Tokens(pointer));

    private static JsonNode? Navigate(JsonNode? node, IEnumerable<string> tokens)
    {
        foreach (var t in tokens)
        {
            node = node switch
            {
                JsonObject o => o[t],
                JsonArray a when int.TryParse(t, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < a.Count => a[i],
                _ => throw Unprocessable($"path does not exist: /{string.Join('/', tokens)}"),
            };
        }

        return node;
    }

    private static JsonNode? Add(JsonNode? doc, string pointer, JsonNode? value)
    {
        var tokens = Tokens(pointer);
        if (tokens.Length == 0)
        {
            return value;
        }

        switch (Navigate(doc, tokens[..^1]))
        {
            case JsonObject o:
                o[tokens[^1]] = value;
                break;
            case JsonArray a:
                if (tokens[^1] == "-")
                {
                    a.Add(value);
                }
                else if (int.TryParse(tokens[^1], CultureInfo.InvariantCulture, out var i) && i >= 0 && i <= a.Count)
                {
                    a.Insert(i, value);
                }
                else
                {
                    throw Unprocessable($"add operation index out of bounds: {pointer}");
                }

                break;
            default:
                throw Unprocessable($"add operation does not apply: doc is missing path: {pointer}");
        }

        return doc;
    }

    private static void Remove(JsonNode? doc, string pointer)
    {
        var tokens = Tokens(pointer);
        switch (Navigate(doc, tokens[..^1]))
        {
            case JsonObject o when o.ContainsKey(tokens[^1]):
                o.Remove(tokens[^1]);
                break;
            case JsonArray a when int.TryParse(tokens[^1], CultureInfo.InvariantCulture, out var i) && i >= 0 && i < a.Count:
                a.RemoveAt(i);
                break;
            default:
                throw Unprocessable($"remove operation does not apply: doc is missing path: {pointer}");
        }
    }
}

/// <summary>
/// Strategic merge patch for the lists that matter to our clients: lists of objects with a known merge key
/// (containers, volumes, env, ports, conditions...) merge by that key, other lists replace; the
/// <c>$patch</c>, <c>$setElementOrder</c>, <c>$retainKeys</c> and <c>$deleteFromPrimitiveList</c> directives are honoured.
/// </summary>
internal static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> s_mergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name", ["initContainers"] = "name", ["ephemeralContainers"] = "name", ["volumes"] = "name",
        ["env"] = "name", ["volumeMounts"] = "mountPath", ["volumeDevices"] = "devicePath", ["imagePullSecrets"] = "name",
        ["conditions"] = "type", ["ownerReferences"] = "uid", ["hostAliases"] = "ip", ["topologySpreadConstraints"] = "topologyKey",
        ["disks"] = "name", ["interfaces"] = "name", ["networks"] = "name", ["secrets"] = "name", ["readinessGates"] = "conditionType",
        ["resourceClaims"] = "name",
    };

    private static readonly HashSet<string> s_mergedPrimitiveLists = new(StringComparer.Ordinal) { "finalizers" };

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch) => Merge(target, patch);

    private static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        if (Json.Str(p, "$patch") == "replace")
        {
            var replaced = (JsonObject)p.DeepClone();
            replaced.Remove("$patch");
            return replaced;
        }

        if (Json.Str(p, "$patch") == "delete")
        {
            return null;
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key == "$retainKeys" || key == "$patch")
            {
                continue;
            }

            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray existing && value is JsonArray remove)
                {
                    foreach (var r in remove)
                    {
                        foreach (var item in existing.Where(i => JsonNode.DeepEquals(i, r)).ToList())
                        {
                            existing.Remove(item);
                        }
                    }
                }

                continue;
            }

            if (value is null)
            {
                result.Remove(key);
                continue;
            }

            if (value is JsonArray patchList)
            {
                result[key] = MergeList(key, result[key] as JsonArray, patchList);
                continue;
            }

            var merged = Merge(result[key], value);
            if (merged is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = merged;
            }
        }

        if (p["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(k => Json.Str(k)).ToHashSet();
            foreach (var k in result.Select(kv => kv.Key).Where(k => !keep.Contains(k)).ToList())
            {
                result.Remove(k);
            }
        }

        return result;
    }

    private static JsonArray MergeList(string field, JsonArray? current, JsonArray patch)
    {
        if (s_mergedPrimitiveLists.Contains(field))
        {
            var merged = current is null ? new JsonArray() : (JsonArray)current.DeepClone();
            foreach (var item in patch.Where(i => !merged.Any(m => JsonNode.DeepEquals(m, i))))
            {
                merged.Add(item?.DeepClone());
            }

            return merged;
        }

        var mergeKey = MergeKey(field, patch, current);
        if (mergeKey is null || patch.Any(i => i is not JsonObject))
        {
            return (JsonArray)patch.DeepClone();
        }

        if (patch.OfType<JsonObject>().Any(i => Json.Str(i, "$patch") == "replace"))
        {
            return new JsonArray(patch.OfType<JsonObject>().Where(i => Json.Str(i, "$patch") != "replace").Select(i => (JsonNode)i.DeepClone()).ToArray());
        }

        var result = current is null ? new JsonArray() : (JsonArray)current.DeepClone();
        foreach (var item in patch.OfType<JsonObject>())
        {
            var keyValue = item[mergeKey]?.ToJsonString();
            var existing = result.OfType<JsonObject>().FirstOrDefault(e => e[mergeKey]?.ToJsonString() == keyValue);
            if (Json.Str(item, "$patch") == "delete")
            {
                if (existing is not null)
                {
                    result.Remove(existing);
                }

                continue;
            }

            if (existing is null)
            {
                result.Add(Merge(null, item));
            }
            else
            {
                var index = result.IndexOf(existing);
                result[index] = Merge(existing, item);
            }
        }

        return result;
    }

    private static string? MergeKey(string field, JsonArray patch, JsonArray? current)
    {
        if (field == "ports")
        {
            var sample = patch.OfType<JsonObject>().FirstOrDefault() ?? current?.OfType<JsonObject>().FirstOrDefault();
            return sample?.ContainsKey("containerPort") == true ? "containerPort" : "port";
        }

        return s_mergeKeys.GetValueOrDefault(field);
    }
}
