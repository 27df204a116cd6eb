using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>The autoscaling/v1 Scale subresource of deployments, replicasets and statefulsets.</summary>
internal static class Scale
{
    public static JsonObject Get(ResourceType type, JsonObject parent)
    {
        var selector = LabelSelectorText(Json.At(parent, "spec", "selector"));
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = Json.Name(parent),
                ["namespace"] = Json.Namespace(parent),
                ["uid"] = Json.Uid(parent),
                ["resourceVersion"] = Json.Str(parent, "metadata", "resourceVersion"),
                ["creationTimestamp"] = Json.Str(parent, "metadata", "creationTimestamp"),
            },
            ["spec"] = new JsonObject { ["replicas"] = Json.Long(parent, "spec", "replicas") ?? 0 },
            ["status"] = new JsonObject { ["replicas"] = Json.Long(parent, "status", "replicas") ?? 0, ["selector"] = selector },
        };
    }

    public static JsonObject Update(SimulatedApi api, ResourceType type, string? ns, string name, JsonObject scale, bool dryRun)
    {
        var parent = api.Get(type, ns, name);
        var replicas = Json.Long(scale, "spec", "replicas") ?? throw KubeApiException.Invalid(type, name, "spec.replicas: Required value");
        if (replicas < 0)
        {
            throw KubeApiException.Invalid(type, name, $"spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0");
        }

        Json.Obj(parent, "spec")["replicas"] = replicas;
        if (Json.Str(scale, "metadata", "resourceVersion") is { Length: > 0 } rv)
        {
            Json.Meta(parent)["resourceVersion"] = rv;
        }

        var updated = api.Replace(type, ns, name, parent, dryRun);
        return Get(type, updated);
    }

    public static JsonObject Patch(SimulatedApi api, ResourceType type, string? ns, string name, string contentType, string body, bool dryRun)
    {
        var current = Get(type, api.Get(type, ns, name));
        var patched = SimulatedApi.ApplyPatch(current, contentType, body) as JsonObject ?? throw KubeApiException.BadRequest("the patch did not produce an object");
        return Update(api, type, ns, name, patched, dryRun);
    }

    public static string LabelSelectorText(JsonNode? selector)
    {
        var parts = Json.StringMap(Json.At(selector, "matchLabels")).Select(kv => $"{kv.Key}={kv.Value}").ToList();
        foreach (var e in (Json.At(selector, "matchExpressions") as JsonArray ?? []).OfType<JsonObject>())
        {
            var values = string.Join(',', (e["values"] as JsonArray ?? []).Select(v => Json.Str(v)));
            parts.Add(Json.Str(e, "operator") switch
            {
                "In" => $"{Json.Str(e, "key")} in ({values})",
                "NotIn" => $"{Json.Str(e, "key")} notin ({values})",
                "Exists" => Json.Str(e, "key")!,
                _ => $"!{Json.Str(e, "key")}",
            });
        }

        return string.Join(',', parts);
    }
}
