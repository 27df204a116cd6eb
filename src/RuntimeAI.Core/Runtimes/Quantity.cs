using System.Globalization;

namespace RuntimeAI.Core.Runtimes;

/// <summary>Parses memory quantities written the Kubernetes way (512Mi, 8Gi, 1G, 1048576).</summary>
public static class Quantity
{
    /// <summary>Parses <paramref name="text"/> into MiB (rounded up); false when it is not a quantity.</summary>
    public static bool TryParseMiB(string? text, out long mib)
    {
        mib = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        (string suffix, double factor)[] units =
        [
            ("Ki", 1024d), ("Mi", 1024d * 1024), ("Gi", 1024d * 1024 * 1024), ("Ti", 1024d * 1024 * 1024 * 1024),
            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
        ];
        double factorBytes = 1;
        foreach (var (suffix, factor) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                factorBytes = factor;
                s = s[..^suffix.Length];
                break;
            }
        }

        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            return false;
        }

        mib = (long)Math.Ceiling(value * factorBytes / (1024d * 1024));
        return true;
    }

    /// <summary>Formats MiB the Kubernetes way (Gi when it divides evenly).</summary>
    public static string FormatMiB(long mib) =>
        mib % 1024 == 0 ? $"{mib / 1024}Gi" : $"{mib}Mi";
}
