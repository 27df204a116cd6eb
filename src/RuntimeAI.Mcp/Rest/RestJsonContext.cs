using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace RuntimeAI.Mcp.Rest;

/// <summary>
/// Source-generated JSON for the REST API: the brief's component schemas (snake_case, nulls left
/// out) and the free-form bodies. Registered first in the HTTP JSON options so the OpenAPI
/// generator reads the same contracts the handlers write.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = false)]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(RuntimeAI.Core.Runtimes.Runtime))]
[JsonSerializable(typeof(RuntimeAI.Core.Runtimes.RuntimeCreateRequest))]
[JsonSerializable(typeof(RestOperation))]
[JsonSerializable(typeof(RestRuntimeListResponse))]
[JsonSerializable(typeof(RestEventListResponse))]
[JsonSerializable(typeof(DateTimeOffset?))]
[JsonSerializable(typeof(RestRuntimeStatus))]
[JsonSerializable(typeof(RestLifecycleStartRequest))]
[JsonSerializable(typeof(RestLifecycleStopRequest))]
[JsonSerializable(typeof(RestLifecycleScaleRequest))]
[JsonSerializable(typeof(RestLifecycleSnapshotRequest))]
[JsonSerializable(typeof(RestLifecycleRestoreRequest))]
[JsonSerializable(typeof(RestIntentRequest))]
[JsonSerializable(typeof(RestIntentResponse))]
[JsonSerializable(typeof(RestIntentRecord))]
[JsonSerializable(typeof(RestActionPlanRequest))]
[JsonSerializable(typeof(RestActionPlan))]
[JsonSerializable(typeof(RestActionExecutionRequest))]
[JsonSerializable(typeof(RestPolicyCreateRequest))]
[JsonSerializable(typeof(RestPolicy))]
[JsonSerializable(typeof(RestPolicyListResponse))]
[JsonSerializable(typeof(RestPendingApproval))]
[JsonSerializable(typeof(RestProposalDecision))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool?))]
[JsonSerializable(typeof(int?))]
[JsonSerializable(typeof(RuntimeAI.Core.Runtimes.RuntimeType?))]
[JsonSerializable(typeof(RuntimeAI.Core.Runtimes.RuntimeState?))]
internal sealed partial class RestJsonContext : JsonSerializerContext;

/// <summary>Writing JSON bodies without reflection.</summary>
internal static class RestJson
{
    // Bodies are JSON (never HTML), so quotes and apostrophes in messages stay readable.
    private static readonly JsonSerializerOptions s_write = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, int status, JsonNode body, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body.ToJsonString(s_write), Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
    }
}

/// <summary>GET /v1/health.</summary>
/// <param name="Status">ok while the server answers.</param>
/// <param name="Version">The server version.</param>
internal sealed record HealthResponse(string Status, string Version);
