using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RuntimeAI.Core.Schema;

/// <summary>
/// Rewrites a schema into the 2020-12 form <see cref="ToolSchemaDialect"/> evaluates: the draft-04
/// forms still found in the wild (boolean <c>exclusiveMinimum</c>/<c>exclusiveMaximum</c>,
/// array-form <c>items</c> with <c>additionalItems</c>) become their 2020-12 equivalents,
/// <c>$schema</c> is dropped (the dialect is ours, whatever the schema claims), and a <c>false</c>
/// subschema becomes <c>{"not": {}}</c> so it is reported like any other keyword.
/// </summary>
internal static partial class SchemaForms
{
    private static readonly string[] s_schemaMaps = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
    private static readonly string[] s_schemaArrays = ["allOf", "anyOf", "oneOf", "prefixItems"];
    private static readonly string[] s_schemas = ["items", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties"];

    public static JsonElement Normalize(JsonElement schema)
    {
        var node = JsonNode.Parse(schema.GetRawText());
        node = Visit(node);
        using var doc = JsonDocument.Parse(node?.ToJsonString() ?? "true");
        return doc.RootElement.Clone();
    }

    private static JsonNode? Visit(JsonNode? node)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.False)
        {
            return new JsonObject { ["not"] = new JsonObject() };
        }

        if (node is not JsonObject schema)
        {
            return node;
        }

        schema.Remove("$schema");
        Draft04Exclusive(schema, "exclusiveMinimum", "minimum");
        Draft04Exclusive(schema, "exclusiveMaximum", "maximum");
        if (schema["items"] is JsonArray tuple)
        {
            schema.Remove("items");
            schema["prefixItems"] = tuple;
            if (schema["additionalItems"] is { } rest)
            {
                schema.Remove("additionalItems");
                schema["items"] = rest;
            }
        }

        if (schema["$ref"] is JsonValue reference && reference.GetValueKind() == JsonValueKind.String)
        {
            // A pointer into a draft-04 tuple now goes through prefixItems.
            schema["$ref"] = TupleItemRef().Replace(reference.GetValue<string>(), "/prefixItems/$1");
        }

        foreach (var key in s_schemaMaps)
        {
            if (schema[key] is JsonObject map)
            {
                foreach (var name in map.Select(p => p.Key).ToList())
                {
                    map[name] = Visit(Detach(map[name]));
                }
            }
        }

        foreach (var key in s_schemaArrays)
        {
            if (schema[key] is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    array[i] = Visit(Detach(array[i]));
                }
            }
        }

        foreach (var key in s_schemas)
        {
            if (schema.ContainsKey(key))
            {
                schema[key] = Visit(Detach(schema[key]));
            }
        }

        // additionalProperties: false stays false: its keyword lists the allowed names instead.
        if (schema["additionalProperties"] is JsonObject additional)
        {
            schema["additionalProperties"] = Visit(Detach(additional));
        }

        return schema;
    }

    private static void Draft04Exclusive(JsonObject schema, string exclusive, string inclusive)
    {
        if (schema[exclusive] is not JsonValue flag || flag.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            return;
        }

        schema.Remove(exclusive);
        if (flag.GetValueKind() == JsonValueKind.True && schema[inclusive] is { } bound)
        {
            schema.Remove(inclusive);
            schema[exclusive] = bound;
        }
    }

    private static JsonNode? Detach(JsonNode? node) => node?.DeepClone();

    [GeneratedRegex(@"/items/(\d+)")]
    private static partial Regex TupleItemRef();
}
