using System.Security.Claims;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>Everything the pipeline stages know about one tool call, and what they decided.</summary>
internal sealed class ToolCallContext
{
    public required string CallId { get; init; }

    public required string ToolName { get; init; }

    /// <summary>Null when the client named a tool that does not exist.</summary>
    public RuntimeTool? Tool { get; init; }

    /// <summary>The arguments exactly as the client sent them.</summary>
    public required JsonObject Arguments { get; init; }

    public required string Principal { get; init; }

    public ClaimsPrincipal? User { get; init; }

    public string? Client { get; init; }

    public string? Transport { get; init; }

    public string? ProtocolVersion { get; init; }

    public required AutonomyLevel Autonomy { get; init; }

    /// <summary>The agent's reasoning trace (untrusted text), from <c>_meta</c> or a <c>reasoning</c> argument.</summary>
    public string? Reasoning { get; init; }

    public required IServiceProvider Services { get; init; }
}

/// <summary>What a stage says: go on, or stop with a refusal or an invalid-params error.</summary>
internal sealed record StageVerdict
{
    public static readonly StageVerdict Continue = new();

    /// <summary>A tool result with isError (the call was understood and refused).</summary>
    public ToolResult? Refusal { get; init; }

    /// <summary>A JSON-RPC InvalidParams error message (the call was malformed).</summary>
    public string? InvalidParams { get; init; }

    public static StageVerdict Refuse(string code, string message) => new() { Refusal = ToolResult.Error(code, message) };

    public static StageVerdict Invalid(string message) => new() { InvalidParams = message };
}

/// <summary>One stage of the pipeline: small, ordered, failing closed.</summary>
internal interface IToolCallStage
{
    /// <summary>Checks the call; anything but <see cref="StageVerdict.Continue"/> stops it.</summary>
    ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken);
}
