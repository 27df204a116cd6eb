using System.Globalization;

namespace RuntimeAI.Kubernetes.Model;

/// <summary>
/// Parses Kubernetes resource quantities (<c>500m</c>, <c>2</c>, <c>1.5Gi</c>, <c>128974848</c>,
/// <c>129e6</c>, <c>123Mi</c>) into plain numbers: cores for CPU, bytes for memory.
/// </summary>
public static class KubeQuantity
{
    private static readonly (string Suffix, decimal Factor)[] s_suffixes =
    [
        ("Ki", 1024m), ("Mi", 1024m * 1024), ("Gi", 1024m * 1024 * 1024), ("Ti", 1024m * 1024 * 1024 * 1024),
        ("Pi", 1024m * 1024 * 1024 * 1024 * 1024), ("Ei", 1024m * 1024 * 1024 * 1024 * 1024 * 1024),
        ("n", 0.000_000_001m), ("u", 0.000_001m), ("m", 0.001m),
        ("k", 1_000m), ("M", 1_000_000m), ("G", 1_000_000_000m), ("T", 1_000_000_000_000m),
        ("P", 1_000_000_000_000_000m), ("E", 1_000_000_000_000_000_000m),
    ];

    /// <summary>Parses a quantity.</summary>
    /// <param name="quantity">e.g. <c>250m</c> or <c>4Gi</c>.</param>
    /// <param name="value">The value in base units (cores, bytes, count).</param>
    /// <returns>Whether the text was a valid quantity.</returns>
    public static bool TryParse(string? quantity, out decimal value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(quantity))
        {
            return false;
        }

        var text = quantity.Trim();
        var factor = 1m;
        foreach (var (suffix, f) in s_suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) && text.Length > suffix.Length
                && (char.IsDigit(text[^(suffix.Length + 1)]) || text[^(suffix.Length + 1)] == '.'))
            {
                factor = f;
                text = text[..^suffix.Length];
                break;
            }
        }

        var style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | (factor == 1m ? NumberStyles.AllowExponent : NumberStyles.None);
        if (!decimal.TryParse(text, style, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        try
        {
            value = number * factor;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>Parses a quantity or throws.</summary>
    /// <param name="quantity">e.g. <c>250m</c> or <c>4Gi</c>.</param>
    /// <returns>The value in base units.</returns>
    /// <exception cref="FormatException">The text is not a quantity.</exception>
    public static decimal Parse(string quantity) =>
        TryParse(quantity, out var value) ? value : throw new FormatException($"'{quantity}' is not a Kubernetes quantity.");
}
