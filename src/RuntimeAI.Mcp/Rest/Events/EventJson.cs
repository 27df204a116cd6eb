using System.Text.Json.Nodes;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>The brief's Event as REST clients, streams and webhook receivers see it.</summary>
internal static class EventJson
{
    /// <summary>
    /// The event in the brief's shape (<c>id, runtime_id, type, severity, ts, actor, data</c>, plus our
    /// <c>principal</c> and <c>operation_id</c>), with <c>data</c> through the secret redactor: it leaves the server.
    /// </summary>
    public static JsonObject ToNode(RuntimeEvent runtimeEvent)
    {
        var node = CoreJson.ToNode(runtimeEvent, CoreJsonContext.Default.RuntimeEvent);
        node["severity"] ??= "info";
        if (node["data"] is JsonObject data)
        {
            node["data"] = SecretRedactor.Redact((JsonObject)data.DeepClone());
        }

        return node;
    }
}
