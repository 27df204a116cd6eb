using System.Text.Json.Nodes;

namespace RuntimeAI.Mcp.Tools;

/// <summary>
/// A terse builder for the JSON schemas of tool inputs and outputs. The schemas are the action
/// contract (exported to tools-catalog/), so they are written by hand, strict (no extra
/// properties) and small (every byte is paid for in the model's context on tools/list).
/// </summary>
internal static class Schema
{
    public const string RuntimeIdPattern = "^rt_[0-9A-HJKMNP-TV-Z]{26}$";
    public const string OperationIdPattern = "^op_[0-9A-HJKMNP-TV-Z]{26}$";

    public static JsonObject Object(params Prop[] props) => Object(null, props);

    public static JsonObject Object(string? description, params Prop[] props)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var p in props)
        {
            properties[p.Name] = p.Schema;
            if (p.Required)
            {
                required.Add((JsonNode)JsonValue.Create(p.Name));
            }
        }

        var schema = new JsonObject { ["type"] = "object" };
        if (description is not null)
        {
            schema["description"] = description;
        }

        schema["properties"] = properties;
        if (required.Count > 0)
        {
            schema["required"] = required;
        }

        schema["additionalProperties"] = false;
        return schema;
    }

    /// <summary>An object with free-form members (used for outputs whose members are documented elsewhere).</summary>
    public static JsonObject OpenObject(string? description = null)
    {
        var schema = new JsonObject { ["type"] = "object" };
        if (description is not null)
        {
            schema["description"] = description;
        }

        return schema;
    }

    public static JsonObject String(string? description = null, string? pattern = null, int? maxLength = null, string? format = null, int? minLength = null)
    {
        var s = new JsonObject { ["type"] = "string" };
        if (description is not null)
        {
            s["description"] = description;
        }

        if (pattern is not null)
        {
            s["pattern"] = pattern;
        }

        if (minLength is not null)
        {
            s["minLength"] = minLength;
        }

        if (maxLength is not null)
        {
            s["maxLength"] = maxLength;
        }

        if (format is not null)
        {
            s["format"] = format;
        }

        return s;
    }

    public static JsonObject Enum(string? description, IEnumerable<string> values)
    {
        var s = new JsonObject { ["type"] = "string" };
        if (description is not null)
        {
            s["description"] = description;
        }

        s["enum"] = new JsonArray(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
        return s;
    }

    public static JsonObject Integer(string? description = null, long? minimum = null, long? maximum = null, long? @default = null)
    {
        var s = new JsonObject { ["type"] = "integer" };
        if (description is not null)
        {
            s["description"] = description;
        }

        if (minimum is not null)
        {
            s["minimum"] = minimum;
        }

        if (maximum is not null)
        {
            s["maximum"] = maximum;
        }

        if (@default is not null)
        {
            s["default"] = @default;
        }

        return s;
    }

    public static JsonObject Number(string? description = null, double? minimum = null, double? maximum = null)
    {
        var s = new JsonObject { ["type"] = "number" };
        if (description is not null)
        {
            s["description"] = description;
        }

        if (minimum is not null)
        {
            s["minimum"] = minimum;
        }

        if (maximum is not null)
        {
            s["maximum"] = maximum;
        }

        return s;
    }

    public static JsonObject Boolean(string? description = null, bool? @default = null)
    {
        var s = new JsonObject { ["type"] = "boolean" };
        if (description is not null)
        {
            s["description"] = description;
        }

        if (@default is not null)
        {
            s["default"] = @default;
        }

        return s;
    }

    public static JsonObject Array(JsonObject items, string? description = null, int? maxItems = null, int? minItems = null)
    {
        var s = new JsonObject { ["type"] = "array" };
        if (description is not null)
        {
            s["description"] = description;
        }

        s["items"] = items;
        if (minItems is not null)
        {
            s["minItems"] = minItems;
        }

        if (maxItems is not null)
        {
            s["maxItems"] = maxItems;
        }

        return s;
    }

    /// <summary>A map of string to string (labels).</summary>
    public static JsonObject StringMap(string? description = null, int maxProperties = 64)
    {
        var s = new JsonObject { ["type"] = "object" };
        if (description is not null)
        {
            s["description"] = description;
        }

        s["additionalProperties"] = new JsonObject { ["type"] = "string", ["maxLength"] = 253 };
        s["maxProperties"] = maxProperties;
        return s;
    }

    public static JsonObject Nullable(JsonObject schema)
    {
        var type = schema["type"]!.GetValue<string>();
        schema["type"] = new JsonArray(type, "null");
        return schema;
    }

    public static Prop Required(string name, JsonObject schema) => new(name, schema, true);

    public static Prop Optional(string name, JsonObject schema) => new(name, schema, false);

    // The shared inputs below (paging, runtime_id, reasoning, dry_run, proposal_id, idempotency_key)
    // carry no description: the server instructions describe them once for every tool, and their
    // patterns and bounds say the rest.

    /// <summary>The common paging inputs of list tools.</summary>
    public static Prop[] Paging(int defaultSize = 50) =>
    [
        Optional("page_size", Integer(null, 1, 200, defaultSize)),
        Optional("page_token", String(null, maxLength: 512)),
    ];

    public static Prop RuntimeId(string? description = null) =>
        Required("runtime_id", String(description, RuntimeIdPattern));

    /// <summary>The optional free-text reasoning every tool accepts for the audit trail.</summary>
    public static Prop Reasoning() =>
        Optional("reasoning", String(null, maxLength: 4000));

    /// <summary>The governance inputs every execute tool accepts: simulate only, or redeem an approval.</summary>
    public static Prop[] Governed() =>
    [
        Optional("dry_run", Boolean()),
        Optional("proposal_id", String(null, "^prp_[0-9A-HJKMNP-TV-Z]{26}$")),
        IdempotencyKey(),
    ];

    /// <summary>The caller's key for safe retries: the same key and arguments return the first operation.</summary>
    public static Prop IdempotencyKey() =>
        Optional("idempotency_key", String(maxLength: 128));

    /// <summary>A list page: <c>{items: [...], next_page_token}</c>.</summary>
    public static JsonObject PageOf(JsonObject item) => Output(
        Required("items", Array(item)),
        Required("next_page_token", Nullable(String())));

    /// <summary>
    /// An output object: the members a client can rely on, open to more (a new member is not a
    /// breaking change, and inputs are where strictness protects the server).
    /// </summary>
    public static JsonObject Output(params Prop[] props)
    {
        var schema = Object(props);
        schema.Remove("additionalProperties");
        return schema;
    }

    // Output rows declare only the members a client can rely on; the rest are documented in the
    // catalog's description of the domain. Every byte here is paid on each tools/list.
    public static JsonObject RuntimeRow() => Row("id", "name", "type", "state");

    public static JsonObject OperationRow() => Row("operation_id", "status");

    public static JsonObject EventRow() => Row("id", "runtime_id", "type", "ts");

    /// <summary>An open object whose listed members are strings that are always present.</summary>
    public static JsonObject Row(params string[] requiredStrings)
    {
        var properties = new JsonObject();
        foreach (var name in requiredStrings)
        {
            properties[name] = new JsonObject { ["type"] = "string" };
        }

        return new JsonObject { ["type"] = "object", ["properties"] = properties };
    }
}

/// <summary>One property of an object schema.</summary>
internal sealed record Prop(string Name, JsonObject Schema, bool Required);
