namespace RuntimeAI.Mcp.Tools;

/// <summary>Errors every tool words the same way.</summary>
internal static class ToolErrors
{
    public static ToolResult RuntimeNotFound(string runtimeId) =>
        ToolResult.Error("not_found", $"runtime '{runtimeId}' does not exist; call list_runtimes to find a valid runtime_id");
}
