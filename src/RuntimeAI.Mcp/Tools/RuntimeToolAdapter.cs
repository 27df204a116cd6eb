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

    /// <summary>
    /// The tool as tools/list shows it. Every byte is paid in the model's context on each session,
    /// so the wire form leaves out what a client already knows: no title (the snake_case name reads
    /// as one; tools-catalog/ keeps it), and only the annotations that differ from the MCP defaults
    /// (readOnlyHint false, destructiveHint true, idempotentHint false, openWorldHint true; the
    /// destructive and idempotent hints mean nothing on a read-only tool), and no output schema on
    /// execute tools for the Operation the instructions describe. tools-catalog/ keeps all of it.
    /// </summary>
    private static readonly JsonObject s_operation = Schema.OperationRow();

    internal static Tool ToProtocolTool(RuntimeTool tool) => new()
    {
        Name = tool.Name,
        Description = tool.Description,
        InputSchema = JsonSerializer.SerializeToElement(tool.InputSchema, McpJsonContext.Default.JsonObject),
        // The Operation every execute tool returns is described once, in the server instructions
        // (get_operation keeps its schema: it is where a client reads an Operation's contract).
        OutputSchema = tool.Tier == ToolTier.Execute && JsonNode.DeepEquals(tool.OutputSchema, s_operation)
            ? null
            : JsonSerializer.SerializeToElement(tool.OutputSchema, McpJsonContext.Default.JsonObject),
        Annotations = WireAnnotations(tool),
    };

    /// <summary>The annotations that differ from the MCP defaults (null when none do).</summary>
    internal static ToolAnnotations? WireAnnotations(RuntimeTool tool)
    {
        var annotations = new ToolAnnotations
        {
            ReadOnlyHint = tool.ReadOnly ? true : null,
            DestructiveHint = !tool.ReadOnly && !tool.Destructive ? false : null,
            IdempotentHint = !tool.ReadOnly && tool.Idempotent ? true : null,
            OpenWorldHint = tool.OpenWorld ? null : false,
        };
        return annotations is { ReadOnlyHint: null, DestructiveHint: null, IdempotentHint: null, OpenWorldHint: null } ? null : annotations;
    }

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
