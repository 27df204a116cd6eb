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

    /// <summary>The document name, chosen so the route <c>/v1/{documentName}.json</c> is <see cref="OpenApiPath"/>.</summary>
    private const string OpenApiDocumentName = "openapi";

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
        LifecycleEndpoints.Map,
        IntentEndpoints.Map,
        PolicyEndpoints.Map,
        ProposalEndpoints.Map,
        AuditEndpoints.Map,
    ];

    /// <summary>
    /// Runs the endpoint; an error status the framework set without a body (a query parameter that
    /// does not bind, a method the path does not have) becomes a problem document too.
    /// </summary>
    private static async Task NextWithProblemsAsync(HttpContext context, RequestDelegate next)
    {
        await next(context).ConfigureAwait(false);
        if (context.Response.HasStarted || context.Response.StatusCode < 400 || context.Response.ContentLength > 0 || context.Response.ContentType is not null)
        {
            return;
        }

        var (code, detail) = context.Response.StatusCode switch
        {
            StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", $"{context.Request.Path} does not take {context.Request.Method}; the methods of each path are in {OpenApiPath}"),
            StatusCodes.Status404NotFound => ("not_found", $"there is no {context.Request.Method} {context.Request.Path}; the API is described at {OpenApiPath}"),
            StatusCodes.Status415UnsupportedMediaType => ("unsupported_media_type", "send the body as JSON with 'Content-Type: application/json'"),
            _ => ("invalid_params", $"a query parameter or header of {context.Request.Method} {context.Request.Path} has a value of the wrong type (e.g. page_size=abc, type=cow); the parameters and their types are in {OpenApiPath}"),
        };
        await RestProblem.WriteAsync(context, code, detail, context.Response.StatusCode).ConfigureAwait(false);
    }

    /// <summary>Registers the gateway and the JSON contracts of the REST API.</summary>
    public static IServiceCollection AddRuntimeAiRest(this IServiceCollection services)
    {
        services.AddSingleton<RestGateway>();
        services.AddSingleton<RestAuditedAction>();
        services.ConfigureHttpJsonOptions(o =>
        {
            // The brief's wire names (snake_case), nulls left out, numbers as numbers: the OpenAPI
            // generator reads the contracts through these options.
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, RestJsonContext.Default);
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        services.AddOpenApi(OpenApiDocumentName, o =>
        {
            o.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1;
            o.ShouldInclude = d => d.RelativePath?.StartsWith(Prefix[1..] + "/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer(RestOpenApi.TransformDocumentAsync);
            o.CreateSchemaReferenceId = RestOpenApi.SchemaId;
            o.AddSchemaTransformer(RestOpenApi.ProfileEnums);
        });
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
            if (!context.Request.Path.StartsWithSegments(Prefix, StringComparison.Ordinal))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            if (s_public.Contains(context.Request.Path.Value, StringComparer.Ordinal) || !options.AuthEnabled)
            {
                await NextWithProblemsAsync(context, next).ConfigureAwait(false);
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

            await NextWithProblemsAsync(context, next).ConfigureAwait(false);
        });

        var group = app.MapGroup(Prefix);
        group.MapGet("/health", (HttpContext context, CancellationToken cancellationToken) =>
            RestJson.WriteAsync(context, StatusCodes.Status200OK, new System.Text.Json.Nodes.JsonObject { ["status"] = "ok", ["version"] = McpServerSetup.Version }))
            .WithName("getHealth").WithTags("Health").Produces<HealthResponse>();
        app.MapOpenApi(Prefix + "/{documentName}.json");
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
