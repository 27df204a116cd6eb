using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Mcp.Http;

/// <summary>
/// DNS-rebinding protection the SDK leaves to the host: the Host header must name this server
/// (loopback names, or what the operator allowed) and a browser Origin, when sent, must be a
/// loopback origin or one the operator allowed. Anything else gets 403 before MCP sees it.
/// </summary>
internal sealed class OriginGuard(RuntimeAiServerOptions options)
{
    private static readonly System.Text.Json.JsonSerializerOptions s_json = new(McpJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly HashSet<string> _allowedHosts = new(options.AllowedHosts, StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _allowedOrigins = new(options.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);

    /// <summary>Null when the request may pass; otherwise why not.</summary>
    public string? Check(HttpRequest request)
    {
        var host = request.Host.Host;
        if (string.IsNullOrEmpty(host) || !(IsLoopbackName(host) || _allowedHosts.Contains(host) || _allowedHosts.Contains(request.Host.Value ?? string.Empty)))
        {
            return $"Host '{request.Host.Value}' is not allowed (DNS rebinding protection); connect via 127.0.0.1 or localhost, or add the name to allowed_hosts";
        }

        if (request.Headers.Origin is { Count: > 0 } origins)
        {
            var origin = origins.ToString().TrimEnd('/');
            if (!IsAllowedOrigin(origin))
            {
                return $"Origin '{origin}' is not allowed; only loopback origins and those in allowed_origins may call this server";
            }
        }

        return null;
    }

    private bool IsAllowedOrigin(string origin)
    {
        if (_allowedOrigins.Contains(origin))
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
               && uri.Scheme is "http" or "https"
               && IsLoopbackName(uri.Host);
    }

    private static bool IsLoopbackName(string host)
    {
        var h = host.Trim('[', ']');
        return string.Equals(h, "localhost", StringComparison.OrdinalIgnoreCase)
               || (IPAddress.TryParse(h, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>Writes the refusal as a JSON-RPC error body with status 403.</summary>
    public static async Task RejectAsync(HttpContext context, string reason)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "application/json";
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = null,
            ["error"] = new System.Text.Json.Nodes.JsonObject { ["code"] = -32600, ["message"] = reason },
        };
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body.ToJsonString(s_json)), context.RequestAborted).ConfigureAwait(false);
    }
}
