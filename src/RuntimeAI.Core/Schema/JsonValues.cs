using System.Globalization;
using System.Text.Json;

namespace RuntimeAI.Core.Schema;

/// <summary>JSON value semantics the schema keywords need: numeric equality, ordering, rendering.</summary>
internal static class JsonValues
{
    /// <summary>JSON equality: numbers by value (1 == 1.0), objects ignoring member order.</summary>
    public static bool DeepEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind)
        {
            return false;
        }

        switch (a.ValueKind)
        {
            case JsonValueKind.Number:
                return Compare(a, b) == 0;
            case JsonValueKind.String:
                return string.Equals(a.GetString(), b.GetString(), StringComparison.Ordinal);
            case JsonValueKind.Array:
                if (a.GetArrayLength() != b.GetArrayLength())
                {
                    return false;
                }

                using (var ea = a.EnumerateArray().GetEnumerator())
                using (var eb = b.EnumerateArray().GetEnumerator())
                {
                    while (ea.MoveNext() && eb.MoveNext())
                    {
                        if (!DeepEquals(ea.Current, eb.Current))
                        {
                            return false;
                        }
                    }
                }

                return true;
            case JsonValueKind.Object:
                var count = 0;
                foreach (var p in a.EnumerateObject())
                {
                    count++;
                    if (!b.TryGetProperty(p.Name, out var other) || !DeepEquals(p.Value, other))
                    {
                        return false;
                    }
                }

                return count == b.EnumerateObject().Count();
            default:
                return true; // true, false and null: the kind is the value
        }
    }

    /// <summary>Compares two JSON numbers exactly where decimal can hold them, else as doubles.</summary>
    public static int Compare(JsonElement a, JsonElement b)
    {
        if (a.TryGetDecimal(out var da) && b.TryGetDecimal(out var db))
        {
            return da.CompareTo(db);
        }

        return a.GetDouble().CompareTo(b.GetDouble());
    }

    /// <summary>True for a number with no fractional part (1.0 counts, as in draft 6 and later).</summary>
    public static bool IsInteger(JsonElement number)
    {
        if (number.TryGetDecimal(out var d))
        {
            return d == decimal.Truncate(d);
        }

        var x = number.GetDouble();
        return double.IsFinite(x) && Math.Floor(x) == x;
    }

    /// <summary>True when <paramref name="value"/> is an integer multiple of <paramref name="divisor"/>.</summary>
    public static bool IsMultipleOf(JsonElement value, JsonElement divisor)
    {
        if (value.TryGetDecimal(out var v) && divisor.TryGetDecimal(out var d) && d != 0)
        {
            try
            {
                return v % d == 0;
            }
            catch (OverflowException)
            {
                // fall through to the double path
            }
        }

        var q = value.GetDouble() / divisor.GetDouble();
        return double.IsFinite(q) && Math.Abs(q - Math.Round(q)) < 1e-9;
    }

    /// <summary>A short rendering of a value for an error message (long text is cut).</summary>
    public static string Render(JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.String => JsonSerializerStringQuote(value.GetString()!),
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            _ => value.GetRawText(),
        };
        return text;
    }

    /// <summary>The schema type name of a value, as used in messages ("integer" for whole numbers).</summary>
    public static string TypeName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => IsInteger(value) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    /// <summary>Renders a schema literal (enum member, const) compactly.</summary>
    public static string RenderLiteral(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length <= 60 ? raw : string.Concat(raw.AsSpan(0, 57), "...");
    }

    /// <summary>Formats a number from a schema keyword for a message.</summary>
    public static string Number(JsonElement number)
        => number.TryGetDecimal(out var d)
            ? d.ToString(CultureInfo.InvariantCulture)
            : number.GetDouble().ToString("R", CultureInfo.InvariantCulture);

    private static string JsonSerializerStringQuote(string s)
    {
        const int max = 40;
        var cut = s.Length > max ? string.Concat(s.AsSpan(0, max), "...") : s;
        return "\"" + cut.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
