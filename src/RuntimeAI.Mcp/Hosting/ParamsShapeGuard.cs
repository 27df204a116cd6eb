using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace RuntimeAI.Mcp.Hosting;

/// <summary>
/// Answers a request whose params do not have the shape of its method with invalid params
/// (-32602) naming the problem, where the SDK would answer an internal error (-32603, "An error
/// occurred.") after its deserializer threw: e.g. tools/call with <c>"arguments": "x"</c>.
/// </summary>
internal static class ParamsShapeGuard
{
    public static McpMessageHandler Filter(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is not JsonRpcRequest request)
        {
            await next(context, cancellationToken).ConfigureAwait(false);
            return;
        }

        // A repeated property name is refused outright: readers disagree on which copy wins (the schema
        // firewall could check one value and a tool use the other), and System.Text.Json throws on it lazily.
        var problem = RepeatedProperty(request) is { } repeated
            ? $"Invalid params for '{request.Method}': the property '{repeated}' appears twice in one object; send each property once."
            : Problem(request);
        if (problem is not null)
        {
            throw new McpProtocolException(problem, McpErrorCode.InvalidParams);
        }

        try
        {
            await next(context, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            // Only the SDK's reading of the params throws this here: our tools and pipeline turn
            // their own failures into tool results.
            var where = string.IsNullOrEmpty(ex.Path) ? "params" : "params" + ex.Path.TrimStart('$');
            throw new McpProtocolException(
                $"Invalid params for '{request.Method}': {where} has the wrong type or shape; see the MCP specification of {request.Method}.",
                McpErrorCode.InvalidParams);
        }
    };

    /// <summary>What is wrong with the request's params, or null when their outer shape is right.</summary>
    internal static string? Problem(JsonRpcRequest request)
    {
        var parameters = request.Params;
        if (parameters is null)
        {
            return request.Method == RequestMethods.ToolsCall
                ? "Invalid params for 'tools/call': params is missing; send {\"name\": <tool name>, \"arguments\": {…}}."
                : null;
        }

        if (parameters is not JsonObject body)
        {
            return $"Invalid params for '{request.Method}': params must be a JSON object, got {Kind(parameters)}.";
        }

        if (request.Method != RequestMethods.ToolsCall)
        {
            return null;
        }

        if (body["name"] is not JsonValue name || name.GetValueKind() != JsonValueKind.String)
        {
            return $"Invalid params for 'tools/call': name must be the tool's name as a string, got {Kind(body["name"])}; call tools/list for the names.";
        }

        return body["arguments"] switch
        {
            null or JsonObject => null,
            var other => $"Invalid params for 'tools/call': arguments must be a JSON object of the tool's inputs, got {Kind(other)}; see the tool's inputSchema in tools/list.",
        };
    }

    /// <summary>The first property name repeated within one object of the params, or null.</summary>
    internal static string? RepeatedProperty(JsonRpcRequest request)
    {
        if (request.Params is not JsonObject and not JsonArray)
        {
            return null;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(request.Params, McpJsonContext.Default.JsonNode);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 1_000 });
        var names = new Stack<HashSet<string>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        names.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.EndObject:
                        names.Pop();
                        break;
                    case JsonTokenType.PropertyName when !names.Peek().Add(reader.GetString()!):
                        return reader.GetString();
                }
            }
        }
        catch (JsonException)
        {
            // Deeper than any request needs: the SDK's reader refuses it with its own error.
        }

        return null;
    }

    private static string Kind(JsonNode? node) => node switch
    {
        null => "nothing",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
    };
}
