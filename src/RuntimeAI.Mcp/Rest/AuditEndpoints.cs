using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Mcp.Identity;

namespace RuntimeAI.Mcp.Rest;

/// <summary>Extensions: /v1/audit (get_audit_trail, one page or an NDJSON export of every page) and /v1/discovery.</summary>
internal static class AuditEndpoints
{
    /// <summary>The most pages one export reads (200 records each).</summary>
    private const int MaxExportPages = 500;

    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/audit", ListAsync).WithName("getAuditTrail").WithTags("Audit").Produces<JsonObject>();
        group.MapGet("/audit/export", ExportAsync).WithName("exportAuditTrail").WithTags("Audit").Produces<string>(contentType: "application/x-ndjson");
        group.MapPost("/discovery", DiscoverAsync).WithName("discoverRuntimes").WithTags("Runtimes").Produces<JsonObject>();
    }

    private static JsonObject Arguments(string? tool, string? runtimeId, string? since, int? pageSize, string? pageToken) =>
        RestIo.Arguments(("tool", tool), ("runtime_id", runtimeId), ("since", since), ("page_size", pageSize), ("page_token", pageToken));

    private static async Task ListAsync(HttpContext context,
        [FromQuery(Name = "tool")] string? tool, [FromQuery(Name = "runtime_id")] string? runtimeId, [FromQuery(Name = "since")] string? since,
        [FromQuery(Name = "page_size")] int? pageSize, [FromQuery(Name = "page_token")] string? pageToken)
    {
        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "get_audit_trail", Arguments(tool, runtimeId, since, pageSize, pageToken)).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, page => RestJson.WriteAsync(context, StatusCodes.Status200OK, page)).ConfigureAwait(false);
    }

    private static async Task ExportAsync(HttpContext context,
        [FromQuery(Name = "tool")] string? tool, [FromQuery(Name = "runtime_id")] string? runtimeId, [FromQuery(Name = "since")] string? since)
    {
        // Each page is one get_audit_trail call: the export sees exactly what the caller may read, and is itself on record.
        string? token = null;
        var started = false;
        for (var pages = 0; pages < MaxExportPages; pages++)
        {
            var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "get_audit_trail", Arguments(tool, runtimeId, since, 200, token)).ConfigureAwait(false);
            if (call.IsError)
            {
                if (!started)
                {
                    await RestIo.WriteAsync(context, call, _ => Task.CompletedTask).ConfigureAwait(false);
                }

                return;
            }

            if (!started)
            {
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = "application/x-ndjson";
                started = true;
            }

            var page = call.Structured!;
            var lines = new StringBuilder();
            foreach (var item in page["items"]?.AsArray() ?? [])
            {
                lines.Append(item?.ToJsonString()).Append('\n');
            }

            await context.Response.WriteAsync(lines.ToString(), Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
            token = page["next_page_token"] is JsonValue next && next.TryGetValue<string>(out var t) ? t : null;
            if (token is null)
            {
                return;
            }
        }
    }

    private static async Task DiscoverAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var audited = context.RequestServices.GetRequiredService<RestAuditedAction>();
        // Discovery runs to the end once started (the request's cancellation only stops the wait for the answer).
        cancellationToken.ThrowIfCancellationRequested();
        await audited.RunAsync(context, "discover_runtimes", [], async (principal, _) =>
        {
            if (!principal.Has(Role.Admin))
            {
                return RestActionOutcome.Fail("forbidden", $"discovery imports runtimes into the inventory and needs the admin role; you are '{principal.Name}'");
            }

            var imported = await context.RequestServices.GetRequiredService<RuntimeLifecycle>().DiscoverAsync(CancellationToken.None).ConfigureAwait(false);
            return RestActionOutcome.Ok(new JsonObject
            {
                ["imported"] = imported,
                ["message"] = $"{imported} runtime(s) found on the backends were added to the inventory; list them with GET {RestApi.Prefix}/runtimes",
            });
        }).ConfigureAwait(false);
    }
}
