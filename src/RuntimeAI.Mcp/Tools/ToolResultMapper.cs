using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Mcp.Tools;

/// <summary>Turns a <see cref="ToolResult"/> into the MCP result: structuredContent plus a short text.</summary>
internal static class ToolResultMapper
{
    public static CallToolResult ToCallToolResult(ToolResult result)
    {
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
