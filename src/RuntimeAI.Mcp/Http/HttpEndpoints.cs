using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.AspNetCore;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Rest;

namespace RuntimeAI.Mcp.Http;

/// <summary>
/// The HTTP face of the server: Streamable HTTP at <c>/mcp</c> (stateless for 2026-07-28 clients,
/// sessions for clients that still send <c>initialize</c>), legacy HTTP+SSE at <c>/sse</c> and
/// <c>/message</c>, and <c>/healthz</c> / <c>/readyz</c>; all behind the Origin/Host guard and a body cap.
/// </summary>
public static class HttpEndpoints
{
    /// <summary>Readiness checks contributed by the host (store, backends); each returns null when ready.</summary>
    public delegate Task<string?> ReadinessCheck(CancellationToken cancellationToken);

    /// <summary>Adds the HTTP transport to the MCP server builder.</summary>
    public static IMcpServerBuilder WithRuntimeAiHttpTransport(this IMcpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<OriginGuard>();
        builder.Services.AddRuntimeAiRest();
        return builder.WithHttpTransport(o =>
        {
            o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
            // Older clients (HTTP+SSE era) are still in the field; the SSE endpoints sit behind the same
            // Origin/Host guard and loopback bind as /mcp.
#pragma warning disable MCP9004
            o.EnableLegacySse = true;
#pragma warning restore MCP9004
        });
    }

    /// <summary>Maps every endpoint and the guard middleware.</summary>
    public static WebApplication MapRuntimeAiHttp(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<RuntimeAiServerOptions>();
        var guard = app.Services.GetRequiredService<OriginGuard>();

        app.Use(async (context, next) =>
        {
            if (guard.Check(context.Request) is { } reason)
            {
                await OriginGuard.RejectAsync(context, reason).ConfigureAwait(false);
                return;
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = options.MaxRequestBodyBytes;
            }

            if (context.Request.ContentLength > options.MaxRequestBodyBytes)
            {
                await WriteJsonRpcErrorAsync(context, StatusCodes.Status413PayloadTooLarge, -32600,
                    $"Invalid Request: the body of {context.Request.ContentLength} bytes exceeds the limit of {options.MaxRequestBodyBytes}; send a smaller request").ConfigureAwait(false);
                return;
            }

            // Legacy HTTP+SSE clients expect /sse and /message at the root.
            if (context.Request.Path.Equals("/sse", StringComparison.Ordinal) || context.Request.Path.Equals("/message", StringComparison.Ordinal))
            {
                context.Request.Path = "/mcp" + context.Request.Path;
            }

            // A body that is not JSON is a JSON-RPC parse error (-32700), which the SDK calls an invalid
            // request; one nested deeper than the SDK reads is refused here with its id, which the SDK loses.
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments("/mcp", StringComparison.Ordinal))
            {
                var shape = await JsonBody.ReadShapeAsync(context.Request, options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
                if (!shape.WellFormed)
                {
                    await WriteJsonRpcErrorAsync(context, StatusCodes.Status400BadRequest, -32700,
                        "Parse error: the request body is not valid JSON. Send one JSON-RPC 2.0 message, encoded as UTF-8 JSON.").ConfigureAwait(false);
                    return;
                }

                if (shape.Depth > JsonBody.MaxDepth)
                {
                    await WriteJsonRpcErrorAsync(context, StatusCodes.Status400BadRequest, -32600,
                        $"Invalid Request: the message nests {shape.Depth} levels deep; at most {JsonBody.MaxDepth} are read. Flatten the arguments.",
                        shape.Id).ConfigureAwait(false);
                    return;
                }
            }

            await next(context).ConfigureAwait(false);
        });

        // Routing runs after the guard and the legacy-path rewrite.
        app.UseRouting();
        if (options.AuthEnabled)
        {
            // Also serves the Protected Resource Metadata (the MCP SDK's handler answers its well-known path).
            app.UseAuthentication();
            app.UseAuthorization();
        }

        app.MapGet("/healthz", (RequestDelegate)(context => WriteJsonAsync(context, StatusCodes.Status200OK,
            new JsonObject { ["status"] = "ok", ["version"] = McpServerSetup.Version })));
        app.MapGet("/readyz", (RequestDelegate)(async context =>
        {
            var problems = new JsonArray();
            foreach (var check in context.RequestServices.GetServices<ReadinessCheck>())
            {
                if (await check(context.RequestAborted).ConfigureAwait(false) is { } problem)
                {
                    problems.Add((JsonNode)JsonValue.Create(problem));
                }
            }

            await WriteJsonAsync(context, problems.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
                new JsonObject { ["status"] = problems.Count == 0 ? "ready" : "not_ready", ["problems"] = problems }).ConfigureAwait(false);
        }));
        // The REST API (/v1) shares the guard, the authentication and the pipeline.
        app.MapRuntimeAiRest();
        var mcp = app.MapMcp("/mcp");
        if (options.AuthEnabled)
        {
            mcp.RequireAuthorization(HttpAuthentication.Policy);
        }

        return app;
    }

    private static Task WriteJsonRpcErrorAsync(HttpContext context, int status, int code, string message, System.Text.Json.JsonElement? id = null) =>
        WriteJsonAsync(context, status, new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id is { } value ? JsonNode.Parse(value.GetRawText()) : null,
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
        });

    private static Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8, context.RequestAborted);
    }
}
