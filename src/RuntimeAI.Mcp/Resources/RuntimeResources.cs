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
    public const string RuntimeScheme = "runtime://";
    public const string OperationScheme = "operation://";

    /// <summary>What a runtime or operation URI names: (<c>runtime</c>|<c>operation</c>, id), or (null, null).</summary>
    public static (string? Kind, string Id) Parse(string uri) =>
        uri.StartsWith(RuntimeScheme, StringComparison.Ordinal) ? ("runtime", uri[RuntimeScheme.Length..])
        : uri.StartsWith(RuntimeUriPrefix, StringComparison.Ordinal) ? ("runtime", uri[RuntimeUriPrefix.Length..])
        : uri.StartsWith(OperationScheme, StringComparison.Ordinal) ? ("operation", uri[OperationScheme.Length..])
        : (null, string.Empty);

    public static IMcpServerBuilder WithRuntimeAiResources(this IMcpServerBuilder builder) => builder
        .WithSubscribeToResourcesHandler((context, cancellationToken) =>
            context.Services!.GetRequiredService<ResourceSubscriptions>().SubscribeAsync(context, cancellationToken))
        .WithUnsubscribeFromResourcesHandler((context, cancellationToken) =>
            context.Services!.GetRequiredService<ResourceSubscriptions>().UnsubscribeAsync(context, cancellationToken))
        .WithSubscriptionsListenHandler((context, cancellationToken) =>
            context.Services!.GetRequiredService<ResourceSubscriptions>().ListenAsync(context, cancellationToken))
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
                    UriTemplate = RuntimeScheme + "{runtime_id}",
                    Name = "runtime_record",
                    Title = "Runtime (subscribable)",
                    Description = "One runtime's record as JSON; subscribe for a notification whenever it or its events change.",
                    MimeType = "application/json",
                },
                new ResourceTemplate
                {
                    UriTemplate = OperationScheme + "{operation_id}",
                    Name = "operation",
                    Title = "Operation (subscribable)",
                    Description = "One operation as JSON (same as get_operation); subscribe to be told when its status changes, e.g. when it completes.",
                    MimeType = "application/json",
                },
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

            var (kind, id) = Parse(uri);
            if (kind is not null)
            {
                var inventory = context.Services!.GetRequiredService<IRuntimeInventory>();
                var principal = context.Services!.GetRequiredService<Identity.PrincipalResolver>().Resolve(context.User);
                if (kind == "runtime" && await inventory.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false) is { } runtime && principal.CanSee(runtime.TenantId))
                {
                    return Text(uri, JsonSerializer.Serialize(runtime, CoreJsonContext.Default.Runtime));
                }

                var scoped = principal.AllTenants ? inventory : new RuntimeAI.Core.Identity.TenantScopedInventory(inventory, principal);
                if (kind == "operation" && await scoped.GetOperationAsync(id, cancellationToken).ConfigureAwait(false) is { } operation)
                {
                    return Text(uri, JsonSerializer.Serialize(operation, CoreJsonContext.Default.Operation));
                }
            }

            throw NotFound(context.Server, uri,
                $"Resource '{uri}' does not exist; list resources, or use {RuntimeUriPrefix}<runtime_id> with an id from list_runtimes.");
        });

    /// <summary>
    /// A resource that does not exist (or that the caller may not see): -32602 with <c>data.uri</c>
    /// from protocol 2026-07-28 on (SEP-2164), -32002 for the 2025 revisions that defined that code.
    /// </summary>
    internal static McpProtocolException NotFound(McpServer server, string uri, string message)
    {
        var modern = string.CompareOrdinal(server.NegotiatedProtocolVersion ?? string.Empty, "2026-07-28") >= 0;
        var exception = new McpProtocolException(message, modern ? McpErrorCode.InvalidParams : McpErrorCode.ResourceNotFound);
        exception.Data["uri"] = uri;
        return exception;
    }

    private static ReadResourceResult Text(string uri, string text) => new()
    {
        Contents = [new TextResourceContents { Uri = uri, MimeType = "application/json", Text = text }],
    };
}
