using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RuntimeAI.Core.Schema;

/// <summary>
/// One validation run: walks schema and instance together and collects every violation. Keywords
/// never short-circuit each other, so a caller fixes all problems in one round trip.
/// </summary>
internal sealed class SchemaEvaluation(JsonElement root)
{
    private const int MaxDepth = 64;
    private const int MaxAlternativeDetails = 3;

    public IReadOnlyList<SchemaViolation> Run(JsonElement instance)
    {
        var sink = new List<SchemaViolation>();
        Evaluate(root, instance, "", sink, 0);
        return sink;
    }

    private void Evaluate(JsonElement schema, JsonElement instance, string pointer, List<SchemaViolation> sink, int depth)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return;
        }

        if (schema.ValueKind == JsonValueKind.False)
        {
            sink.Add(new(pointer, "false", $"{At(pointer)}: no value is allowed here; remove it."));
            return;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            sink.Add(new(pointer, "schema", $"{At(pointer)}: the schema is not an object or boolean, so nothing can be validated against it (schema error)."));
            return;
        }

        if (depth > MaxDepth)
        {
            sink.Add(new(pointer, "$ref", $"{At(pointer)}: the schema nests deeper than {MaxDepth} levels (a $ref cycle?), so the value cannot be checked (schema error)."));
            return;
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            ApplyRef(reference, instance, pointer, sink, depth);
        }

        if (schema.TryGetProperty("type", out var type))
        {
            CheckType(type, instance, pointer, sink);
        }

        if (schema.TryGetProperty("enum", out var @enum) && @enum.ValueKind == JsonValueKind.Array)
        {
            if (!@enum.EnumerateArray().Any(e => JsonValues.DeepEquals(e, instance)))
            {
                var allowed = string.Join(", ", @enum.EnumerateArray().Take(20).Select(JsonValues.RenderLiteral));
                sink.Add(new(pointer, "enum", $"{At(pointer)}: {Shown(pointer, instance)} is not one of the allowed values; use one of: {allowed}."));
            }
        }

        if (schema.TryGetProperty("const", out var @const) && !JsonValues.DeepEquals(@const, instance))
        {
            sink.Add(new(pointer, "const", $"{At(pointer)}: {Shown(pointer, instance)} is not the required value; use {JsonValues.RenderLiteral(@const)}."));
        }

        switch (instance.ValueKind)
        {
            case JsonValueKind.Number:
                CheckNumber(schema, instance, pointer, sink);
                break;
            case JsonValueKind.String:
                CheckString(schema, instance.GetString()!, pointer, sink);
                break;
            case JsonValueKind.Array:
                CheckArray(schema, instance, pointer, sink, depth);
                break;
            case JsonValueKind.Object:
                CheckObject(schema, instance, pointer, sink, depth);
                break;
        }

        CheckCombinators(schema, instance, pointer, sink, depth);
    }

    private void ApplyRef(JsonElement reference, JsonElement instance, string pointer, List<SchemaViolation> sink, int depth)
    {
        var text = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : reference.GetRawText();
        if (!TryResolve(text, out var target))
        {
            sink.Add(new(pointer, "$ref", $"{At(pointer)}: the schema reference '{text}' cannot be resolved; only local references such as #/$defs/name are supported (schema error)."));
            return;
        }

        Evaluate(target, instance, pointer, sink, depth + 1);
    }

    private bool TryResolve(string reference, out JsonElement target)
    {
        target = root;
        if (!reference.StartsWith('#'))
        {
            return false;
        }

        var fragment = Uri.UnescapeDataString(reference[1..]);
        if (fragment.Length == 0)
        {
            return true;
        }

        if (fragment[0] != '/')
        {
            return false; // $anchor-style fragments are not supported
        }

        foreach (var raw in fragment[1..].Split('/'))
        {
            var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (target.ValueKind == JsonValueKind.Object && target.TryGetProperty(token, out var next))
            {
                target = next;
            }
            else if (target.ValueKind == JsonValueKind.Array
                     && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                     && index < target.GetArrayLength())
            {
                target = target[index];
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckType(JsonElement type, JsonElement instance, string pointer, List<SchemaViolation> sink)
    {
        var names = type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToArray()
            : type.ValueKind == JsonValueKind.String ? [type.GetString()!] : [];
        if (names.Any(n => HasType(n, instance)))
        {
            return;
        }

        var expected = names.Length == 1 ? names[0] : "one of " + string.Join(", ", names);
        sink.Add(new(pointer, "type", $"{At(pointer)}: expected {expected} but got {JsonValues.TypeName(instance)} {Shown(pointer, instance)}; send a value of type {expected}."));
    }

    private static bool HasType(string name, JsonElement instance) => name switch
    {
        "object" => instance.ValueKind == JsonValueKind.Object,
        "array" => instance.ValueKind == JsonValueKind.Array,
        "string" => instance.ValueKind == JsonValueKind.String,
        "number" => instance.ValueKind == JsonValueKind.Number,
        "integer" => instance.ValueKind == JsonValueKind.Number && JsonValues.IsInteger(instance),
        "boolean" => instance.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => instance.ValueKind == JsonValueKind.Null,
        _ => false,
    };

    private static void CheckNumber(JsonElement schema, JsonElement value, string pointer, List<SchemaViolation> sink)
    {
        var shown = value.GetRawText();
        var exclusiveMinFlag = schema.TryGetProperty("exclusiveMinimum", out var exMin) && exMin.ValueKind == JsonValueKind.True;
        var exclusiveMaxFlag = schema.TryGetProperty("exclusiveMaximum", out var exMax) && exMax.ValueKind == JsonValueKind.True;

        if (schema.TryGetProperty("minimum", out var min) && min.ValueKind == JsonValueKind.Number)
        {
            var c = JsonValues.Compare(value, min);
            if (exclusiveMinFlag ? c <= 0 : c < 0)
            {
                var bound = JsonValues.Number(min);
                sink.Add(exclusiveMinFlag
                    ? new(pointer, "exclusiveMinimum", $"{At(pointer)}: {shown} is not greater than the exclusive minimum {bound}; use a value above {bound}.")
                    : new(pointer, "minimum", $"{At(pointer)}: {shown} is less than the minimum {bound}; use a value of at least {bound}."));
            }
        }

        if (schema.TryGetProperty("maximum", out var max) && max.ValueKind == JsonValueKind.Number)
        {
            var c = JsonValues.Compare(value, max);
            if (exclusiveMaxFlag ? c >= 0 : c > 0)
            {
                var bound = JsonValues.Number(max);
                sink.Add(exclusiveMaxFlag
                    ? new(pointer, "exclusiveMaximum", $"{At(pointer)}: {shown} is not less than the exclusive maximum {bound}; use a value below {bound}.")
                    : new(pointer, "maximum", $"{At(pointer)}: {shown} is greater than the maximum {bound}; use a value of at most {bound}."));
            }
        }

        if (exMin.ValueKind == JsonValueKind.Number && JsonValues.Compare(value, exMin) <= 0)
        {
            var bound = JsonValues.Number(exMin);
            sink.Add(new(pointer, "exclusiveMinimum", $"{At(pointer)}: {shown} is not greater than the exclusive minimum {bound}; use a value above {bound}."));
        }

        if (exMax.ValueKind == JsonValueKind.Number && JsonValues.Compare(value, exMax) >= 0)
        {
            var bound = JsonValues.Number(exMax);
            sink.Add(new(pointer, "exclusiveMaximum", $"{At(pointer)}: {shown} is not less than the exclusive maximum {bound}; use a value below {bound}."));
        }

        if (schema.TryGetProperty("multipleOf", out var multipleOf) && multipleOf.ValueKind == JsonValueKind.Number
            && !JsonValues.IsMultipleOf(value, multipleOf))
        {
            sink.Add(new(pointer, "multipleOf", $"{At(pointer)}: {shown} is not a multiple of {JsonValues.Number(multipleOf)}; round it to a multiple of {JsonValues.Number(multipleOf)}."));
        }
    }

    private static void CheckString(JsonElement schema, string value, string pointer, List<SchemaViolation> sink)
    {
        var hasMin = TryGetCount(schema, "minLength", out var minLength);
        var hasMax = TryGetCount(schema, "maxLength", out var maxLength);
        if (hasMin || hasMax)
        {
            // Lengths are in code points (a surrogate pair is one character), as the spec requires.
            var length = CountCodePoints(value);
            if (hasMin && length < minLength)
            {
                sink.Add(new(pointer, "minLength", $"{At(pointer)}: the string has {Chars(length)}, fewer than the minimum length {minLength}; send at least {Chars(minLength)}."));
            }

            if (hasMax && length > maxLength)
            {
                sink.Add(new(pointer, "maxLength", $"{At(pointer)}: the string has {Chars(length)}, more than the maximum length {maxLength}; shorten it to at most {Chars(maxLength)}."));
            }
        }

        if (schema.TryGetProperty("pattern", out var patternElement) && patternElement.ValueKind == JsonValueKind.String)
        {
            var pattern = patternElement.GetString()!;
            switch (Match(pattern, value))
            {
                case false:
                    sink.Add(new(pointer, "pattern", $"{At(pointer)}: {ShownText(pointer, value)} does not match the pattern {pattern}; send a value that matches it."));
                    break;
                case null:
                    sink.Add(new(pointer, "pattern", $"{At(pointer)}: the pattern {pattern} is not a valid regular expression or took too long to evaluate, so the value is rejected (schema error)."));
                    break;
            }
        }

        if (schema.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String
            && SchemaFormats.Check(format.GetString()!, value) is { } expected)
        {
            sink.Add(new(pointer, "format", $"{At(pointer)}: {ShownText(pointer, value)} is not a valid {format.GetString()}; send {expected}."));
        }
    }

    private void CheckArray(JsonElement schema, JsonElement array, string pointer, List<SchemaViolation> sink, int depth)
    {
        var length = array.GetArrayLength();
        if (TryGetCount(schema, "minItems", out var minItems) && length < minItems)
        {
            sink.Add(new(pointer, "minItems", $"{At(pointer)}: the array has {Items(length)}, fewer than the minimum {minItems}; send at least {Items(minItems)}."));
        }

        if (TryGetCount(schema, "maxItems", out var maxItems) && length > maxItems)
        {
            sink.Add(new(pointer, "maxItems", $"{At(pointer)}: the array has {Items(length)}, more than the maximum {maxItems}; send at most {Items(maxItems)}."));
        }

        // Positional schemas: prefixItems (2020-12) or array-form items (draft-04..2019-09).
        var prefix = schema.TryGetProperty("prefixItems", out var p) && p.ValueKind == JsonValueKind.Array ? p
            : schema.TryGetProperty("items", out var tuple) && tuple.ValueKind == JsonValueKind.Array ? tuple
            : default;
        var prefixCount = prefix.ValueKind == JsonValueKind.Array ? prefix.GetArrayLength() : 0;
        var rest = schema.TryGetProperty("items", out var items) && items.ValueKind is JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False
            ? items
            : default;

        var i = 0;
        foreach (var element in array.EnumerateArray())
        {
            var child = pointer + "/" + i.ToString(CultureInfo.InvariantCulture);
            if (i < prefixCount)
            {
                Evaluate(prefix[i], element, child, sink, depth + 1);
            }
            else if (rest.ValueKind != JsonValueKind.Undefined)
            {
                Evaluate(rest, element, child, sink, depth + 1);
            }

            i++;
        }

        if (schema.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind == JsonValueKind.True && length > 1)
        {
            var seen = new List<JsonElement>(length);
            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var first = seen.FindIndex(s => JsonValues.DeepEquals(s, element));
                if (first >= 0)
                {
                    var child = pointer + "/" + index.ToString(CultureInfo.InvariantCulture);
                    sink.Add(new(child, "uniqueItems", $"{At(child)}: this item repeats item {first}, but the items must be unique; remove the duplicate."));
                }

                seen.Add(element);
                index++;
            }
        }
    }

    private void CheckObject(JsonElement schema, JsonElement obj, string pointer, List<SchemaViolation> sink, int depth)
    {
        var count = 0;
        foreach (var _ in obj.EnumerateObject())
        {
            count++;
        }

        if (TryGetCount(schema, "minProperties", out var minProperties) && count < minProperties)
        {
            sink.Add(new(pointer, "minProperties", $"{At(pointer)}: the object has {count} properties, fewer than the minimum {minProperties}; add properties."));
        }

        if (TryGetCount(schema, "maxProperties", out var maxProperties) && count > maxProperties)
        {
            sink.Add(new(pointer, "maxProperties", $"{At(pointer)}: the object has {count} properties, more than the maximum {maxProperties}; remove properties."));
        }

        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !obj.TryGetProperty(name.GetString()!, out _))
                {
                    var child = pointer + "/" + EscapePointerToken(name.GetString()!);
                    sink.Add(new(child, "required", $"{At(child)}: the required property '{name.GetString()}' is missing; add it."));
                }
            }
        }

        var hasProperties = schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;
        var hasPatterns = schema.TryGetProperty("patternProperties", out var patterns) && patterns.ValueKind == JsonValueKind.Object;
        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional)
                            && additional.ValueKind is JsonValueKind.Object or JsonValueKind.False or JsonValueKind.True;

        foreach (var member in obj.EnumerateObject())
        {
            var child = pointer + "/" + EscapePointerToken(member.Name);
            var matched = false;
            if (hasProperties && properties.TryGetProperty(member.Name, out var propertySchema))
            {
                matched = true;
                Evaluate(propertySchema, member.Value, child, sink, depth + 1);
            }

            if (hasPatterns)
            {
                foreach (var pattern in patterns.EnumerateObject())
                {
                    var isMatch = Match(pattern.Name, member.Name);
                    if (isMatch is null)
                    {
                        sink.Add(new(child, "patternProperties", $"{At(child)}: the property-name pattern {pattern.Name} is not a valid regular expression or took too long, so the property is rejected (schema error)."));
                    }
                    else if (isMatch.Value)
                    {
                        matched = true;
                        Evaluate(pattern.Value, member.Value, child, sink, depth + 1);
                    }
                }
            }

            if (!matched && hasAdditional)
            {
                if (additional.ValueKind == JsonValueKind.False)
                {
                    var known = hasProperties ? string.Join(", ", properties.EnumerateObject().Select(x => x.Name)) : "";
                    var fix = known.Length > 0 ? $"remove it or use one of: {known}" : "remove it";
                    sink.Add(new(child, "additionalProperties", $"{At(child)}: the property '{member.Name}' is not allowed; {fix}."));
                }
                else
                {
                    Evaluate(additional, member.Value, child, sink, depth + 1);
                }
            }
        }
    }

    private void CheckCombinators(JsonElement schema, JsonElement instance, string pointer, List<SchemaViolation> sink, int depth)
    {
        if (schema.TryGetProperty("allOf", out var allOf) && allOf.ValueKind == JsonValueKind.Array)
        {
            foreach (var sub in allOf.EnumerateArray())
            {
                Evaluate(sub, instance, pointer, sink, depth + 1);
            }
        }

        if (schema.TryGetProperty("anyOf", out var anyOf) && anyOf.ValueKind == JsonValueKind.Array)
        {
            var failures = new List<List<SchemaViolation>>();
            foreach (var sub in anyOf.EnumerateArray())
            {
                var local = new List<SchemaViolation>();
                Evaluate(sub, instance, pointer, local, depth + 1);
                if (local.Count == 0)
                {
                    failures.Clear();
                    break;
                }

                failures.Add(local);
            }

            if (failures.Count > 0)
            {
                sink.Add(new(pointer, "anyOf", $"{At(pointer)}: the value matches none of the {failures.Count} allowed shapes (anyOf); fix it to match one of them: {Summarize(failures)}."));
            }
        }

        if (schema.TryGetProperty("oneOf", out var oneOf) && oneOf.ValueKind == JsonValueKind.Array)
        {
            var failures = new List<List<SchemaViolation>>();
            var matches = new List<int>();
            var index = 0;
            foreach (var sub in oneOf.EnumerateArray())
            {
                var local = new List<SchemaViolation>();
                Evaluate(sub, instance, pointer, local, depth + 1);
                if (local.Count == 0)
                {
                    matches.Add(index);
                }
                else
                {
                    failures.Add(local);
                }

                index++;
            }

            if (matches.Count == 0)
            {
                sink.Add(new(pointer, "oneOf", $"{At(pointer)}: the value matches none of the {failures.Count} allowed shapes (oneOf); fix it to match exactly one of them: {Summarize(failures)}."));
            }
            else if (matches.Count > 1)
            {
                sink.Add(new(pointer, "oneOf", $"{At(pointer)}: the value matches shapes {string.Join(" and ", matches.Select(m => "#" + m.ToString(CultureInfo.InvariantCulture)))} but must match exactly one (oneOf); make it specific to one of them."));
            }
        }

        if (schema.TryGetProperty("not", out var not))
        {
            var local = new List<SchemaViolation>();
            Evaluate(not, instance, pointer, local, depth + 1);
            if (local.Count == 0)
            {
                sink.Add(new(pointer, "not", $"{At(pointer)}: the value matches a shape that is forbidden here (not); change it."));
            }
        }
    }

    private static string Summarize(List<List<SchemaViolation>> failures)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < failures.Count && i < MaxAlternativeDetails; i++)
        {
            if (i > 0)
            {
                sb.Append("; ");
            }

            sb.Append('#').Append(i.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(failures[i][0].Message.TrimEnd('.'));
        }

        if (failures.Count > MaxAlternativeDetails)
        {
            sb.Append("; ...");
        }

        return sb.ToString();
    }

    /// <summary>True/false for a match, null when the pattern is invalid or timed out (fail closed).</summary>
    private static bool? Match(string pattern, string value)
    {
        var regex = SchemaRegexCache.Get(pattern);
        if (regex is null)
        {
            return null;
        }

        try
        {
            return regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    private static bool TryGetCount(JsonElement schema, string keyword, out long count)
    {
        count = 0;
        if (!schema.TryGetProperty(keyword, out var element) || element.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        if (element.TryGetInt64(out count))
        {
            return true;
        }

        // 2.0 is a valid count in draft 6+; larger-than-long counts never bind.
        var d = element.GetDouble();
        count = d >= long.MaxValue ? long.MaxValue : (long)Math.Floor(d);
        return true;
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
    internal static string EscapePointerToken(string token)
        => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string At(string pointer) => pointer.Length == 0 ? "(root)" : pointer;

    private static string Chars(long n) => n == 1 ? "1 character" : n.ToString(CultureInfo.InvariantCulture) + " characters";

    private static string Items(long n) => n == 1 ? "1 item" : n.ToString(CultureInfo.InvariantCulture) + " items";

    /// <summary>
    /// The offending value for a message, unless the property is named like a secret (password,
    /// token, ...): messages reach the caller and the audit trail, so a secret is never echoed.
    /// </summary>
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
