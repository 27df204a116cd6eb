using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Http;
using RuntimeAI.Mcp.Identity;

namespace RuntimeAI.Mcp.Rest;

/// <summary>
/// The brief's REST API under <c>/v1</c>, on the same host, authentication and pipeline as
/// <c>/mcp</c>. Every endpoint group is one static <c>Map(RouteGroupBuilder)</c> listed in
/// <see cref="s_groups"/>; a new group is one more line there.
/// </summary>
public static class RestApi
{
    /// <summary>The base path of the API (the brief's server URL ends in it).</summary>
    public const string Prefix = "/v1";

    /// <summary>Where the generated OpenAPI document is served.</summary>
    public const string OpenApiPath = Prefix + "/openapi.json";

    /// <summary>The paths under <see cref="Prefix"/> that answer without credentials (liveness and the contract).</summary>
    private static readonly string[] s_public = [Prefix + "/health", OpenApiPath];

    /// <summary>
    /// The endpoint groups, each behind the authentication of <c>/mcp</c>. Add new groups here
    /// (e.g. the events list and stream): a mutation goes through <see cref="RestGateway"/>, an
    /// error is written with <see cref="RestProblem"/>, a body type joins <see cref="RestJsonContext"/>.
    /// </summary>
    private static readonly Action<RouteGroupBuilder>[] s_groups =
    [
        RuntimeEndpoints.Map,
        Events.EventsApi.Map,
    ];

    /// <summary>Registers the gateway and the JSON contracts of the REST API.</summary>
    public static IServiceCollection AddRuntimeAiRest(this IServiceCollection services)
    {
        services.AddSingleton<RestGateway>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, RestJsonContext.Default));
        return services;
    }

    /// <summary>Maps <c>/v1</c>: the credential check, the public endpoints and every group.</summary>
    public static WebApplication MapRuntimeAiRest(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<RuntimeAiServerOptions>();
        // Runs after authentication: a /v1 request without valid credentials gets the same 401 and
        // WWW-Authenticate challenge as /mcp, with a problem body; unknown /v1 paths included (no probing).
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(Prefix, StringComparison.Ordinal)
                || s_public.Contains(context.Request.Path.Value, StringComparer.Ordinal)
                || !options.AuthEnabled)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            if (context.User.Identity?.IsAuthenticated != true)
            {
                await context.ChallengeAsync().ConfigureAwait(false);
                await RestProblem.WriteAsync(context, "unauthorized",
                    "this endpoint needs credentials: send 'Authorization: Bearer <access token or rtk_ API key>' (the WWW-Authenticate header names the protected resource metadata)",
                    StatusCodes.Status401Unauthorized).ConfigureAwait(false);
                return;
            }

            var principal = context.RequestServices.GetRequiredService<PrincipalResolver>().Resolve(context.User);
            if (principal.Roles.Count == 0)
            {
                await RestProblem.WriteAsync(context, "forbidden",
                    $"you are '{principal.Name}' with no role; ask an admin for a key or token with the viewer, operator, approver or admin role",
                    StatusCodes.Status403Forbidden).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });

        var group = app.MapGroup(Prefix);
        group.MapGet("/health", (RequestDelegate)(context =>
            RestJson.WriteAsync(context, StatusCodes.Status200OK, new System.Text.Json.Nodes.JsonObject { ["status"] = "ok", ["version"] = McpServerSetup.Version })));
        foreach (var map in s_groups)
        {
            map(group);
        }

        // Anything else under /v1 is a problem document, never an empty 404.
        group.MapFallback((RequestDelegate)(context => RestProblem.WriteAsync(context, "not_found",
            $"there is no {context.Request.Method} {context.Request.Path}; the API is described at {OpenApiPath}", StatusCodes.Status404NotFound)));
        return app;
    }
}
