using System.Globalization;

namespace RuntimeAI.KubeSim.Api;

/// <summary>Parses and prints Kubernetes resource quantities ("250m", "512Mi", "2").</summary>
internal static class Quantity
{
    private static readonly (string Suffix, decimal Factor)[] s_suffixes =
    [
        ("Ki", 1024m), ("Mi", 1024m * 1024), ("Gi", 1024m * 1024 * 1024), ("Ti", 1024m * 1024 * 1024 * 1024),
        ("Pi", 1024m * 1024 * 1024 * 1024 * 1024), ("n", 0.000000001m), ("u", 0.000001m), ("m", 0.001m),
        ("k", 1000m), ("M", 1000_000m), ("G", 1000_000_000m), ("T", 1000_000_000_000m), ("P", 1000_000_000_000_000m),
    ];

    public static bool TryParse(string? text, out decimal value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        foreach (var (suffix, factor) in s_suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) &&
                decimal.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
            {
                value = n * factor;
                return true;
            }
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            value = (decimal)d;
            return true;
        }

        return false;
    }

    public static decimal Parse(string? text) => TryParse(text, out var v) ? v : 0m;

    public static string Cpu(decimal cores) => cores == decimal.Truncate(cores)
        ? ((long)cores).ToString(CultureInfo.InvariantCulture)
        : ((long)Math.Round(cores * 1000m)).ToString(CultureInfo.InvariantCulture) + "m";

    public static string NanoCores(decimal cores) => ((long)Math.Round(cores * 1_000_000_000m)).ToString(CultureInfo.InvariantCulture) + "n";

    public static string Memory(decimal bytes)
    {
        const decimal gi = 1024m * 1024 * 1024, mi = 1024m * 1024, ki = 1024m;
        if (bytes >= gi && bytes % gi == 0)
        {
            return (bytes / gi).ToString("0", CultureInfo.InvariantCulture) + "Gi";
        }

        if (bytes >= mi && bytes % mi == 0)
        {
            return (bytes / mi).ToString("0", CultureInfo.InvariantCulture) + "Mi";
        }

        return Math.Round(bytes / ki).ToString("0", CultureInfo.InvariantCulture) + "Ki";
    }

    public static string Plain(decimal v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
