using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Common;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Identity;
using RuntimeAI.Mcp.Pipeline;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Rest;

/// <summary>
/// Turns a REST request into the tool call an MCP client would make and runs it through the same
/// <see cref="ToolCallPipeline"/> (transport <c>rest</c>): authorization, schema firewall, plan,
/// autonomy, policy, dry-run, approval, idempotency, budget and the audit record are the MCP ones,
/// so a REST call can neither do more nor leave a different trace than the same call over MCP.
/// </summary>
internal sealed class RestGateway(ToolCallPipeline pipeline, IdGenerator ids, PrincipalResolver principals, RuntimeAiServerOptions options)
{
    /// <summary>The transport label REST calls carry in the audit trail.</summary>
    public const string Transport = "rest";

    /// <summary>The header a caller may put its reasoning in (the MCP <c>reasoning</c> argument).</summary>
    public const string ReasoningHeader = "RuntimeAI-Reasoning";

    /// <summary>The response header naming the call's audit record.</summary>
    public const string CallIdHeader = "RuntimeAI-Call-Id";

    /// <summary>Runs <paramref name="toolName"/> with <paramref name="arguments"/> as the caller of <paramref name="http"/>.</summary>
    public async Task<RestCall> CallAsync(HttpContext http, string toolName, JsonObject arguments)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(arguments);
        // The arguments as an MCP client's would arrive: parsed from JSON text (numbers convert freely).
        arguments = (JsonObject)JsonNode.Parse(arguments.ToJsonString())!;
        var tool = ToolCatalog.Find(toolName) is { } found && Toolsets.Includes(options.Toolsets, found.Name) ? found : null;
        if (arguments["reasoning"] is null && http.Request.Headers[ReasoningHeader].ToString() is { Length: > 0 } header)
        {
            arguments["reasoning"] = header;
        }

        var context = new ToolCallContext
        {
            CallId = ids.New("call"),
            ToolName = toolName,
            Tool = tool,
            Arguments = arguments,
            Principal = principals.Resolve(http.User),
            User = http.User,
            Client = http.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null,
            Transport = Transport,
            Autonomy = options.Autonomy,
            Reasoning = arguments["reasoning"] is JsonValue r && r.TryGetValue<string>(out var text) ? text : null,
            Services = http.RequestServices,
        };
        // The audit record of this call carries the same id (GET /v1/audit, runtimeai audit export).
        http.Response.Headers[CallIdHeader] = context.CallId;
        try
        {
            var result = await pipeline.InvokeAsync(context, ct => RunAsync(context, ct), http.RequestAborted).ConfigureAwait(false);
            return new RestCall(context, result, null);
        }
        catch (McpProtocolException ex) when (ex.ErrorCode == McpErrorCode.InvalidParams)
        {
            // The schema firewall's words, pointed at the REST contract instead of tools/list.
            return new RestCall(context, null, ex.Message.Replace("See the tool's inputSchema in tools/list.", $"See {RestApi.OpenApiPath}.", StringComparison.Ordinal));
        }
    }

    /// <summary>The tool itself, exactly as <see cref="RuntimeToolAdapter"/> runs it for MCP.</summary>
    private static async ValueTask<CallToolResult> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        var call = new ToolCall(context, new Progress<ProgressNotificationValue>());
        ToolResult result;
        try
        {
            result = await context.Tool!.InvokeAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ToolErrors.FromKnown(ex) is { } known)
        {
            result = known;
        }

        return ToolResultMapper.ToCallToolResult(result);
    }
}

/// <summary>What one gateway call gave: the tool result, or the invalid-params message the pipeline raised.</summary>
internal sealed record RestCall(ToolCallContext Context, CallToolResult? Result, string? InvalidParams)
{
    /// <summary>The structured content (the answer, or <c>{error:{code,message}}</c>).</summary>
    public JsonObject? Structured => Result?.StructuredContent is { ValueKind: JsonValueKind.Object } element
        ? JsonNode.Parse(element.GetRawText()) as JsonObject
        : null;

    /// <summary>The text an MCP client would read.</summary>
    public string Text => InvalidParams ?? string.Join(' ', Result?.Content.OfType<TextContentBlock>().Select(t => t.Text) ?? []);

    /// <summary>True when the call was refused, malformed or failed.</summary>
    public bool IsError => InvalidParams is not null || Result?.IsError == true;

    /// <summary>The tool error code (<c>invalid_params</c> for a malformed call).</summary>
    public string? ErrorCode => InvalidParams is not null
        ? "invalid_params"
        : IsError ? Structured?["error"]?["code"]?.GetValue<string>() : null;

    /// <summary>True when the call stopped at a pending proposal.</summary>
    public bool PendingApproval => !IsError && Structured?["status"]?.GetValue<string>() == "pending_approval";

    /// <summary>True when the call was only simulated (<c>dry_run</c>).</summary>
    public bool DryRunOnly => !IsError && Context.DryRun && Structured is { } s && s["verdict"] is not null && s["dry_run"] is JsonValue d && d.GetValueKind() == JsonValueKind.True;
}
