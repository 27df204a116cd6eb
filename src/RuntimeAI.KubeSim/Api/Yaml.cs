using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RuntimeAI.KubeSim.Api;

/// <summary>Converts YAML documents (seed files, apply patches) to <see cref="JsonNode"/> trees.</summary>
internal static class Yaml
{
    public static List<JsonNode?> ParseAll(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw KubeApiException.BadRequest($"invalid YAML: {ex.Message}");
        }

        return stream.Documents.Select(d => Convert(d.RootNode)).ToList();
    }

    /// <summary>Parses a body that is JSON or YAML (JSON is tried first because it is what clients send).</summary>
    public static JsonObject ParseObject(string text)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{'))
        {
            return Json.Parse(text);
        }

        return ParseAll(text).FirstOrDefault() as JsonObject ?? throw KubeApiException.BadRequest("the request body must be an object");
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var o = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    o[((YamlScalarNode)k).Value ?? string.Empty] = Convert(v);
                }

                return o;
            case YamlSequenceNode seq:
                var a = new JsonArray();
                foreach (var item in seq.Children)
                {
                    a.Add(Convert(item));
                }

                return a;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                return null;
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? string.Empty;
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return value;
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return true;
            case "false" or "False" or "FALSE":
                return false;
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }

        if (value.Contains('.', StringComparison.Ordinal) && !value.EndsWith('.') &&
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return d;
        }

        return value;
    }
}
