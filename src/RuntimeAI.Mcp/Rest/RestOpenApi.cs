using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RuntimeAI.Mcp.Rest;

/// <summary>Shapes the generated OpenAPI document like the brief's: paths relative to the <c>/v1</c> server, the brief's title and schema names.</summary>
internal static class RestOpenApi
{
    public static Task TransformDocumentAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "RuntimeAI Control Plane API",
            Version = Hosting.McpServerSetup.Version,
            Description = "The brief's REST API on the RuntimeAI engine: every mutation passes the same governance pipeline as the MCP tool of the same name. Differences from the brief: docs/api.md.",
        };
        document.Servers = [new OpenApiServer { Url = RestApi.Prefix }];
        var paths = new OpenApiPaths();
        foreach (var (path, item) in document.Paths)
        {
            paths.Add(path.StartsWith(RestApi.Prefix + "/", StringComparison.Ordinal) ? path[RestApi.Prefix.Length..] : path, item);
        }

        document.Paths = paths;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Query parameters bound as text (so a wrong value gets the firewall's clear error rather than a
    /// bare 400) are documented with their enum schema.
    /// </summary>
    public static Func<OpenApiOperation, OpenApiOperationTransformerContext, CancellationToken, Task> EnumParameters(params (string Name, Type Type)[] parameters) =>
        async (operation, context, cancellationToken) =>
        {
            foreach (var parameter in operation.Parameters ?? [])
            {
                if (parameter is OpenApiParameter concrete && parameters.FirstOrDefault(p => p.Name == concrete.Name) is { Type: { } type })
                {
                    concrete.Schema = await context.GetOrCreateSchemaAsync(type, null, cancellationToken).ConfigureAwait(false);
                }
            }
        };

    /// <summary>
    /// Documents a JSON request body. Handlers read bodies themselves (so a bad one gets a problem
    /// document in our words); Accepts metadata would also make routing refuse requests without a
    /// JSON Content-Type, which the brief's optional bodies must not.
    /// </summary>
    public static Func<OpenApiOperation, OpenApiOperationTransformerContext, CancellationToken, Task> Body<T>(bool required) =>
        async (operation, context, cancellationToken) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = required,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken).ConfigureAwait(false) },
                },
            };
        };

    /// <summary>The engine keeps networking and security settings as text; the API documents the brief's values for them.</summary>
    public static Task ProfileEnums(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        (string Property, string[] Values)[] enums = context.JsonTypeInfo.Type == typeof(RuntimeAI.Core.Runtimes.NetworkingProfile)
            ? [("exposure", ["private", "internal", "public"]), ("egress_policy", ["restricted", "open"])]
            : context.JsonTypeInfo.Type == typeof(RuntimeAI.Core.Runtimes.SecurityProfile)
                ? [("isolation", ["basic", "strong"])]
                : [];
        foreach (var (property, values) in enums)
        {
            if (schema.Properties?.TryGetValue(property, out var target) == true && target is OpenApiSchema concrete)
            {
                concrete.Enum = [.. values.Select(v => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(v))];
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The brief's schema names: the REST records drop their <c>Rest</c> prefix.</summary>
    public static string? SchemaId(JsonTypeInfo type)
    {
        var id = OpenApiOptions.CreateDefaultSchemaReferenceId(type);
        return id is { Length: > 4 } && id.StartsWith("Rest", StringComparison.Ordinal) && char.IsUpper(id[4]) ? id[4..] : id;
    }
}
