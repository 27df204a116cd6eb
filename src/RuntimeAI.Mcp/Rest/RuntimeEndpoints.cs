using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace RuntimeAI.Mcp.Rest;

/// <summary>/v1/runtimes: list, get, status (reads through the observe tools).</summary>
internal static class RuntimeEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/runtimes/{runtime_id}", (RequestDelegate)(async context =>
        {
            var gateway = context.RequestServices.GetRequiredService<RestGateway>();
            var call = await gateway.CallAsync(context, "get_runtime",
                new JsonObject { ["runtime_id"] = (string?)context.GetRouteValue("runtime_id") }).ConfigureAwait(false);
            if (call.IsError)
            {
                await RestProblem.WriteAsync(context, call.ErrorCode ?? "internal_error", call.Text).ConfigureAwait(false);
                return;
            }

            await RestJson.WriteAsync(context, StatusCodes.Status200OK, call.Structured!).ConfigureAwait(false);
        }));
    }
}
