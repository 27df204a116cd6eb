using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace RuntimeAI.Mcp.Tools.Observe.Inside;

/// <summary>Writes a JSON tree as block YAML (as <c>kubectl get -o yaml</c> shows objects), with YamlDotNet's emitter (no reflection).</summary>
internal static class YamlText
{
    public static string Write(JsonNode? node)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(writer);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, true));
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());
        return writer.ToString().TrimEnd('\n', '\r', ' ', '.').TrimEnd();
    }

    private static void Emit(Emitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, true, MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    emitter.Emit(new Scalar(key));
                    Emit(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, true, SequenceStyle.Block));
                foreach (var item in array)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var text = value.GetValue<string>();
                // Strings that would read as another type (true, 1, null, 1.5) stay strings.
                emitter.Emit(new Scalar(null, null, text, LooksTyped(text) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, true, true));
                break;
            case null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
            default:
                emitter.Emit(new Scalar(null, null, node.ToJsonString(), ScalarStyle.Plain, true, false));
                break;
        }
    }

    private static bool LooksTyped(string text) =>
        text.Length == 0 || text is "true" or "false" or "null" or "~" or "yes" or "no" or "on" or "off"
        || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
