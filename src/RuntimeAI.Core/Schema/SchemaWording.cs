using System.Globalization;
using System.Text.Json;

namespace RuntimeAI.Core.Schema;

/// <summary>
/// Our wording of each kind of violation: the JSON pointer first, then the problem, then the fix.
/// Messages quote the offending value (cut to 40 characters) except under a property named like a
/// secret (see <see cref="Audit.SecretRedactor.IsSecretName"/>), where they say "the value":
/// messages reach the caller and the audit trail, so a secret is never echoed.
/// </summary>
internal static class SchemaWording
{
    private const int MaxAlternativeDetails = 3;

    public static SchemaViolation Type(string pointer, JsonElement type, JsonElement instance)
    {
        var names = type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToArray()
            : type.ValueKind == JsonValueKind.String ? [type.GetString()!] : [];
        var expected = names.Length == 1 ? names[0] : "one of " + string.Join(", ", names);
        return new(pointer, "type", $"{At(pointer)}: expected {expected} but got {JsonValues.TypeName(instance)} {Shown(pointer, instance)}; send a value of type {expected}.");
    }

    public static SchemaViolation Enum(string pointer, JsonElement allowed, JsonElement instance)
    {
        var list = allowed.ValueKind == JsonValueKind.Array
            ? string.Join(", ", allowed.EnumerateArray().Take(20).Select(JsonValues.RenderLiteral))
            : JsonValues.RenderLiteral(allowed);
        return new(pointer, "enum", $"{At(pointer)}: {Shown(pointer, instance)} is not one of the allowed values; use one of: {list}.");
    }

    public static SchemaViolation Const(string pointer, JsonElement value, JsonElement instance)
        => new(pointer, "const", $"{At(pointer)}: {Shown(pointer, instance)} is not the required value; use {JsonValues.RenderLiteral(value)}.");

    public static SchemaViolation Bound(string keyword, string pointer, JsonElement bound, JsonElement instance)
    {
        var shown = instance.GetRawText();
        var b = JsonValues.Number(bound);
        return keyword switch
        {
            "minimum" => new(pointer, keyword, $"{At(pointer)}: {shown} is less than the minimum {b}; use a value of at least {b}."),
            "maximum" => new(pointer, keyword, $"{At(pointer)}: {shown} is greater than the maximum {b}; use a value of at most {b}."),
            "exclusiveMinimum" => new(pointer, keyword, $"{At(pointer)}: {shown} is not greater than the exclusive minimum {b}; use a value above {b}."),
            "exclusiveMaximum" => new(pointer, keyword, $"{At(pointer)}: {shown} is not less than the exclusive maximum {b}; use a value below {b}."),
            _ => new(pointer, keyword, $"{At(pointer)}: {shown} is not a multiple of {b}; round it to a multiple of {b}."),
        };
    }

    public static SchemaViolation Length(string keyword, string pointer, JsonElement limit, JsonElement instance)
    {
        var length = CountCodePoints(instance.GetString() ?? "");
        var n = Count(limit);
        return keyword == "minLength"
            ? new(pointer, keyword, $"{At(pointer)}: the string has {Chars(length)}, fewer than the minimum length {n}; send at least {Chars(n)}.")
            : new(pointer, keyword, $"{At(pointer)}: the string has {Chars(length)}, more than the maximum length {n}; shorten it to at most {Chars(n)}.");
    }

    public static SchemaViolation Items(string keyword, string pointer, JsonElement limit, JsonElement instance)
    {
        var length = instance.GetArrayLength();
        var n = Count(limit);
        return keyword == "minItems"
            ? new(pointer, keyword, $"{At(pointer)}: the array has {ItemCount(length)}, fewer than the minimum {n}; send at least {ItemCount(n)}.")
            : new(pointer, keyword, $"{At(pointer)}: the array has {ItemCount(length)}, more than the maximum {n}; send at most {ItemCount(n)}.");
    }

    public static SchemaViolation Properties(string keyword, string pointer, JsonElement limit, JsonElement instance)
    {
        var count = instance.EnumerateObject().Count();
        var n = Count(limit);
        return keyword == "minProperties"
            ? new(pointer, keyword, $"{At(pointer)}: the object has {count} properties, fewer than the minimum {n}; add properties.")
            : new(pointer, keyword, $"{At(pointer)}: the object has {count} properties, more than the maximum {n}; remove properties.");
    }

    /// <summary>One violation per missing property, pointing where it belongs.</summary>
    public static IEnumerable<SchemaViolation> Required(string pointer, JsonElement required, JsonElement instance)
    {
        foreach (var name in required.EnumerateArray())
        {
            if (name.ValueKind == JsonValueKind.String && instance.ValueKind == JsonValueKind.Object && !instance.TryGetProperty(name.GetString()!, out _))
            {
                var child = pointer + "/" + EscapePointerToken(name.GetString()!);
                yield return new(child, "required", $"{At(child)}: the required property '{name.GetString()}' is missing; add it.");
            }
        }
    }

    /// <summary>One violation per repeated item, pointing at the repeat.</summary>
    public static IEnumerable<SchemaViolation> Unique(string pointer, JsonElement instance)
    {
        var seen = new List<JsonElement>();
        var index = 0;
        foreach (var element in instance.EnumerateArray())
        {
            var first = seen.FindIndex(s => JsonElement.DeepEquals(s, element));
            if (first >= 0)
            {
                var child = pointer + "/" + index.ToString(CultureInfo.InvariantCulture);
                yield return new(child, "uniqueItems", $"{At(child)}: this item repeats item {first}, but the items must be unique; remove the duplicate.");
            }

            seen.Add(element);
            index++;
        }
    }

    public static SchemaViolation Pattern(string pointer, string pattern, string value, bool? matched)
        => matched is null
            ? new(pointer, "pattern", $"{At(pointer)}: the pattern {pattern} is not a valid regular expression or took too long to evaluate, so the value is rejected (schema error).")
            : new(pointer, "pattern", $"{At(pointer)}: {ShownText(pointer, value)} does not match the pattern {pattern}; send a value that matches it.");

    public static SchemaViolation Format(string pointer, string format, string value, string expected)
        => new(pointer, "format", $"{At(pointer)}: {ShownText(pointer, value)} is not a valid {format}; send {expected}.");

    public static SchemaViolation NotAllowed(string pointer, string name, IReadOnlyList<string> known)
    {
        var fix = known.Count > 0 ? $"remove it or use one of: {string.Join(", ", known)}" : "remove it";
        return new(pointer, "additionalProperties", $"{At(pointer)}: the property '{name}' is not allowed; {fix}.");
    }

    public static SchemaViolation False(string pointer)
        => new(pointer, "false", $"{At(pointer)}: no value is allowed here; remove it.");

    public static SchemaViolation Not(string pointer)
        => new(pointer, "not", $"{At(pointer)}: the value matches a shape that is forbidden here (not); change it.");

    public static SchemaViolation Contains(string pointer)
        => new(pointer, "contains", $"{At(pointer)}: no item has the required shape (contains); add one that has it.");

    public static SchemaViolation AnyOf(string pointer, IReadOnlyList<IReadOnlyList<SchemaViolation>> failures)
        => new(pointer, "anyOf", $"{At(pointer)}: the value matches none of the {failures.Count} allowed shapes (anyOf); fix it to match one of them: {Summarize(failures)}.");

    public static SchemaViolation OneOfNone(string pointer, IReadOnlyList<IReadOnlyList<SchemaViolation>> failures)
        => new(pointer, "oneOf", $"{At(pointer)}: the value matches none of the {failures.Count} allowed shapes (oneOf); fix it to match exactly one of them: {Summarize(failures)}.");

    public static SchemaViolation OneOfMany(string pointer, IEnumerable<int> matches)
        => new(pointer, "oneOf", $"{At(pointer)}: the value matches shapes {string.Join(" and ", matches.Select(m => "#" + m.ToString(CultureInfo.InvariantCulture)))} but must match exactly one (oneOf); make it specific to one of them.");

    public static SchemaViolation UnresolvedRef(string pointer, string reference)
        => new(pointer, "$ref", $"{At(pointer)}: the schema reference '{reference}' cannot be resolved; only local references such as #/$defs/name are supported (schema error).");

    public static SchemaViolation SchemaError(string keyword, string problem)
        => new("", keyword, $"(root): the schema cannot be used ({problem}), so no value is accepted (schema error).");

    /// <summary>A keyword that failed without one of our wordings (a keyword our tool schemas do not use).</summary>
    public static SchemaViolation Other(string pointer, string keyword, string? libraryMessage)
        => new(pointer, keyword, $"{At(pointer)}: the value fails the schema keyword '{keyword}'{(string.IsNullOrEmpty(libraryMessage) ? "" : " (" + libraryMessage.TrimEnd('.') + ")")}; change it to satisfy that keyword.");

    private static string Summarize(IReadOnlyList<IReadOnlyList<SchemaViolation>> failures)
    {
        var parts = failures.Take(MaxAlternativeDetails).Select((f, i) =>
            "#" + i.ToString(CultureInfo.InvariantCulture) + ": " + (f.Count > 0 ? f[0].Message.TrimEnd('.') : "(no detail)"));
        return string.Join("; ", parts) + (failures.Count > MaxAlternativeDetails ? "; ..." : "");
    }

    private static long Count(JsonElement limit)
    {
        if (limit.TryGetInt64(out var n))
        {
            return n;
        }

        var d = limit.GetDouble();
        return d >= long.MaxValue ? long.MaxValue : (long)Math.Floor(d);
    }

    private static int CountCodePoints(string s)
    {
        var count = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }

            count++;
        }

        return count;
    }

    /// <summary>RFC 6901: '~' becomes '~0' and '/' becomes '~1'.</summary>
    public static string EscapePointerToken(string token)
        => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string At(string pointer) => pointer.Length == 0 ? "(root)" : pointer;

    private static string Chars(long n) => n == 1 ? "1 character" : n.ToString(CultureInfo.InvariantCulture) + " characters";

    private static string ItemCount(long n) => n == 1 ? "1 item" : n.ToString(CultureInfo.InvariantCulture) + " items";

    private static string Shown(string pointer, JsonElement value)
        => IsSecretPointer(pointer) ? "the value" : JsonValues.Render(value);

    private static string ShownText(string pointer, string value)
        => IsSecretPointer(pointer) ? "the value" : Quote(value);

    private static bool IsSecretPointer(string pointer)
    {
        var slash = pointer.LastIndexOf('/');
        return slash >= 0 && Audit.SecretRedactor.IsSecretName(pointer[(slash + 1)..].Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
    }

    private static string Quote(string value)
    {
        const int max = 40;
        var cut = value.Length > max ? string.Concat(value.AsSpan(0, max), "...") : value;
        return "\"" + cut + "\"";
    }
}
