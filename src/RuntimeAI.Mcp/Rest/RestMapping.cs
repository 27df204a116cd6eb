using System.Text.Json.Nodes;

namespace RuntimeAI.Mcp.Rest;

/// <summary>Tool answers reshaped into the brief's schemas where the two differ.</summary>
internal static class RestMapping
{
    /// <summary>get_runtime_status → the brief's RuntimeStatus (signals as name → {value, unit, ts}).</summary>
    public static JsonObject ToRuntimeStatus(JsonObject status)
    {
        var result = (JsonObject)status.DeepClone();
        if (result["health"]?.GetValue<string>() is { } health && health is not ("ok" or "warning" or "critical" or "unknown"))
        {
            result["health_detail"] = health;
            result["health"] = "unknown";
        }

        return result;
    }
}
