using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace RuntimeAI.Core.Schema;

/// <summary>The <c>format</c> values our tool schemas use. Unknown formats pass, as the spec allows.</summary>
internal static partial class SchemaFormats
{
    /// <summary>Returns null when <paramref name="value"/> is valid (or the format unknown), else what a valid value looks like.</summary>
    public static string? Check(string format, string value) => format switch
    {
        "date-time" => IsDateTime(value) ? null : "an RFC 3339 date-time such as 2026-01-31T13:45:00Z",
        "date" => IsDate(value) ? null : "an RFC 3339 full-date such as 2026-01-31",
        "uri" => IsUri(value) ? null : "an absolute URI with a scheme such as https://example.com/path",
        "email" => IsEmail(value) ? null : "an e-mail address such as ops@example.com",
        "uuid" => UuidRegex().IsMatch(value) ? null : "a UUID such as 123e4567-e89b-12d3-a456-426614174000",
        _ => null,
    };

    private static bool IsDateTime(string s)
    {
        var m = DateTimeRegex().Match(s);
        if (!m.Success || !IsDate(m.Groups["date"].Value))
        {
            return false;
        }

        var hour = int.Parse(m.Groups["h"].ValueSpan, CultureInfo.InvariantCulture);
        var minute = int.Parse(m.Groups["m"].ValueSpan, CultureInfo.InvariantCulture);
        var second = int.Parse(m.Groups["s"].ValueSpan, CultureInfo.InvariantCulture);
        if (hour > 23 || minute > 59 || second > 60)
        {
            return false; // 60 is a leap second, which RFC 3339 allows
        }

        if (m.Groups["oh"].Success)
        {
            var oh = int.Parse(m.Groups["oh"].ValueSpan, CultureInfo.InvariantCulture);
            var om = int.Parse(m.Groups["om"].ValueSpan, CultureInfo.InvariantCulture);
            if (oh > 23 || om > 59)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDate(string s)
    {
        var m = DateRegex().Match(s);
        if (!m.Success)
        {
            return false;
        }

        var year = int.Parse(m.Groups["y"].ValueSpan, CultureInfo.InvariantCulture);
        var month = int.Parse(m.Groups["mo"].ValueSpan, CultureInfo.InvariantCulture);
        var day = int.Parse(m.Groups["d"].ValueSpan, CultureInfo.InvariantCulture);
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    private static bool IsUri(string s)
        => UriSchemeRegex().IsMatch(s)
           && !s.Any(c => char.IsWhiteSpace(c) || c == '\\' || char.IsControl(c))
           && Uri.TryCreate(s, UriKind.Absolute, out _);

    private static bool IsEmail(string s)
    {
        var at = s.LastIndexOf('@');
        return at > 0 && at < s.Length - 1
               && s.IndexOf('@', StringComparison.Ordinal) == at
               && !s.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
               && !s.StartsWith('.') && !s[..at].EndsWith('.') && !s[..at].Contains("..", StringComparison.Ordinal)
               && EmailDomainRegex().IsMatch(s[(at + 1)..]);
    }

    [GeneratedRegex(@"^(?<date>\d{4}-\d{2}-\d{2})[Tt](?<h>\d{2}):(?<m>\d{2}):(?<s>\d{2})(\.\d+)?([Zz]|[+-](?<oh>\d{2}):(?<om>\d{2}))$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimeRegex();

    [GeneratedRegex(@"^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DateRegex();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:", RegexOptions.CultureInvariant)]
    private static partial Regex UriSchemeRegex();

    [GeneratedRegex(@"^([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$|^\[[^\]]+\]$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailDomainRegex();

    [GeneratedRegex(@"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex UuidRegex();
}

/// <summary>
/// Compiled <c>pattern</c>/<c>patternProperties</c> regexes, shared process-wide. Tool schemas are
/// a fixed set, so the cache is small; it stops growing at a bound so a hostile schema source
/// cannot exhaust memory.
/// </summary>
internal static class SchemaRegexCache
{
    private const int MaxEntries = 2048;
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(100);
    private static readonly ConcurrentDictionary<string, Regex?> s_cache = new(StringComparer.Ordinal);

    /// <summary>True/false for a match, null when the pattern is invalid or timed out (fail closed).</summary>
    public static bool? Match(string pattern, string value)
    {
        var regex = Get(pattern);
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

    /// <summary>The compiled regex, or null when the pattern is not a valid regular expression.</summary>
    public static Regex? Get(string pattern)
    {
        if (s_cache.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        Regex? regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, s_timeout);
        }
        catch (ArgumentException)
        {
            regex = null;
        }

        if (s_cache.Count < MaxEntries)
        {
            s_cache.TryAdd(pattern, regex);
        }

        return regex;
    }
}
