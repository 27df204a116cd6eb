using RuntimeAI.Core.Events.Webhooks;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>The event stream and webhook settings (the config file's <c>events</c> object).</summary>
public sealed class EventsOptions
{
    /// <summary>How often an idle SSE stream sends a comment line so proxies and clients know it is alive (default 15 s).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a stream looks for events written by another process (the CLI) when nothing wakes it (default 1 s).</summary>
    public TimeSpan StreamPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Webhook attempts, backoff and timeouts.</summary>
    public WebhookDeliveryOptions Webhooks { get; } = new();

    /// <summary>Every problem with these options.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>(Webhooks.Validate());
        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            errors.Add("events.heartbeat_seconds must be positive");
        }

        if (StreamPollInterval <= TimeSpan.Zero)
        {
            errors.Add("events.poll_ms must be positive");
        }

        return errors;
    }
}
