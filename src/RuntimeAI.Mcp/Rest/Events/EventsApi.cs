using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Mcp.Identity;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>
/// <c>GET /runtimes/{runtime_id}/events</c> (the brief's list, paginated) and
/// <c>GET /events/stream</c> (Server-Sent Events with <c>Last-Event-ID</c> resume), both scoped by
/// the caller's tenants: another tenant's runtime is "not found", its events never appear.
/// </summary>
public static class EventsApi
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 500;

    /// <summary>Maps the event and webhook endpoints on the <c>/v1</c> group (listed in <see cref="RestApi"/>'s groups).</summary>
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapEventsApi();
        v1.MapWebhooksApi();
    }

    /// <summary>Maps the event endpoints on the <c>/v1</c> group.</summary>
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder v1)
    {
        ArgumentNullException.ThrowIfNull(v1);
        // Parameters are read as text by the handler (a bad value gets a problem in our words); the
        // signature and the transformer only document them, with the brief's types.
        v1.MapGet("/runtimes/{runtime_id}/events", ListAsync).WithName("listEvents").WithTags("Events")
            .Produces<RestEventListResponse>()
            .AddOpenApiOperationTransformer(RestOpenApi.EnumParameters(("since", typeof(DateTimeOffset?)), ("limit", typeof(int?))));
        v1.MapGet("/events/stream", (RequestDelegate)StreamAsync).WithName("streamEvents");
        return v1;
    }

    /// <summary>The services the event endpoints need.</summary>
    public static IServiceCollection AddRuntimeAiEvents(this IServiceCollection services, EventsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddSingleton<EventStream>();
        services.AddSingleton<WebhookDeliveryWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDeliveryWorker>());
        return services;
    }

    private static async Task ListAsync(
        HttpContext context,
        [FromRoute(Name = "runtime_id")] string runtimeId,
        [FromQuery(Name = "since")] string? since,
        [FromQuery(Name = "limit")] string? limit,
        [FromQuery(Name = "type")] string? type,
        [FromQuery(Name = "page_token")] string? pageToken)
    {
        var result = await ListResultAsync(context, runtimeId, since, limit, type, pageToken).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    private static async Task<IResult> ListResultAsync(HttpContext context, string runtimeId, string? sinceText, string? limitText, string? type, string? pageToken)
    {
        var principal = Caller(context);
        if (!principal.Has(Role.Viewer))
        {
            return EventsProblem.Forbidden("listing events needs the viewer role (or operator, approver, admin); ask an admin for a key or token with one");
        }

        var inventory = new TenantScopedInventory(context.RequestServices.GetRequiredService<IRuntimeInventory>(), principal);
        if (await inventory.GetRuntimeAsync(runtimeId, context.RequestAborted).ConfigureAwait(false) is null)
        {
            return EventsProblem.NotFound($"runtime '{runtimeId}' not found; GET /v1/runtimes lists the runtimes you can see");
        }

        var errors = new List<string>();
        var since = ParseSince(sinceText, errors);
        var limit = DefaultLimit;
        if (limitText is not null &&
            (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors.Add($"limit '{limitText}' must be a whole number from 1 to {MaxLimit}");
        }

        if (errors.Count > 0)
        {
            return EventsProblem.BadRequest(string.Join("; ", errors));
        }

        try
        {
            var page = await inventory.ListEventsAsync(new EventQuery
            {
                RuntimeId = runtimeId,
                TypePrefix = type is { Length: > 0 } ? type : null,
                Since = since,
                PageSize = limit,
                PageToken = pageToken is { Length: > 0 } ? pageToken : null,
            }, context.RequestAborted).ConfigureAwait(false);
            var items = new JsonArray(page.Items.Select(e => (JsonNode)EventJson.ToNode(e)).ToArray());
            return EventsProblem.Json(new JsonObject { ["items"] = items, ["next_page_token"] = page.NextPageToken });
        }
        catch (InvalidPageTokenException ex)
        {
            return EventsProblem.BadRequest(ex.Message);
        }
    }

    private static async Task StreamAsync(HttpContext context)
    {
        var principal = Caller(context);
        if (!principal.Has(Role.Viewer))
        {
            await EventsProblem.Forbidden("streaming events needs the viewer role (or operator, approver, admin); ask an admin for a key or token with one")
                .ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var errors = new List<string>();
        var since = ParseSince(context.Request.Query["since"], errors);
        var runtimeId = context.Request.Query["runtime_id"].ToString() is { Length: > 0 } rt ? rt : null;
        var tenant = context.Request.Query["tenant"].ToString() is { Length: > 0 } t ? t : null;
        var stream = context.RequestServices.GetRequiredService<EventStream>();
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } header
            ? header
            : context.Request.Query["last_event_id"].ToString();
        var (afterSeq, startError) = await stream.StartAsync(lastEventId, since, context.RequestAborted).ConfigureAwait(false);
        if (startError is not null)
        {
            errors.Add(startError);
        }

        if (errors.Count > 0)
        {
            await EventsProblem.BadRequest(string.Join("; ", errors)).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (tenant is not null && !principal.CanSee(tenant))
        {
            await EventsProblem.NotFound($"tenant '{tenant}' not found; you can stream the tenants of your key or token ({string.Join(", ", principal.Tenants)})")
                .ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (runtimeId is not null)
        {
            var inventory = new TenantScopedInventory(context.RequestServices.GetRequiredService<IRuntimeInventory>(), principal);
            if (await inventory.GetRuntimeAsync(runtimeId, context.RequestAborted).ConfigureAwait(false) is null)
            {
                await EventsProblem.NotFound($"runtime '{runtimeId}' not found; GET /v1/runtimes lists the runtimes you can see")
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
        }

        await stream.WriteAsync(context, new EventFeedQuery
        {
            AfterSeq = afterSeq,
            RuntimeId = runtimeId,
            TenantId = tenant,
            VisibleTenantIds = principal.AllTenants ? null : principal.Tenants,
            Since = since,
        }, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The caller, from what the transport authenticated (never from the request).</summary>
    internal static Principal Caller(HttpContext context) =>
        context.RequestServices.GetRequiredService<PrincipalResolver>().Resolve(context.User);

    private static DateTimeOffset? ParseSince(Microsoft.Extensions.Primitives.StringValues value, List<string> errors)
    {
        if (value.Count == 0 || string.IsNullOrEmpty(value[0]))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var since))
        {
            return since;
        }

        errors.Add($"since '{value[0]}' is not a date-time; send RFC 3339, e.g. 2026-12-07T05:00:00Z");
        return null;
    }
}
