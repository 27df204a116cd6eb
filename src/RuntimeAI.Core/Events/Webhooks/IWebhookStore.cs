namespace RuntimeAI.Core.Events.Webhooks;

/// <summary>
/// Webhook subscriptions and their durable outbox. Deliveries are made from the event log in
/// commit order by <see cref="EnqueueNewEventsAsync"/>, which remembers how far it got in the same
/// transaction: an event is enqueued once per matching subscription, whatever crashes in between.
/// </summary>
public interface IWebhookStore
{
    /// <summary>Stores a new subscription; its <see cref="WebhookSubscription.FromSeq"/> is set to the newest event now.</summary>
    Task<WebhookSubscription> AddSubscriptionAsync(WebhookSubscription subscription, CancellationToken cancellationToken);

    Task<WebhookSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken);

    /// <summary>Subscriptions, oldest first; with <paramref name="tenantIds"/>, only those of these tenants.</summary>
    Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(IReadOnlyList<string>? tenantIds, CancellationToken cancellationToken);

    /// <summary>Removes a subscription and its deliveries not yet made; false when there was none.</summary>
    Task<bool> DeleteSubscriptionAsync(string id, CancellationToken cancellationToken);

    /// <summary>Turns events appended since the last call into deliveries; returns how many were made.</summary>
    Task<int> EnqueueNewEventsAsync(DateTimeOffset now, int maxEvents, CancellationToken cancellationToken);

    /// <summary>Pending deliveries whose attempt is due at <paramref name="now"/>, earliest first.</summary>
    Task<IReadOnlyList<DueDelivery>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Claims pending deliveries due at <paramref name="now"/>, earliest first, for one attempt by
    /// the caller: each is pushed to <paramref name="now"/> + <paramref name="lease"/>, so no other
    /// worker (this process or another replica) lists it until the attempt is recorded or the lease
    /// runs out (the claimer died), and two workers claiming at once never get the same delivery.
    /// </summary>
    Task<IReadOnlyList<DueDelivery>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken);

    /// <summary>When the next pending delivery is due (null: none pending).</summary>
    Task<DateTimeOffset?> NextDueAtAsync(CancellationToken cancellationToken);

    /// <summary>Records a 2xx answer.</summary>
    Task MarkDeliveredAsync(string deliveryId, int status, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt: pending again at <paramref name="retryAt"/>, or dead when <paramref name="retryAt"/> is null.</summary>
    Task MarkFailedAsync(string deliveryId, int? status, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken);

    Task<WebhookDelivery?> GetDeliveryAsync(string deliveryId, CancellationToken cancellationToken);

    /// <summary>Deliveries of one subscription or in one status, newest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string? subscriptionId, WebhookDeliveryStatus? status, int max, CancellationToken cancellationToken);

    /// <summary>Makes a dead delivery pending again, due at <paramref name="now"/> with its attempts reset; false when it is not dead.</summary>
    Task<bool> RedeliverAsync(string deliveryId, DateTimeOffset now, CancellationToken cancellationToken);
}
