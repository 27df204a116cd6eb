using System.Text.Json;
using RuntimeAI.Core.Schema;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Validates the arguments against the tool's published input schema before anything else looks
/// at them, and reports every violation with its JSON pointer (the SDK does not validate).
/// </summary>
internal sealed class SchemaFirewallStage : IToolCallStage
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonSchemaValidator> _validators = new(StringComparer.Ordinal);

    public ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        var validator = _validators.GetOrAdd(context.Tool!.Name, _ =>
            JsonSchemaValidator.Compile(JsonSerializer.SerializeToElement(context.Tool.InputSchema, McpJsonContext.Default.JsonObject)));
        var instance = JsonSerializer.SerializeToElement(context.Arguments, McpJsonContext.Default.JsonObject);
        var violations = validator.Validate(instance);
        if (violations.Count == 0)
        {
            return ValueTask.FromResult(StageVerdict.Continue);
        }

        // Each message already starts with its JSON pointer and names the fix.
        var lines = violations.Select(v => v.Message.TrimEnd('.'));
        return ValueTask.FromResult(StageVerdict.Invalid(
            $"Invalid arguments for '{context.ToolName}' ({violations.Count} problem{(violations.Count == 1 ? "" : "s")}): " +
            string.Join("; ", lines) + ". See the tool's inputSchema in tools/list."));
    }
}
