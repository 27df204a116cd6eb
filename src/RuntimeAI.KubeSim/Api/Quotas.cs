using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>ResourceQuota admission and usage: object counts and the cpu/memory requests and limits of pods.</summary>
internal static class Quotas
{
    /// <summary>Rejects a create or update with 403 "exceeded quota" when it would push usage past a hard limit.</summary>
    public static void Admit(SimulatedApi api, ResourceType type, JsonObject obj, JsonObject? current)
    {
        if (type == ResourceCatalog.ResourceQuotas || type == ResourceCatalog.Events)
        {
            return;
        }

        var ns = Json.Namespace(obj);
        foreach (var quota in api.Store.List(ResourceCatalog.ResourceQuotas, ns))
        {
            var hard = Json.StringMap(Json.At(quota, "spec", "hard"));
            var exceeded = new List<(string Key, decimal Requested, decimal Used, decimal Limit)>();
            foreach (var (key, limitText) in hard)
            {
                if (!TypesFor(api, key).Contains(type))
                {
                    continue;
                }

                if (type == ResourceCatalog.Pods && current is null && (key.StartsWith("requests.", StringComparison.Ordinal) || key.StartsWith("limits.", StringComparison.Ordinal)) && key != "requests.storage")
                {
                    var (section, resource) = (key.Split('.')[0], key.Split('.')[1]);
                    var missing = Containers(obj)
                        .Where(c => Json.At(c, "resources", section, resource) is null && (section == "limits" || Json.At(c, "resources", "limits", resource) is null))
                        .Select(c => Json.Str(c, "name")).ToList();
                    if (missing.Count > 0)
                    {
                        throw new KubeApiException(403, "Forbidden", $"pods \"{Json.Name(obj)}\" is forbidden: failed quota: {Json.Name(quota)}: must specify {key} for: {string.Join(',', missing)}");
                    }
                }

                var requested = Contribution(type, obj, key) - (current is null ? 0 : Contribution(type, current, key));
                if (requested <= 0)
                {
                    continue;
                }

                var used = Usage(api, ns, key, Json.Name(obj), type);
                var limit = Quantity.Parse(limitText);
                if (used + requested > limit)
                {
                    exceeded.Add((key, requested, used, limit));
                }
            }

            if (exceeded.Count > 0)
            {
                string Fmt(Func<(string Key, decimal Requested, decimal Used, decimal Limit), decimal> pick) =>
                    string.Join(',', exceeded.Select(e => $"{e.Key}={Format(e.Key, pick(e))}"));
                throw new KubeApiException(403, "Forbidden",
                    $"{type.Resource} \"{Json.Name(obj)}\" is forbidden: exceeded quota: {Json.Name(quota)}, requested: {Fmt(e => e.Requested)}, used: {Fmt(e => e.Used)}, limited: {Fmt(e => e.Limit)}",
                    new JsonObject { ["name"] = Json.Name(obj), ["kind"] = type.Resource });
            }
        }
    }

    /// <summary>Current usage of every key in the quota's hard list, for its status.</summary>
    public static JsonObject Used(SimulatedApi api, JsonObject quota)
    {
        var used = new JsonObject();
        foreach (var (key, _) in Json.StringMap(Json.At(quota, "spec", "hard")))
        {
            used[key] = Format(key, Usage(api, Json.Namespace(quota), key, null, null));
        }

        return used;
    }

    private static string Format(string key, decimal value) =>
        key.EndsWith("memory", StringComparison.Ordinal) || key.EndsWith("storage", StringComparison.Ordinal)
            ? (value == 0 ? "0" : Quantity.Memory(value))
            : key.EndsWith("cpu", StringComparison.Ordinal) ? Quantity.Cpu(value) : Quantity.Plain(value);

    private static decimal Usage(SimulatedApi api, string? ns, string key, string? excludeName, ResourceType? excludeType)
    {
        decimal total = 0;
        foreach (var type in TypesFor(api, key))
        {
            foreach (var o in api.Store.ListShared(type, ns))
            {
                if (excludeType == type && Json.Name(o) == excludeName)
                {
                    continue;
                }

                total += Contribution(type, o, key);
            }
        }

        return total;
    }

    private static IEnumerable<ResourceType> TypesFor(SimulatedApi api, string key)
    {
        if (key is "pods" or "count/pods" or "cpu" or "memory" || key.StartsWith("requests.", StringComparison.Ordinal) || key.StartsWith("limits.", StringComparison.Ordinal))
        {
            yield return key == "requests.storage" ? ResourceCatalog.PersistentVolumeClaims : ResourceCatalog.Pods;
            yield break;
        }

        var resource = key.StartsWith("count/", StringComparison.Ordinal) ? key[6..] : key;
        var dot = resource.IndexOf('.', StringComparison.Ordinal);
        var group = dot < 0 ? string.Empty : resource[(dot + 1)..];
        var plural = dot < 0 ? resource : resource[..dot];
        if (api.Catalog.All.FirstOrDefault(t => t.Resource == plural && t.Group == group) is { } match)
        {
            yield return match;
        }
    }

    private static decimal Contribution(ResourceType type, JsonObject obj, string key)
    {
        if (type == ResourceCatalog.Pods && Json.Str(obj, "status", "phase") is "Succeeded" or "Failed")
        {
            return 0;
        }

        if (key == "requests.storage")
        {
            return type == ResourceCatalog.PersistentVolumeClaims ? Quantity.Parse(Json.Str(obj, "spec", "resources", "requests", "storage")) : 0;
        }

        if (type == ResourceCatalog.Pods && (key is "cpu" or "memory" || key.StartsWith("requests.", StringComparison.Ordinal) || key.StartsWith("limits.", StringComparison.Ordinal)))
        {
            var (section, resource) = key.Contains('.', StringComparison.Ordinal) ? (key.Split('.')[0], key.Split('.')[1]) : ("requests", key);
            return Containers(obj).Sum(c =>
                Quantity.Parse(Json.Str(c, "resources", section, resource) ?? (section == "requests" ? Json.Str(c, "resources", "limits", resource) : null)));
        }

        if (key.StartsWith("requests.", StringComparison.Ordinal) || key.StartsWith("limits.", StringComparison.Ordinal) || key is "cpu" or "memory")
        {
            return 0;
        }

        return 1;
    }

    public static IEnumerable<JsonObject> Containers(JsonObject pod) =>
        (Json.At(pod, "spec", "containers") as JsonArray ?? []).OfType<JsonObject>();
}
