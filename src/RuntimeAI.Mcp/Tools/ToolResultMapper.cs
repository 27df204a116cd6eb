using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Mcp.Tools;

/// <summary>
/// Turns a <see cref="ToolResult"/> into the MCP result: structuredContent plus a short text. Every
/// result a client sees passes here, so secrets are redacted here: error texts, driver messages,
/// event data and anything else a tool read from the store or the infrastructure.
/// </summary>
internal static class ToolResultMapper
{
    public static CallToolResult ToCallToolResult(ToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        result = result with
        {
            Text = RuntimeAI.Core.Audit.SecretRedactor.RedactText(result.Text),
            // Only serialized below, so a result with nothing to redact is not copied.
            Structured = (System.Text.Json.Nodes.JsonObject?)RuntimeAI.Core.Audit.SecretRedactor.RedactedOrSame(result.Structured),
        };
        var call = new CallToolResult
        {
            Content = [new TextContentBlock { Text = result.Text }],
            IsError = result.IsError ? true : null,
        };
        if (result.Structured is not null && !result.IsError)
        {
            call.StructuredContent = JsonSerializer.SerializeToElement(result.Structured, McpJsonContext.Default.JsonObject);
        }
        else if (result.IsError)
        {
            call.StructuredContent = JsonSerializer.SerializeToElement(
                new System.Text.Json.Nodes.JsonObject
                {
                    ["error"] = new System.Text.Json.Nodes.JsonObject { ["code"] = result.ErrorCode, ["message"] = result.Text },
                },
                McpJsonContext.Default.JsonObject);
        }

        return call;
    }
}
