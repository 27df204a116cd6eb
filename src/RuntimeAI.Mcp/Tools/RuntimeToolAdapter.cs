using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace RuntimeAI.Mcp.Tools;

/// <summary>
/// Presents a <see cref="RuntimeTool"/> to the SDK with its hand-written schemas (the SDK's
/// reflection-derived schemas cannot carry min/max/pattern/additionalProperties, see SDK #661).
/// </summary>
internal sealed class RuntimeToolAdapter : McpServerTool
{
    public RuntimeToolAdapter(RuntimeTool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        Tool = tool;
        ProtocolTool = ToProtocolTool(tool);
        Metadata = [tool];
    }

    public RuntimeTool Tool { get; }

    public override Tool ProtocolTool { get; }

    public override IReadOnlyList<object> Metadata { get; }

    public override async ValueTask<CallToolResult> InvokeAsync(
        RequestContext<CallToolRequestParams> request,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The call-tool filter built the call context once; the tool runs on that same context.
        var context = request.Items.TryGetValue(Pipeline.ToolCallContext.ItemKey, out var item) && item is Pipeline.ToolCallContext built
            ? built
            : throw new InvalidOperationException($"'{Tool.Name}' was invoked without the pipeline's call context; every call must pass the call-tool filter");
        var progress = request.Params?.ProgressToken is { } token
            ? new ProgressReporter(request.Server, token)
            : (IProgress<ProgressNotificationValue>)new Progress<ProgressNotificationValue>();
        var call = new ToolCall(context, progress);
        ToolResult result;
        try
        {
            result = await Tool.InvokeAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ToolErrors.FromKnown(ex) is { } known)
        {
            // Expected failures (unknown id, wrong state, backend said no) are answers, not crashes.
            result = known;
        }

        return ToolResultMapper.ToCallToolResult(result);
    }

    internal static Tool ToProtocolTool(RuntimeTool tool) => new()
    {
        Name = tool.Name,
        Title = tool.Title,
        Description = tool.Description,
        InputSchema = JsonSerializer.SerializeToElement(tool.InputSchema, McpJsonContext.Default.JsonObject),
        OutputSchema = JsonSerializer.SerializeToElement(tool.OutputSchema, McpJsonContext.Default.JsonObject),
        Annotations = new ToolAnnotations
        {
            ReadOnlyHint = tool.ReadOnly,
            DestructiveHint = tool.Destructive,
            IdempotentHint = tool.Idempotent,
            OpenWorldHint = tool.OpenWorld,
        },
    };

    /// <summary>Sends MCP progress notifications for the request's progress token.</summary>
    private sealed class ProgressReporter(McpServer server, ProgressToken token) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) =>
            _ = server.SendNotificationAsync(
                NotificationMethods.ProgressNotification,
                new ProgressNotificationParams { ProgressToken = token, Progress = value },
                McpJsonUtilities.DefaultOptions);
    }
}

/// <summary>Argument conversions shared by the adapter and the pipeline.</summary>
internal static class ToolArguments
{
    public static JsonObject ToJsonObject(IDictionary<string, JsonElement>? arguments)
    {
        var obj = new JsonObject();
        if (arguments is null)
        {
            return obj;
        }

        foreach (var (key, value) in arguments)
        {
            obj[key] = JsonNode.Parse(value.GetRawText());
        }

        return obj;
    }
}
