using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RuntimeAI.Mcp.Rest;

/// <summary>What every REST handler shares: reading a body, the mutation query flags, writing a call's outcome.</summary>
internal static class RestIo
{
    /// <summary>Tool arguments from optional query values: a value left out of the request is left out of the call.</summary>
    public static JsonObject Arguments(params (string Name, JsonNode? Value)[] values)
    {
        var arguments = new JsonObject();
        foreach (var (name, value) in values)
        {
            if (value is not null)
            {
                arguments[name] = value;
            }
        }

        return arguments;
    }

    /// <summary>
    /// The JSON object body, or null after writing the problem (not JSON, not an object, wrong media
    /// type). An empty body is an empty object unless <paramref name="required"/>.
    /// </summary>
    public static async Task<JsonObject?> ReadBodyAsync(HttpContext http, bool required)
    {
        using var reader = new StreamReader(http.Request.Body);
        var text = await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            if (!required)
            {
                return [];
            }

            await RestProblem.WriteAsync(http, "invalid_body", "this request needs a JSON object body; send one with 'Content-Type: application/json' (the schema is in /v1/openapi.json)").ConfigureAwait(false);
            return null;
        }

        try
        {
            if (JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) is JsonObject body)
            {
                return body;
            }
        }
        catch (JsonException ex)
        {
            // The Content-Type is not checked before (curl -d sends form-urlencoded); it is named when the body is not JSON.
            var sentAs = http.Request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase) ? $" (it was sent as '{type}')" : string.Empty;
            await RestProblem.WriteAsync(http, "invalid_body", $"the body is not valid JSON{sentAs}: {ex.Message}; send one JSON object with 'Content-Type: application/json'").ConfigureAwait(false);
            return null;
        }

        await RestProblem.WriteAsync(http, "invalid_body", "the body must be a JSON object ({...}); send one JSON object").ConfigureAwait(false);
        return null;
    }

    /// <summary>Copies <c>?dry_run</c>, <c>?proposal_id</c> and the <c>Idempotency-Key</c> header into a mutation's arguments.</summary>
    public static bool ApplyMutationFlags(HttpContext http, JsonObject arguments, out string? problem)
    {
        problem = null;
        var query = http.Request.Query;
        if (query.TryGetValue("dry_run", out var dryRun))
        {
            if (!bool.TryParse(dryRun.ToString(), out var simulate))
            {
                problem = $"dry_run is '{dryRun}'; pass dry_run=true to simulate only, or leave it out";
                return false;
            }

            if (simulate)
            {
                arguments["dry_run"] = true;
            }
        }

        if (query.TryGetValue("proposal_id", out var proposal) && proposal.ToString().Length > 0)
        {
            arguments["proposal_id"] = proposal.ToString();
        }

        if (http.Request.Headers.TryGetValue("Idempotency-Key", out var key) && key.ToString().Length > 0)
        {
            if (arguments["idempotency_key"] is JsonValue body && body.TryGetValue<string>(out var inBody) && !string.Equals(inBody, key.ToString(), StringComparison.Ordinal))
            {
                problem = $"the Idempotency-Key header ('{key}') and the body's idempotency_key ('{inBody}') differ; send one of them";
                return false;
            }

            arguments["idempotency_key"] = key.ToString();
        }

        return true;
    }

    /// <summary>
    /// Writes a call's outcome the same way for every endpoint: the problem of a refused or failed call
    /// (403 with the policy rule ids when refused), 202 with the pending proposal and its Location, the
    /// simulation of a dry run, else what <paramref name="success"/> writes.
    /// </summary>
    public static Task WriteAsync(HttpContext http, RestCall call, Func<JsonObject, Task> success)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (call.IsError)
        {
            var extensions = new JsonObject { ["call_id"] = call.Context.CallId };
            if (call.Context.Decision is { } decision)
            {
                extensions["rule_ids"] = new JsonArray(decision.RuleIds.Select(r => (JsonNode)JsonValue.Create(r)).ToArray());
                extensions["decision"] = decision.ToJsonObject();
            }

            if (call.Context.ProposalId is { } proposalId)
            {
                extensions["proposal_id"] = proposalId;
            }

            return RestProblem.WriteAsync(http, call.ErrorCode ?? "internal_error", call.Text, extensions: extensions);
        }

        var structured = call.Structured ?? [];
        if (call.PendingApproval)
        {
            var id = structured["proposal_id"]!.GetValue<string>();
            http.Response.Headers.Location = $"{RestApi.Prefix}/proposals/{id}";
            structured["how_to_approve"] = $"another person with the approver role (never the requester) calls POST {RestApi.Prefix}/proposals/{id}/approve, or runs: runtimeai approve {id}";
            structured["then"] = $"repeat this request with ?proposal_id={id}; poll GET {RestApi.Prefix}/proposals/{id}";
            structured["message"] = call.Text;
            return RestJson.WriteAsync(http, StatusCodes.Status202Accepted, structured);
        }

        if (call.DryRunOnly)
        {
            structured["message"] = call.Text;
            return RestJson.WriteAsync(http, StatusCodes.Status200OK, structured);
        }

        return success(structured);
    }

    /// <summary>The brief's Operation from the engine's (adds <c>id</c>; the engine's <c>stuck</c> is failed with error code stuck).</summary>
    public static JsonObject ToOperation(JsonObject operation)
    {
        var result = new JsonObject();
        result["id"] = operation["operation_id"]?.DeepClone();
        foreach (var (key, value) in operation)
        {
            result[key] = value?.DeepClone();
        }

        if (result["status"]?.GetValue<string>() == "stuck")
        {
            result["status"] = "failed";
            result["error"] ??= new JsonObject { ["code"] = "stuck", ["message"] = "the operation is stuck and needs a human; see its events" };
        }

        // The engine keeps who ran it; the REST Operation shows only what the brief defines plus ids.
        result.Remove("actor");
        return result;
    }

    /// <summary>Writes an operation with 202 and a Location to poll.</summary>
    public static Task WriteOperationAsync(HttpContext http, JsonObject operation)
    {
        var body = ToOperation(operation);
        if (body["id"]?.GetValue<string>() is { } id)
        {
            http.Response.Headers.Location = $"{RestApi.Prefix}/operations/{id}";
        }

        return RestJson.WriteAsync(http, StatusCodes.Status202Accepted, body);
    }

    /// <summary>Parses a Kubernetes-style quantity (8Gi, 512Mi, 2G) into MiB; null when it is not one.</summary>
    public static long? MemoryMib(string text)
    {
        var units = new (string Suffix, double Mib)[] { ("Ki", 1.0 / 1024), ("Mi", 1), ("Gi", 1024), ("Ti", 1024 * 1024), ("K", 1000.0 / 1048576), ("M", 1e6 / 1048576), ("G", 1e9 / 1048576), ("T", 1e12 / 1048576) };
        foreach (var (suffix, mib) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0)
            {
                return (long)Math.Round(amount * mib);
            }
        }

        return null;
    }
}
