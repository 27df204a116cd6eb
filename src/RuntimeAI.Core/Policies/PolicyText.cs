using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RuntimeAI.Core.Policies;

/// <summary>One policy (or policy test) file: where it came from and its text.</summary>
/// <param name="Name">File name or path, used in error messages.</param>
/// <param name="Text">The JSON or YAML text.</param>
public sealed record PolicySource(string Name, string Text)
{
    /// <summary>The file extensions read from a directory.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".yaml", ".yml", ".json"];

    /// <summary>Reads every .yaml, .yml and .json file under <paramref name="directory"/> (recursively, in ordinal path order).</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>The sources; paths are relative to <paramref name="directory"/>.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static IReadOnlyList<PolicySource> ReadDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The directory '{directory}' does not exist; create it or pass the right path.");
        }

        return Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Select(f => new PolicySource(Path.GetRelativePath(directory, f), File.ReadAllText(f)))
            .ToArray();
    }
}

/// <summary>Turns JSON or YAML text into JSON nodes (YAML via YamlDotNet's representation model, no reflection).</summary>
internal static partial class PolicyText
{
    private static readonly JsonDocumentOptions s_jsonOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Parses the documents of a source (YAML may hold several); a syntax error is returned instead.</summary>
    public static (IReadOnlyList<JsonNode?> Documents, string? Error) Parse(PolicySource source)
    {
        var ext = Path.GetExtension(source.Name);
        var isJson = ext.Equals(".json", StringComparison.OrdinalIgnoreCase)
                     || (!ext.StartsWith(".y", StringComparison.OrdinalIgnoreCase) && source.Text.TrimStart().StartsWith('{'));
        return isJson ? ParseJson(source.Text) : ParseYaml(source.Text);
    }

    private static (IReadOnlyList<JsonNode?>, string?) ParseJson(string text)
    {
        try
        {
            return ([JsonNode.Parse(text, documentOptions: s_jsonOptions)], null);
        }
        catch (JsonException ex)
        {
            return ([], $"invalid JSON at line {(ex.LineNumber ?? 0) + 1}: {ex.Message.Split(" Path:")[0]}");
        }
    }

    private static (IReadOnlyList<JsonNode?>, string?) ParseYaml(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            // Round-trip through JSON text so every value is JsonElement-backed, exactly like parsed JSON.
            return (stream.Documents.Select(d => Convert(d.RootNode) is { } n ? JsonNode.Parse(n.ToJsonString()) : null).ToArray(), null);
        }
        catch (YamlException ex)
        {
            return ([], $"invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}");
        }
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    var name = key is YamlScalarNode s ? s.Value ?? "" : throw new YamlException(key.Start, key.End, "a mapping key must be a plain value");
                    if (obj.ContainsKey(name))
                    {
                        throw new YamlException(key.Start, key.End, $"the key '{name}' appears twice");
                    }

                    obj[name] = Convert(value);
                }

                return obj;
            case YamlSequenceNode seq:
                return new JsonArray(seq.Children.Select(Convert).ToArray());
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new YamlException(node.Start, node.End, "unsupported YAML node");
        }
    }

    /// <summary>Resolves a plain scalar with the YAML 1.2 core schema; quoted or tagged !!str scalars stay strings.</summary>
    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain || (!scalar.Tag.IsEmpty && scalar.Tag.Value.EndsWith(":str", StringComparison.Ordinal)))
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (IntRegex().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }

        if (FloatRegex().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return JsonValue.Create(d);
        }

        return JsonValue.Create(value);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntRegex();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatRegex();
}
