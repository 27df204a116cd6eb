using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Resources;

/// <summary>
/// Read-only MCP resources: the tool catalog (the action contract) and each runtime's record by
/// URI, so a client can attach them to a conversation without a tool call.
/// </summary>
internal static class RuntimeResources
{
    public const string CatalogUri = "runtimeai://catalog/tools";
    public const string RuntimeUriPrefix = "runtimeai://runtimes/";

    public static IMcpServerBuilder WithRuntimeAiResources(this IMcpServerBuilder builder) => builder
        .WithListResourcesHandler((_, _) => ValueTask.FromResult(new ListResourcesResult
        {
            Resources =
            [
                new Resource
                {
                    Uri = CatalogUri,
                    Name = "tool_catalog",
                    Title = "Tool catalog",
                    Description = "Index of every tool with its tier and risk (the action contract).",
                    MimeType = "application/json",
                },
            ],
        }))
        .WithListResourceTemplatesHandler((_, _) => ValueTask.FromResult(new ListResourceTemplatesResult
        {
            ResourceTemplates =
            [
                new ResourceTemplate
                {
                    UriTemplate = RuntimeUriPrefix + "{runtime_id}",
                    Name = "runtime",
                    Title = "Runtime record",
                    Description = "One runtime's record as JSON (same as get_runtime).",
                    MimeType = "application/json",
                },
            ],
        }))
        .WithReadResourceHandler(async (context, cancellationToken) =>
        {
            var uri = context.Params?.Uri ?? string.Empty;
            if (uri == CatalogUri)
            {
                return Text(uri, CatalogExporter.Render()["index.json"]);
            }

            if (uri.StartsWith(RuntimeUriPrefix, StringComparison.Ordinal))
            {
                var id = uri[RuntimeUriPrefix.Length..];
                var inventory = context.Services!.GetRequiredService<IRuntimeInventory>();
                var principal = context.Services!.GetRequiredService<Identity.PrincipalResolver>().Resolve(context.User);
                if (await inventory.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false) is { } runtime && principal.CanSee(runtime.TenantId))
                {
                    return Text(uri, JsonSerializer.Serialize(runtime, CoreJsonContext.Default.Runtime));
                }
            }

            throw new McpProtocolException(
                $"Resource '{uri}' does not exist; list resources, or use {RuntimeUriPrefix}<runtime_id> with an id from list_runtimes.",
                McpErrorCode.ResourceNotFound);
        });

    private static ReadResourceResult Text(string uri, string text) => new()
    {
        Contents = [new TextResourceContents { Uri = uri, MimeType = "application/json", Text = text }],
    };
}
