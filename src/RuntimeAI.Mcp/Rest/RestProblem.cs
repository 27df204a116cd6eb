using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RuntimeAI.Mcp.Rest;

/// <summary>
/// RFC 9457 problem details, the one error shape of the REST API. The <c>detail</c> carries the
/// same wording an MCP client reads in the tool error (what is wrong and how to fix it); <c>code</c>
/// is the same machine-readable code as the tool error's <c>error.code</c>.
/// </summary>
public static class RestProblem
{
    /// <summary>The media type of every error body.</summary>
    public const string ContentType = "application/problem+json";

    /// <summary>The base of the problem type URIs (one per code; they are identifiers, not pages).</summary>
    public const string TypeBase = "https://runtimeai.dev/problems/";

    /// <summary>The HTTP status a tool error code maps to.</summary>
    public static int StatusOf(string? code) => code switch
    {
        "not_found" => StatusCodes.Status404NotFound,
        "unauthorized" => StatusCodes.Status401Unauthorized,
        "forbidden" or "tenant_required" or "autonomy_denied" or "denied_by_policy" or "blocked_by_safety" or "approval_rejected" or "safe_mode"
            => StatusCodes.Status403Forbidden,
        "approval_invalid" or "idempotency_conflict" or "invalid_state" or "conflict" => StatusCodes.Status409Conflict,
        "unsupported_media_type" => StatusCodes.Status415UnsupportedMediaType,
        "payload_too_large" => StatusCodes.Status413PayloadTooLarge,
        "unavailable" or "no_backend" or "dry_run_unavailable" => StatusCodes.Status503ServiceUnavailable,
        "internal_error" or "failed_compensated" or "stuck" => StatusCodes.Status500InternalServerError,
        "method_not_allowed" => StatusCodes.Status405MethodNotAllowed,
        _ when code is not null && (code.StartsWith("invalid", StringComparison.Ordinal) || code is "not_supported" or "unsupported_action" or "no_signal_history")
            => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The problem document for a code and its message.</summary>
    public static JsonObject Create(int status, string code, string detail, string? instance = null, JsonObject? extensions = null)
    {
        var problem = new JsonObject
        {
            ["type"] = TypeBase + code.Replace('_', '-'),
            ["title"] = Title(status),
            ["status"] = status,
            ["detail"] = RuntimeAI.Core.Audit.SecretRedactor.RedactText(detail),
            ["code"] = code,
        };
        if (instance is not null)
        {
            problem["instance"] = instance;
        }

        if (extensions is not null)
        {
            foreach (var (key, value) in extensions)
            {
                problem[key] = value?.DeepClone();
            }
        }

        return problem;
    }

    /// <summary>Writes a problem (status from the code unless given).</summary>
    public static Task WriteAsync(HttpContext context, string code, string detail, int? status = null, JsonObject? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var code_ = status ?? StatusOf(code);
        var body = Create(code_, code, detail, context.Request.Path.Value, extensions);
        return RestJson.WriteAsync(context, code_, body, ContentType);
    }

    private static string Title(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
}
