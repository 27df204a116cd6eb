using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RuntimeAI.Mcp;

/// <summary>Source-generated JSON for the MCP layer's own shapes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class McpJsonContext : JsonSerializerContext;
