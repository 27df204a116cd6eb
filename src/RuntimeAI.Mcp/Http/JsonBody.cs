using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace RuntimeAI.Mcp.Http;

/// <summary>Checks that a request body is well-formed JSON, leaving the body readable again for the SDK.</summary>
internal static class JsonBody
{
    /// <summary>How deep the SDK reads a message (System.Text.Json's default).</summary>
    public const int MaxDepth = 64;

    /// <summary>Whether the body is JSON, how deeply it nests, and its top-level "id" when it is a string or number.</summary>
    public readonly record struct Shape(bool WellFormed, int Depth, JsonElement? Id);

    public static async Task<Shape> ReadShapeAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: limit);
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is { } length and > 0 and < 64 * 1024 ? (int)length : 4096);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer.GetMemory(4096), cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Advance(read);
            }
        }
        catch (IOException)
        {
            // Over the limit or cut off: the SDK reads the body again and reports it its own way.
            request.Body.Position = 0;
            return new Shape(true, 0, null);
        }

        request.Body.Position = 0;
        return Inspect(buffer.WrittenSpan);
    }

    private static Shape Inspect(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = int.MaxValue });
        var depth = 0;
        JsonElement? id = null;
        try
        {
            if (!reader.Read())
            {
                return new Shape(false, 0, null);
            }

            do
            {
                depth = Math.Max(depth, reader.CurrentDepth + (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray ? 1 : 0));
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("id"u8)
                    && reader.Read() && reader.TokenType is JsonTokenType.String or JsonTokenType.Number && Echoable(ref reader))
                {
                    using var doc = JsonDocument.ParseValue(ref reader);
                    id = doc.RootElement.Clone();
                }
            }
            while (reader.Read());

            return new Shape(true, depth, id);
        }
        catch (JsonException)
        {
            return new Shape(false, depth, null);
        }
    }

    /// <summary>Whether an id can be written back as it came: a string with a lone surrogate cannot.</summary>
    internal static bool Echoable(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return true;
        }

        try
        {
            _ = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
