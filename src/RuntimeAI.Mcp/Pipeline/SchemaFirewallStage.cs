using System.Text.Json;
using RuntimeAI.Core.Schema;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Validates the arguments against the tool's published input schema before anything else looks
/// at them, and reports every violation with its JSON pointer (the SDK does not validate).
/// </summary>
internal sealed partial class SchemaFirewallStage : IToolCallStage
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonSchemaValidator> _validators = new(StringComparer.Ordinal);

    public ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        var validator = _validators.GetOrAdd(context.Tool!.Name, _ =>
            JsonSchemaValidator.Compile(JsonSerializer.SerializeToElement(context.Tool.InputSchema, McpJsonContext.Default.JsonObject)));
        var instance = JsonSerializer.SerializeToElement(context.Arguments, McpJsonContext.Default.JsonObject);
        // Each message already starts with its JSON pointer and names the fix.
        var lines = validator.Validate(instance).Select(v => v.Message.TrimEnd('.')).ToList();

        // One rule shared by every execute tool, checked here rather than repeated in each schema
        // (tools/list stays small): keys are plain tokens, so they read safely in logs and exports.
        if (context.IdempotencyKey is { } key && !IdempotencyKeyRegex().IsMatch(key))
        {
            lines.Add("/idempotency_key: use 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'");
        }

        if (lines.Count == 0)
        {
            return ValueTask.FromResult(StageVerdict.Continue);
        }

        return ValueTask.FromResult(StageVerdict.Invalid(
            $"Invalid arguments for '{context.ToolName}' ({lines.Count} problem{(lines.Count == 1 ? "" : "s")}): " +
            string.Join("; ", lines) + ". See the tool's inputSchema in tools/list."));
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex IdempotencyKeyRegex();
}
