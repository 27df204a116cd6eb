using System.Text.Json;

namespace RuntimeAI.Core.Common;

/// <summary>Enum values as the wire names them (snake_case from <c>JsonStringEnumMemberName</c>).</summary>
public static class EnumText
{
    /// <summary>The wire name of <paramref name="value"/>.</summary>
    public static string Name<T>(T value) where T : struct, Enum =>
        JsonSerializer.Serialize(value, typeof(T), CoreJsonContext.Default).Trim('"');

    /// <summary>Parses a wire name; throws <see cref="ArgumentException"/> listing the valid names.</summary>
    public static T Parse<T>(string text) where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(Name(value), text, StringComparison.Ordinal))
            {
                return value;
            }
        }

        throw new ArgumentException($"'{text}' is not one of {string.Join(", ", Enum.GetValues<T>().Select(v => Name(v)))}");
    }

    /// <summary>Parses a wire name; false when it is none of the values.</summary>
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(Name(candidate), text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
