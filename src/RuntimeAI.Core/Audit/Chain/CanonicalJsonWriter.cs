using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace RuntimeAI.Core.Audit.Chain;

/// <summary>Writes a JSON value in the canonical form described on <see cref="AuditChain"/>.</summary>
internal static class CanonicalJsonWriter
{
    private const double MaxExactInteger = 9007199254740992d; // 2^53

    public static void Write(JsonElement element, StringBuilder sb)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                // Each name read once (JsonProperty.Name makes a new string on every read, and the sort reads it often).
                var members = new List<(string Name, JsonElement Value)>(element.GetPropertyCount());
                foreach (var p in element.EnumerateObject())
                {
                    members.Add((p.Name, p.Value));
                }

                members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                sb.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    WriteString(members[i].Name, sb);
                    sb.Append(':');
                    Write(members[i].Value, sb);
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    Write(item, sb);
                }

                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(element, sb);
                break;
            case JsonValueKind.Number:
                WriteNumber(element, sb);
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            default:
                sb.Append("null");
                break;
        }
    }

    // Short strings without escapes (most of a record: ids, names, states, times) are read from the
    // document's UTF-8 without a string made for each; the rest goes through GetString.
    private const int MaxUnescapedBytes = 512;

    private static void WriteString(JsonElement element, StringBuilder sb)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (raw.Length >= 2 && raw[0] == (byte)'"' && raw[^1] == (byte)'"')
        {
            raw = raw[1..^1];
        }

        if (raw.Length > MaxUnescapedBytes || raw.Contains((byte)'\\'))
        {
            WriteString(element.GetString()!, sb);
            return;
        }

        Span<char> chars = stackalloc char[MaxUnescapedBytes];
        WriteString(chars[..Encoding.UTF8.GetChars(raw, chars)], sb);
    }

    public static void WriteString(ReadOnlySpan<char> value, StringBuilder sb)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        sb.Append('"');
    }

    private static void WriteNumber(JsonElement number, StringBuilder sb)
    {
        if (number.TryGetInt64(out var l) && Math.Abs((double)l) <= MaxExactInteger)
        {
            sb.Append(l.ToString(CultureInfo.InvariantCulture));
            return;
        }

        var d = number.GetDouble();
        if (Math.Floor(d) == d && Math.Abs(d) <= MaxExactInteger)
        {
            sb.Append(((long)d).ToString(CultureInfo.InvariantCulture));
            return;
        }

        // Shortest round-trip form, exponent normalized: 1E-07 -> 1e-7, 1E+21 -> 1e21.
        var text = d.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            sb.Append(text);
            return;
        }

        var mantissa = text.AsSpan(0, e);
        var exponent = text.AsSpan(e + 1);
        var negative = exponent.Length > 0 && exponent[0] == '-';
        exponent = exponent.TrimStart("+-").TrimStart('0');
        sb.Append(mantissa).Append('e');
        if (negative)
        {
            sb.Append('-');
        }

        sb.Append(exponent.IsEmpty ? "0" : exponent);
    }
}
