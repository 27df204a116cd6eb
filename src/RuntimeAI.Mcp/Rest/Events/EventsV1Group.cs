using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Http;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>
/// Maps the event and webhook endpoints under <c>/v1</c>, behind the same authentication as
/// <c>/mcp</c> (no unauthenticated call when authentication is configured).
/// </summary>
public static class EventsV1Group
{
    /// <summary>Maps <c>/v1/runtimes/{runtime_id}/events</c>, <c>/v1/events/stream</c> and <c>/v1/webhooks…</c>.</summary>
    public static WebApplication MapRuntimeAiEventsV1(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<RuntimeAiServerOptions>();
        var v1 = app.MapGroup("/v1");
        if (options.AuthEnabled)
        {
            v1.RequireAuthorization(HttpAuthentication.Policy);
        }

        v1.MapEventsApi();
        v1.MapWebhooksApi();
        return app;
    }
}
