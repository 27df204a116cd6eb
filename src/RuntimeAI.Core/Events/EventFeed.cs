namespace RuntimeAI.Core.Events;

/// <summary>
/// A stored event with its place in the store's event log: <see cref="Seq"/> grows with every
/// append (commit order), so it is the cursor streams resume from (SSE <c>Last-Event-ID</c>) and
/// the outbox dispatches from.
/// </summary>
/// <param name="Seq">The event's position in the log; strictly increasing, never reused.</param>
/// <param name="TenantId">The tenant of the event's runtime when it was read (null: no tenant).</param>
/// <param name="Event">The event itself.</param>
public sealed record SequencedEvent(long Seq, string? TenantId, RuntimeEvent Event);

/// <summary>Which events to read after a cursor; every filter is optional and combined with AND.</summary>
public sealed record EventFeedQuery
{
    /// <summary>Only events after this position (0: from the start).</summary>
    public long AfterSeq { get; init; }
    public string? RuntimeId { get; init; }
    /// <summary>Only events of runtimes of this tenant.</summary>
    public string? TenantId { get; init; }
    /// <summary>When set, only events of runtimes of one of these tenants (a tenant-scoped principal's view).</summary>
    public IReadOnlyList<string>? VisibleTenantIds { get; init; }
    /// <summary>Only events at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>
/// The event log read in commit order, for streams and the webhook outbox. It reads the same
/// table the inventory appends to: there is one record of events, not a copy per consumer.
/// </summary>
public interface IEventFeed
{
    /// <summary>Events after <see cref="EventFeedQuery.AfterSeq"/>, oldest first, at most <see cref="EventFeedQuery.Limit"/>.</summary>
    Task<IReadOnlyList<SequencedEvent>> ReadAfterAsync(EventFeedQuery query, CancellationToken cancellationToken);

    /// <summary>The position of the newest event (0 when there is none).</summary>
    Task<long> LatestSeqAsync(CancellationToken cancellationToken);
}
