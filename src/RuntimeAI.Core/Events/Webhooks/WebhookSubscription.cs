namespace RuntimeAI.Core.Events.Webhooks;

/// <summary>
/// An HTTP endpoint that is sent the events it matches, for agents that cannot hold a stream open.
/// </summary>
public sealed record WebhookSubscription
{
    /// <summary><c>whs_…</c>.</summary>
    public required string Id { get; init; }
    /// <summary>Only events of runtimes of this tenant; null: every tenant (unscoped principals only).</summary>
    public string? TenantId { get; init; }
    /// <summary>Only events of this runtime; null: every runtime the tenant filter allows.</summary>
    public string? RuntimeId { get; init; }
    /// <summary>Event types sent: exact (<c>lifecycle.started</c>) or a prefix ending in <c>*</c> (<c>lifecycle.*</c>); empty: all.</summary>
    public IReadOnlyList<string> EventTypes { get; init; } = [];
    /// <summary>Where deliveries are POSTed.</summary>
    public required Uri Url { get; init; }
    /// <summary>The HMAC-SHA256 key, shown once at creation; never in lists, logs or the audit trail.</summary>
    public required string Secret { get; init; }
    public string? Description { get; init; }
    public required string CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The event log position at creation: only later events are delivered.</summary>
    public long FromSeq { get; init; }

    /// <summary>Whether this subscription wants <paramref name="sequenced"/>.</summary>
    public bool Matches(SequencedEvent sequenced)
    {
        ArgumentNullException.ThrowIfNull(sequenced);
        if (sequenced.Seq <= FromSeq)
        {
            return false;
        }

        if (TenantId is not null && !string.Equals(TenantId, sequenced.TenantId, StringComparison.Ordinal))
        {
            return false;
        }

        if (RuntimeId is not null && !string.Equals(RuntimeId, sequenced.Event.RuntimeId, StringComparison.Ordinal))
        {
            return false;
        }

        return EventTypes.Count == 0 || EventTypes.Any(t => TypeMatches(t, sequenced.Event.Type));
    }

    /// <summary><c>*</c> at the end of <paramref name="pattern"/> matches any rest; otherwise the type must be equal.</summary>
    public static bool TypeMatches(string pattern, string type)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(type);
        return pattern.EndsWith('*')
            ? type.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : string.Equals(pattern, type, StringComparison.Ordinal);
    }
}

/// <summary>Where a delivery stands.</summary>
public enum WebhookDeliveryStatus
{
    /// <summary>Waiting for its (next) attempt.</summary>
    Pending,
    /// <summary>The receiver answered 2xx.</summary>
    Delivered,
    /// <summary>Every attempt failed; kept for an admin to look at and redeliver.</summary>
    Dead,
}

/// <summary>One event to send to one subscription, and how its attempts went.</summary>
public sealed record WebhookDelivery
{
    /// <summary><c>whd_…</c>; the same on every attempt, so receivers deduplicate on it.</summary>
    public required string Id { get; init; }
    public required string SubscriptionId { get; init; }
    public required long EventSeq { get; init; }
    public required string EventId { get; init; }
    public required string RuntimeId { get; init; }
    public string? TenantId { get; init; }
    public required WebhookDeliveryStatus Status { get; init; }
    public int Attempts { get; init; }
    public required DateTimeOffset NextAttemptAt { get; init; }
    /// <summary>The receiver's HTTP status of the last attempt (null: no answer).</summary>
    public int? LastStatus { get; init; }
    /// <summary>Why the last attempt failed.</summary>
    public string? LastError { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
}

/// <summary>A delivery due now, with what its attempt needs.</summary>
/// <param name="Delivery">The delivery.</param>
/// <param name="Url">The subscription's endpoint.</param>
/// <param name="Secret">The subscription's signing key.</param>
/// <param name="Event">The event to send.</param>
public sealed record DueDelivery(WebhookDelivery Delivery, Uri Url, string Secret, RuntimeEvent Event);
