using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Mcp.Tools;

/// <summary>Errors every tool words the same way.</summary>
internal static class ToolErrors
{
    public static ToolResult RuntimeNotFound(string runtimeId) =>
        ToolResult.Error("not_found", $"runtime '{runtimeId}' does not exist; call list_runtimes to find a valid runtime_id");

    /// <summary>The tool error for an exception the engine uses to say no; null for anything unexpected.</summary>
    public static ToolResult? FromKnown(Exception exception) => exception switch
    {
        LifecycleException ex => ToolResult.Error(ex.Code, ex.Message),
        RuntimeDriverException ex => ToolResult.Error(ex.Code, ex.Message),
        InvalidPageTokenException ex => ToolResult.Error("invalid_page_token", ex.Message),
        ReplicaFencedException ex => ToolResult.Error("replica_fenced",
            ex.Message + "; within seconds the operation is settled (compensated) by a replica that holds its locks: repeat the call with the same idempotency_key, on any replica, to get its outcome"),
        _ => null,
    };
}
