using System.Text.Json;
using Json.Schema;

namespace RuntimeAI.Core.Schema;

/// <summary>
/// Validates a JSON instance against a JSON schema and reports every violation, in our wording.
/// </summary>
/// <remarks>
/// <para>
/// Evaluation is JsonSchema.Net's (draft 2020-12, see <see cref="ToolSchemaDialect"/>); this class
/// is the thin adapter that turns its results into <see cref="SchemaViolation"/>s whose messages
/// start with the JSON pointer, name the problem and say how to fix it. The draft-04 forms still
/// found in the wild (boolean <c>exclusiveMinimum</c>/<c>exclusiveMaximum</c>, array-form
/// <c>items</c>, <c>definitions</c>) are accepted (<see cref="SchemaForms"/>). <c>format</c> is
/// asserted for date-time, date, uri, email and uuid; other formats pass. Unknown keywords are
/// ignored.
/// </para>
/// <para>
/// Fast path: a valid instance costs one flag-only evaluation; the detailed run that builds the
/// messages happens only on failure.
/// </para>
/// <para>
/// Fail closed: a remote or unresolvable <c>$ref</c>, an invalid regex, a regex that runs past its
/// 100 ms timeout and a schema the library cannot build are reported as violations, never skipped.
/// </para>
/// <para>Thread-safe: a compiled validator is immutable.</para>
/// </remarks>
public sealed class JsonSchemaValidator
{
    private static readonly EvaluationOptions s_flagOnly = new() { OutputFormat = OutputFormat.Flag };

    private readonly JsonSchema? _compiled;
    private readonly SchemaViolation? _unusable;

    private JsonSchemaValidator(JsonElement schema)
    {
        Schema = schema;
        try
        {
            _compiled = JsonSchema.Build(SchemaForms.Normalize(schema), new BuildOptions { Dialect = ToolSchemaDialect.Instance, SchemaRegistry = new SchemaRegistry() });
        }
        catch (Exception ex) when (ex is JsonSchemaException or RefResolutionException or JsonException or ArgumentException or InvalidOperationException)
        {
            var isReference = ex is RefResolutionException || ex.Message.Contains("reference", StringComparison.OrdinalIgnoreCase) || ex.Message.Contains("$ref", StringComparison.Ordinal);
            _unusable = isReference
                ? new SchemaViolation("", "$ref", $"(root): a schema reference cannot be resolved ({ex.Message.TrimEnd('.')}); only local, acyclic references such as #/$defs/name are supported (schema error).")
                : SchemaWording.SchemaError("schema", ex.Message.TrimEnd('.'));
        }
    }

    /// <summary>The schema this validator checks against (a detached clone).</summary>
    public JsonElement Schema { get; }

    /// <summary>
    /// Prepares a schema for repeated validation. The element is cloned, so the document it came
    /// from may be disposed. A schema that cannot be built yields a validator that rejects every
    /// instance with the reason.
    /// </summary>
    /// <param name="schema">The JSON schema (an object or a boolean).</param>
    /// <returns>A reusable, thread-safe validator.</returns>
    public static JsonSchemaValidator Compile(JsonElement schema) => new(schema.Clone());

    /// <summary>
    /// Validates <paramref name="instance"/> against <paramref name="schema"/> and returns every
    /// violation (an empty list means valid). Prefer <see cref="Compile"/> for a schema used often.
    /// </summary>
    /// <param name="schema">The JSON schema (an object or a boolean).</param>
    /// <param name="instance">The value to check, e.g. a tool call's arguments.</param>
    /// <returns>All violations; empty when the instance is valid.</returns>
    public static IReadOnlyList<SchemaViolation> Validate(JsonElement schema, JsonElement instance)
        => Compile(schema).Validate(instance);

    /// <summary>
    /// Validates <paramref name="instance"/> against the compiled schema and returns every violation.
    /// </summary>
    /// <param name="instance">The value to check, e.g. a tool call's arguments.</param>
    /// <returns>All violations; empty when the instance is valid.</returns>
    public IReadOnlyList<SchemaViolation> Validate(JsonElement instance)
    {
        if (_compiled is null)
        {
            return [_unusable!];
        }

        try
        {
            if (_compiled.Evaluate(instance, s_flagOnly).IsValid)
            {
                return [];
            }

            var collector = new ViolationCollector();
            var results = _compiled.Evaluate(instance, collector);
            var violations = collector.Violations.ToList();
            if (violations.Count == 0)
            {
                // A keyword without our wording failed: report the library's own errors rather than nothing.
                violations.AddRange(LibraryErrors(results));
            }

            return violations.Count > 0 ? violations : [SchemaWording.Other("", "schema", null)];
        }
        catch (Exception ex) when (ex is JsonSchemaException or RefResolutionException)
        {
            return [new SchemaViolation("", "$ref", $"(root): the schema cannot be evaluated ({ex.Message.TrimEnd('.')}); only local references such as #/$defs/name are supported (schema error).")];
        }
    }

    /// <summary>
    /// Joins violations into one message, one per line, e.g. for a JSON-RPC InvalidParams error.
    /// </summary>
    /// <param name="violations">The violations to describe.</param>
    /// <returns>The messages joined by newlines.</returns>
    public static string Describe(IEnumerable<SchemaViolation> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        return string.Join('\n', violations.Select(v => v.Message));
    }

    private static IEnumerable<SchemaViolation> LibraryErrors(EvaluationResults results)
    {
        foreach (var node in (results.Details ?? []).Prepend(results))
        {
            foreach (var (keyword, message) in node.Errors ?? [])
            {
                yield return SchemaWording.Other(node.InstanceLocation.ToString(), keyword.Length == 0 ? "false" : keyword, message);
            }
        }
    }
}
