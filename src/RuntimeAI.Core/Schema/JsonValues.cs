using System.Globalization;
using System.Text.Json;

namespace RuntimeAI.Core.Schema;

/// <summary>How values appear in violation messages.</summary>
internal static class JsonValues
{
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
