using System.Text.Json;

namespace RuntimeAI.Core.Schema;

/// <summary>
/// Validates a JSON instance against a JSON schema and reports every violation.
/// </summary>
/// <remarks>
/// <para>
/// JsonSchema.Net (and NJsonSchema) are not obtainable from the package registry here, so this is a
/// small in-project stand-in for the keywords our tool input schemas use. It follows draft 2020-12
/// semantics and accepts the draft-04 forms still found in the wild (boolean
/// <c>exclusiveMinimum</c>/<c>exclusiveMaximum</c>, array-form <c>items</c>, <c>definitions</c>).
/// </para>
/// <para>
/// Supported: <c>type</c> (name or array; <c>integer</c> accepts 1.0), <c>enum</c>, <c>const</c>,
/// <c>multipleOf</c>, <c>minimum</c>, <c>maximum</c>, <c>exclusiveMinimum</c>,
/// <c>exclusiveMaximum</c>, <c>minLength</c>/<c>maxLength</c> (Unicode code points), <c>pattern</c>
/// (.NET regex, not anchored, 100 ms timeout), <c>format</c> (date-time, date, uri, email, uuid;
/// other formats pass), <c>required</c>, <c>properties</c>, <c>patternProperties</c>,
/// <c>additionalProperties</c>, <c>minProperties</c>/<c>maxProperties</c>, <c>items</c>,
/// <c>prefixItems</c>, <c>minItems</c>/<c>maxItems</c>, <c>uniqueItems</c>, <c>allOf</c>,
/// <c>anyOf</c>, <c>oneOf</c>, <c>not</c>, boolean schemas and local <c>$ref</c>
/// (<c>#</c>, <c>#/$defs/x</c>, <c>#/definitions/x</c>, any local JSON pointer). Annotations
/// (<c>title</c>, <c>description</c>, <c>default</c>, <c>examples</c>) and unknown keywords are
/// ignored.
/// </para>
/// <para>
/// Fail closed: a remote <c>$ref</c>, an unresolvable pointer, an invalid regex or a timed-out
/// regex is reported as a violation rather than skipped.
/// </para>
/// <para>
/// Messages quote the offending value (cut to 40 characters) except under a property named like a
/// secret (see <see cref="Audit.SecretRedactor.IsSecretName"/>), where they say "the value".
/// </para>
/// <para>Thread-safe: a compiled validator is immutable.</para>
/// </remarks>
public sealed class JsonSchemaValidator
{
    private readonly JsonElement _schema;

    private JsonSchemaValidator(JsonElement schema) => _schema = schema;

    /// <summary>The schema this validator checks against (a detached clone).</summary>
    public JsonElement Schema => _schema;

    /// <summary>
    /// Prepares a schema for repeated validation. The element is cloned, so the document it came
    /// from may be disposed; regular expressions are compiled once and shared process-wide.
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
    /// <returns>All violations, in schema/instance order; empty when the instance is valid.</returns>
    public static IReadOnlyList<SchemaViolation> Validate(JsonElement schema, JsonElement instance)
        => new SchemaEvaluation(schema).Run(instance);

    /// <summary>
    /// Validates <paramref name="instance"/> against the compiled schema and returns every violation.
    /// </summary>
    /// <param name="instance">The value to check, e.g. a tool call's arguments.</param>
    /// <returns>All violations, in schema/instance order; empty when the instance is valid.</returns>
    public IReadOnlyList<SchemaViolation> Validate(JsonElement instance)
        => new SchemaEvaluation(_schema).Run(instance);

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
}
