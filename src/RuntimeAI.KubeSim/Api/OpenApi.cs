using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>
/// A deliberately thin OpenAPI v3 document: one path per resource with the PATCH operation, its group-version-kind
/// extension and the <c>fieldValidation</c> parameter. That is what kubectl reads to decide that the server validates
/// fields itself (so it skips client-side schema validation) and which patch types a kind accepts. There are no schemas.
/// </summary>
internal static class OpenApi
{
    public static JsonObject Index(ResourceCatalog catalog)
    {
        var paths = new JsonObject { ["api/v1"] = Entry("api/v1") };
        foreach (var (group, version) in catalog.GroupVersions())
        {
            paths[$"apis/{group}/{version}"] = Entry($"apis/{group}/{version}");
        }

        return new JsonObject { ["paths"] = paths };

        static JsonObject Entry(string path) => new() { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash=kubesim" };
    }

    public static JsonObject? GroupVersion(ResourceCatalog catalog, string gvPath)
    {
        var (group, version) = gvPath == "api/v1" ? (string.Empty, "v1") :
            gvPath.StartsWith("apis/", StringComparison.Ordinal) && gvPath.Split('/') is { Length: 3 } parts ? (parts[1], parts[2]) : (null!, null!);
        if (version is null)
        {
            return null;
        }

        var types = catalog.All.Where(t => t.Group == group && t.Version == version && !t.ReadOnly && !t.Review).ToList();
        if (types.Count == 0 && !catalog.GroupVersions().Contains((group, version)))
        {
            return null;
        }

        var paths = new JsonObject();
        foreach (var t in types)
        {
            var prefix = group.Length == 0 ? "/api/v1" : $"/apis/{group}/{version}";
            var path = t.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{t.Resource}/{{name}}" : $"{prefix}/{t.Resource}/{{name}}";
            var content = new JsonObject
            {
                ["application/json-patch+json"] = new JsonObject(),
                ["application/merge-patch+json"] = new JsonObject(),
                ["application/apply-patch+yaml"] = new JsonObject(),
            };
            if (!t.Group.Contains('.', StringComparison.Ordinal) || t.Group.EndsWith(".k8s.io", StringComparison.Ordinal))
            {
                content["application/strategic-merge-patch+json"] = new JsonObject();
            }

            paths[path] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["operationId"] = $"patch{t.Kind}",
                    ["x-kubernetes-action"] = "patch",
                    ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = t.Kind },
                    ["parameters"] = new JsonArray(
                        Param("dryRun"), Param("fieldManager"), Param("fieldValidation"), Param("force")),
                    ["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true },
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                },
            };
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes (KubeSim, a simulator)", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() },
        };

        static JsonObject Param(string name) => new()
        {
            ["name"] = name,
            ["in"] = "query",
            ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
        };
    }
}
