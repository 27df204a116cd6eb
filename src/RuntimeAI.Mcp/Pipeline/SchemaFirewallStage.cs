using System.Text.Json;
using RuntimeAI.Core.Schema;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Validates the arguments against the tool's published input schema before anything else looks
/// at them, and reports every violation with its JSON pointer (the SDK does not validate).
/// </summary>
internal sealed partial class SchemaFirewallStage : IToolCallStage
{
    /// <summary>At most this many problems are listed in one answer; the count says how many there are.</summary>
    internal const int MaxProblemsShown = 20;

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

        // NUL never belongs in an argument, and C APIs and SQLite text columns cut a string at it
        // (libvirt would see another name; an audit column would disagree with its hashed record).
        lines.AddRange(NulCharacters(context.Arguments, ""));

        if (lines.Count == 0)
        {
            return ValueTask.FromResult(StageVerdict.Continue);
        }

        // A caller that sends a thousand bad items learns the pattern from the first few; the rest
        // would only make the answer (and a model's context) huge.
        var shown = lines.Count <= MaxProblemsShown ? lines : [.. lines.Take(MaxProblemsShown), $"and {lines.Count - MaxProblemsShown} more problems not listed"];
        return ValueTask.FromResult(StageVerdict.Invalid(
            $"Invalid arguments for '{context.ToolName}' ({lines.Count} problem{(lines.Count == 1 ? "" : "s")}): " +
            string.Join("; ", shown) + ". See the tool's inputSchema in tools/list."));
    }

    private static IEnumerable<string> NulCharacters(System.Text.Json.Nodes.JsonNode? node, string pointer)
    {
        switch (node)
        {
            case System.Text.Json.Nodes.JsonObject o:
                foreach (var (key, value) in o)
                {
                    var child = pointer + "/" + key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
                    if (key.Contains('\0', StringComparison.Ordinal))
                    {
                        yield return $"{child.Replace("\0", "\\u0000", StringComparison.Ordinal)}: the property name contains a NUL character (U+0000); remove it";
                        continue;
                    }

                    foreach (var line in NulCharacters(value, child))
                    {
                        yield return line;
                    }
                }

                break;
            case System.Text.Json.Nodes.JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    foreach (var line in NulCharacters(a[i], $"{pointer}/{i}"))
                    {
                        yield return line;
                    }
                }

                break;
            case System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Contains('\0', StringComparison.Ordinal):
                yield return $"{(pointer.Length == 0 ? "(root)" : pointer)}: the string contains a NUL character (U+0000); remove it";
                break;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex IdempotencyKeyRegex();
}
