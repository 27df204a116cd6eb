using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>
/// Webhook subscriptions under <c>/webhooks</c>: create (the secret is in this answer only), list,
/// get, delete, a subscription's deliveries; and, for admins, dead letters and their redelivery.
/// A caller sees and manages only subscriptions of its tenants; one without a tenant (every
/// tenant's events) is for admins. Creating, deleting and redelivering are audited mutations.
/// </summary>
public static class WebhooksApi
{
    private const int MaxEventTypes = 32;

    /// <summary>Maps the webhook endpoints on the <c>/v1</c> group.</summary>
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder v1)
    {
        ArgumentNullException.ThrowIfNull(v1);
        v1.MapPost("/webhooks", (RequestDelegate)(c => Run(c, CreateAsync))).WithName("createWebhook");
        v1.MapGet("/webhooks", (RequestDelegate)(c => Run(c, ListAsync))).WithName("listWebhooks");
        v1.MapGet("/webhooks/dead-letters", (RequestDelegate)(c => Run(c, DeadLettersAsync))).WithName("listWebhookDeadLetters");
        v1.MapPost("/webhooks/deliveries/{delivery_id}/redeliver", (RequestDelegate)(c => Run(c, RedeliverAsync))).WithName("redeliverWebhook");
        v1.MapGet("/webhooks/{webhook_id}", (RequestDelegate)(c => Run(c, GetAsync))).WithName("getWebhook");
        v1.MapDelete("/webhooks/{webhook_id}", (RequestDelegate)(c => Run(c, DeleteAsync))).WithName("deleteWebhook");
        v1.MapGet("/webhooks/{webhook_id}/deliveries", (RequestDelegate)(c => Run(c, DeliveriesAsync))).WithName("listWebhookDeliveries");
        return v1;
    }

    private static async Task Run(HttpContext context, Func<HttpContext, Principal, Task<IResult>> handler)
    {
        var result = await handler(context, EventsApi.Caller(context)).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, Principal principal)
    {
        var services = context.RequestServices;
        var time = services.GetRequiredService<TimeProvider>();
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) as JsonObject;
        }
        catch (JsonException ex)
        {
            return EventsProblem.BadRequest($"the body is not valid JSON ({ex.Message}); send {{\"url\": \"https://…\", \"tenant_id\": \"…\", \"event_types\": [\"lifecycle.*\"]}}");
        }

        if (body is null)
        {
            return EventsProblem.BadRequest("the body must be a JSON object, e.g. {\"url\": \"https://hooks.example.com/runtimeai\", \"event_types\": [\"lifecycle.*\"]}");
        }

        // Audited from here on: the arguments are recorded without any secret (none is sent; the URL passes the redactor).
        var audit = services.GetRequiredService<IAuditLog>();
        var callId = services.GetRequiredService<IdGenerator>().New("call");
        var arguments = new JsonObject
        {
            ["url"] = body["url"] is JsonValue u && u.TryGetValue<string>(out var urlText) ? SecretRedactor.RedactText(urlText) : null,
            ["tenant_id"] = body["tenant_id"]?.DeepClone(),
            ["runtime_id"] = body["runtime_id"]?.DeepClone(),
            ["event_types"] = body["event_types"]?.DeepClone(),
        };
        await audit.BeginAsync(Begin(callId, "webhooks.create", principal, arguments, time), context.RequestAborted).ConfigureAwait(false);
        var (result, outcome, detail, runtimeId) = await ValidateAndAddAsync(context, principal, body, time).ConfigureAwait(false);
        await audit.EndAsync(new AuditEnd { CallId = callId, Ts = time.GetUtcNow(), Outcome = outcome, Detail = detail, RuntimeId = runtimeId }, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    private static async Task<(IResult Result, string Outcome, string Detail, string? RuntimeId)> ValidateAndAddAsync(HttpContext context, Principal principal, JsonObject body, TimeProvider time)
    {
        var services = context.RequestServices;
        if (!principal.Has(Role.Operator))
        {
            const string why = "creating a webhook needs the operator or admin role; ask an admin for a key or token with one";
            return (EventsProblem.Forbidden(why), "refused", why, null);
        }

        var errors = new List<string>();
        var unknown = body.Select(p => p.Key).Except(["url", "tenant_id", "runtime_id", "event_types", "description"], StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            errors.Add($"unknown member(s) {string.Join(", ", unknown)}; a webhook takes url, tenant_id, runtime_id, event_types, description");
        }

        var url = ReadUrl(body["url"], errors);
        var tenantId = ReadString(body, "tenant_id", errors);
        var runtimeId = ReadString(body, "runtime_id", errors);
        var description = ReadString(body, "description", errors);
        var types = new List<string>();
        if (body["event_types"] is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is JsonValue v && v.TryGetValue<string>(out var type) && type.Length is > 0 and <= 128 && !type[..^1].Contains('*', StringComparison.Ordinal))
                {
                    types.Add(type);
                }
                else
                {
                    errors.Add($"event_types entry {item?.ToJsonString() ?? "null"} must be an event type (lifecycle.started) or a prefix ending in * (lifecycle.*)");
                }
            }

            if (types.Count > MaxEventTypes)
            {
                errors.Add($"event_types has {types.Count} entries; at most {MaxEventTypes}");
            }
        }
        else if (body["event_types"] is not null)
        {
            errors.Add("event_types must be an array of event types, e.g. [\"lifecycle.*\", \"drift.detected\"]");
        }

        if (errors.Count > 0)
        {
            var why = string.Join("; ", errors);
            return (EventsProblem.BadRequest(why), "invalid_params", why, runtimeId);
        }

        if (runtimeId is not null)
        {
            var inventory = new TenantScopedInventory(services.GetRequiredService<IRuntimeInventory>(), principal);
            var runtime = await inventory.GetRuntimeAsync(runtimeId, context.RequestAborted).ConfigureAwait(false);
            if (runtime is null)
            {
                var why = $"runtime '{runtimeId}' not found; GET /v1/runtimes lists the runtimes you can see";
                return (EventsProblem.NotFound(why), "invalid_params", why, runtimeId);
            }

            if (tenantId is not null && !string.Equals(tenantId, runtime.TenantId, StringComparison.Ordinal))
            {
                var why = $"runtime '{runtimeId}' is not in tenant '{tenantId}'; leave tenant_id out to use the runtime's tenant";
                return (EventsProblem.BadRequest(why), "invalid_params", why, runtimeId);
            }

            tenantId = runtime.TenantId;
        }

        if (tenantId is null && !principal.AllTenants && principal.Tenants.Count == 1)
        {
            tenantId = principal.Tenants[0];
        }

        if (tenantId is null && !principal.Has(Role.Admin))
        {
            var why = principal.AllTenants
                ? "a webhook without tenant_id receives every tenant's events and needs the admin role; name the tenant_id (or runtime_id) it is for"
                : $"name the tenant_id the webhook is for (one of {string.Join(", ", principal.Tenants)})";
            return (principal.AllTenants ? EventsProblem.Forbidden(why) : EventsProblem.BadRequest(why), "refused", why, runtimeId);
        }

        if (tenantId is not null && !principal.CanSee(tenantId))
        {
            var why = $"you may create webhooks only for your tenants ({string.Join(", ", principal.Tenants)}), not '{tenantId}'";
            return (EventsProblem.Forbidden(why), "refused", why, runtimeId);
        }

        var secret = WebhookSignature.NewSecret();
        var subscription = await services.GetRequiredService<IWebhookStore>().AddSubscriptionAsync(new WebhookSubscription
        {
            Id = services.GetRequiredService<IdGenerator>().New("whs"),
            TenantId = tenantId,
            RuntimeId = runtimeId,
            EventTypes = types,
            Url = url!,
            Secret = secret,
            Description = description,
            CreatedBy = principal.Name,
            CreatedAt = time.GetUtcNow(),
        }, context.RequestAborted).ConfigureAwait(false);
        var node = ToNode(subscription);
        node["secret"] = secret;
        context.Response.Headers.Location = "/v1/webhooks/" + subscription.Id;
        return (EventsProblem.Json(node, StatusCodes.Status201Created), "ok", "created " + subscription.Id, runtimeId);
    }

    private static async Task<IResult> ListAsync(HttpContext context, Principal principal)
    {
        if (!principal.Has(Role.Viewer))
        {
            return EventsProblem.Forbidden("listing webhooks needs the viewer role or above");
        }

        var list = await context.RequestServices.GetRequiredService<IWebhookStore>()
            .ListSubscriptionsAsync(principal.AllTenants ? null : principal.Tenants, context.RequestAborted).ConfigureAwait(false);
        return EventsProblem.Json(new JsonObject { ["items"] = new JsonArray(list.Select(s => (JsonNode)ToNode(s)).ToArray()) });
    }

    private static async Task<IResult> GetAsync(HttpContext context, Principal principal)
    {
        var subscription = await FindAsync(context, principal).ConfigureAwait(false);
        return subscription is null ? WebhookNotFound(context) : EventsProblem.Json(ToNode(subscription));
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, Principal principal)
    {
        var services = context.RequestServices;
        var time = services.GetRequiredService<TimeProvider>();
        var id = (string)context.Request.RouteValues["webhook_id"]!;
        var audit = services.GetRequiredService<IAuditLog>();
        var callId = services.GetRequiredService<IdGenerator>().New("call");
        await audit.BeginAsync(Begin(callId, "webhooks.delete", principal, new JsonObject { ["webhook_id"] = id }, time), context.RequestAborted).ConfigureAwait(false);
        IResult result;
        string outcome;
        string detail;
        var subscription = await FindAsync(context, principal).ConfigureAwait(false);
        if (subscription is null)
        {
            (result, outcome, detail) = (WebhookNotFound(context), "invalid_params", "not found");
        }
        else if (!principal.Has(Role.Operator))
        {
            detail = "deleting a webhook needs the operator or admin role";
            (result, outcome) = (EventsProblem.Forbidden(detail), "refused");
        }
        else if (subscription.TenantId is null && !principal.Has(Role.Admin))
        {
            detail = "a webhook for every tenant is deleted by an admin";
            (result, outcome) = (EventsProblem.Forbidden(detail), "refused");
        }
        else
        {
            await services.GetRequiredService<IWebhookStore>().DeleteSubscriptionAsync(id, context.RequestAborted).ConfigureAwait(false);
            (result, outcome, detail) = (Results.NoContent(), "ok", "deleted " + id);
        }

        await audit.EndAsync(new AuditEnd { CallId = callId, Ts = time.GetUtcNow(), Outcome = outcome, Detail = detail, RuntimeId = subscription?.RuntimeId }, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    private static async Task<IResult> DeliveriesAsync(HttpContext context, Principal principal)
    {
        var subscription = await FindAsync(context, principal).ConfigureAwait(false);
        if (subscription is null)
        {
            return WebhookNotFound(context);
        }

        if (!TryStatus(context, out var status, out var error))
        {
            return EventsProblem.BadRequest(error);
        }

        var list = await context.RequestServices.GetRequiredService<IWebhookStore>()
            .ListDeliveriesAsync(subscription.Id, status, Limit(context), context.RequestAborted).ConfigureAwait(false);
        return EventsProblem.Json(new JsonObject { ["items"] = new JsonArray(list.Select(d => (JsonNode)ToNode(d)).ToArray()) });
    }

    private static async Task<IResult> DeadLettersAsync(HttpContext context, Principal principal)
    {
        if (!principal.Has(Role.Admin))
        {
            return EventsProblem.Forbidden("dead-lettered webhook deliveries are for admins; ask an admin, or look at your webhook's deliveries with GET /v1/webhooks/{webhook_id}/deliveries?status=dead");
        }

        var list = await context.RequestServices.GetRequiredService<IWebhookStore>()
            .ListDeliveriesAsync(null, WebhookDeliveryStatus.Dead, Limit(context), context.RequestAborted).ConfigureAwait(false);
        return EventsProblem.Json(new JsonObject
        {
            ["items"] = new JsonArray(list.Where(d => principal.CanSee(d.TenantId)).Select(d => (JsonNode)ToNode(d)).ToArray()),
        });
    }

    private static async Task<IResult> RedeliverAsync(HttpContext context, Principal principal)
    {
        var services = context.RequestServices;
        var time = services.GetRequiredService<TimeProvider>();
        var id = (string)context.Request.RouteValues["delivery_id"]!;
        var audit = services.GetRequiredService<IAuditLog>();
        var callId = services.GetRequiredService<IdGenerator>().New("call");
        await audit.BeginAsync(Begin(callId, "webhooks.redeliver", principal, new JsonObject { ["delivery_id"] = id }, time), context.RequestAborted).ConfigureAwait(false);
        var store = services.GetRequiredService<IWebhookStore>();
        IResult result;
        string outcome;
        string detail;
        var delivery = await store.GetDeliveryAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (!principal.Has(Role.Admin))
        {
            detail = "redelivering a dead-lettered webhook delivery needs the admin role";
            (result, outcome) = (EventsProblem.Forbidden(detail), "refused");
        }
        else if (delivery is null || !principal.CanSee(delivery.TenantId))
        {
            detail = $"webhook delivery '{id}' not found; GET /v1/webhooks/dead-letters lists the dead letters";
            (result, outcome) = (EventsProblem.NotFound(detail), "invalid_params");
        }
        else if (!await store.RedeliverAsync(id, time.GetUtcNow(), context.RequestAborted).ConfigureAwait(false))
        {
            detail = $"webhook delivery '{id}' is {Status(delivery.Status)}, not dead; only dead letters are redelivered";
            (result, outcome) = (EventsProblem.Problem(StatusCodes.Status409Conflict, "invalid_state", detail), "invalid_params");
        }
        else
        {
            services.GetRequiredService<WebhookDeliveryWorker>().Wake();
            detail = "redelivering " + id;
            result = EventsProblem.Json(ToNode((await store.GetDeliveryAsync(id, context.RequestAborted).ConfigureAwait(false))!), StatusCodes.Status202Accepted);
            outcome = "ok";
        }

        await audit.EndAsync(new AuditEnd { CallId = callId, Ts = time.GetUtcNow(), Outcome = outcome, Detail = detail, RuntimeId = delivery?.RuntimeId }, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    private static async Task<WebhookSubscription?> FindAsync(HttpContext context, Principal principal)
    {
        if (!principal.Has(Role.Viewer))
        {
            return null;
        }

        var id = (string)context.Request.RouteValues["webhook_id"]!;
        var subscription = await context.RequestServices.GetRequiredService<IWebhookStore>().GetSubscriptionAsync(id, context.RequestAborted).ConfigureAwait(false);
        return subscription is not null && principal.CanSee(subscription.TenantId) ? subscription : null;
    }

    private static IResult WebhookNotFound(HttpContext context) =>
        EventsProblem.NotFound($"webhook '{context.Request.RouteValues["webhook_id"]}' not found; GET /v1/webhooks lists the webhooks you can see");

    private static AuditBegin Begin(string callId, string tool, Principal principal, JsonObject arguments, TimeProvider time) => new()
    {
        CallId = callId,
        Ts = time.GetUtcNow(),
        Tool = tool,
        Tier = "execute",
        Principal = principal.Name,
        PrincipalKind = principal.Kind == PrincipalKind.Human ? "human" : "agent",
        AuthenticatedBy = principal.AuthenticatedBy,
        Transport = "rest",
        Arguments = SecretRedactor.Redact(arguments),
    };

    /// <summary>A subscription as clients see it: never its secret.</summary>
    private static JsonObject ToNode(WebhookSubscription s) => new()
    {
        ["id"] = s.Id,
        ["url"] = s.Url.AbsoluteUri,
        ["tenant_id"] = s.TenantId,
        ["runtime_id"] = s.RuntimeId,
        ["event_types"] = new JsonArray(s.EventTypes.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
        ["description"] = s.Description,
        ["created_by"] = s.CreatedBy,
        ["created_at"] = s.CreatedAt,
    };

    private static JsonObject ToNode(WebhookDelivery d) => new()
    {
        ["id"] = d.Id,
        ["webhook_id"] = d.SubscriptionId,
        ["event_id"] = d.EventId,
        ["cursor"] = d.EventSeq.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["runtime_id"] = d.RuntimeId,
        ["tenant_id"] = d.TenantId,
        ["status"] = Status(d.Status),
        ["attempts"] = d.Attempts,
        ["next_attempt_at"] = d.Status == WebhookDeliveryStatus.Pending ? d.NextAttemptAt : null,
        ["last_status"] = d.LastStatus,
        ["last_error"] = d.LastError,
        ["created_at"] = d.CreatedAt,
        ["delivered_at"] = d.DeliveredAt,
    };

    private static string Status(WebhookDeliveryStatus status) => status switch
    {
        WebhookDeliveryStatus.Delivered => "delivered",
        WebhookDeliveryStatus.Dead => "dead",
        _ => "pending",
    };

    private static bool TryStatus(HttpContext context, out WebhookDeliveryStatus? status, out string error)
    {
        status = null;
        error = string.Empty;
        var text = context.Request.Query["status"].ToString();
        switch (text)
        {
            case "": return true;
            case "pending": status = WebhookDeliveryStatus.Pending; return true;
            case "delivered": status = WebhookDeliveryStatus.Delivered; return true;
            case "dead": status = WebhookDeliveryStatus.Dead; return true;
            default:
                error = $"status '{text}' is not a delivery status; use pending, delivered or dead";
                return false;
        }
    }

    private static int Limit(HttpContext context) =>
        int.TryParse(context.Request.Query["limit"], out var limit) ? Math.Clamp(limit, 1, 500) : 100;

    private static string? ReadString(JsonObject body, string name, List<string> errors)
    {
        switch (body[name])
        {
            case null: return null;
            case JsonValue v when v.TryGetValue<string>(out var text) && text.Length is > 0 and <= 256: return text;
            default:
                errors.Add($"{name} must be a non-empty string of at most 256 characters");
                return null;
        }
    }

    private static Uri? ReadUrl(JsonNode? node, List<string> errors)
    {
        if (node is not JsonValue value || !value.TryGetValue<string>(out var text) || string.IsNullOrWhiteSpace(text))
        {
            errors.Add("url is required: the https endpoint deliveries are POSTed to, e.g. \"https://hooks.example.com/runtimeai\"");
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"url '{SecretRedactor.RedactText(text)}' must be an absolute https URL");
            return null;
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            errors.Add("url must not carry credentials (user:password@); deliveries are authenticated by their signature");
            return null;
        }

        if (!string.IsNullOrEmpty(url.Fragment))
        {
            errors.Add("url must not have a #fragment");
            return null;
        }

        // Plain http only to this machine: event data is not sent in clear text across a network.
        if (url.Scheme == Uri.UriSchemeHttp && !(url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip))))
        {
            errors.Add($"url '{url.GetLeftPart(UriPartial.Authority)}' uses plain http to another machine; use https (http is accepted for loopback receivers only)");
            return null;
        }

        return url;
    }
}
