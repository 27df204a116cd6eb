using System.Globalization;
using System.Text.Json;
using Npgsql;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Storage.Sqlite;
using static RuntimeAI.Storage.Postgres.PostgresDatabase;

namespace RuntimeAI.Storage.Postgres;

/// <summary>
/// Webhook subscriptions and the delivery outbox on PostgreSQL. The outbox cursor row is read
/// <c>FOR UPDATE</c>, so replicas filling the outbox at the same moment take turns, and the position
/// reached is written in the same transaction as the deliveries it produced; <c>UNIQUE(subscription_id,
/// event_seq)</c> makes a second pass over the same events harmless.
/// </summary>
public sealed class PostgresWebhookStore(PostgresDatabase database, TimeProvider time) : IWebhookStore
{
    private const string DeliveryColumns =
        "d.id, d.subscription_id, d.event_seq, d.event_id, d.runtime_id, d.tenant_id, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at";

    private const string SubscriptionColumns =
        "id, tenant_id, runtime_id, event_types, url, secret, description, created_by, created_at, from_seq";

    private readonly IdGenerator _ids = new(time);

    /// <inheritdoc />
    public async Task<WebhookSubscription> AddSubscriptionAsync(WebhookSubscription subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long fromSeq;
        using (var latest = Command(connection, tx, "SELECT COALESCE(MAX(seq), 0) FROM events"))
        {
            fromSeq = Convert.ToInt64(await latest.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        var stored = subscription with { FromSeq = fromSeq };
        using (var insert = Command(connection, tx, $"""
            INSERT INTO webhook_subscriptions ({SubscriptionColumns})
            VALUES (@id, @tenant, @rt, @types, @url, @secret, @description, @by, @at, @from)
            """,
            ("id", stored.Id), ("tenant", stored.TenantId), ("rt", stored.RuntimeId), ("types", SqliteEventFeed.StringArray(stored.EventTypes)),
            ("url", stored.Url.AbsoluteUri), ("secret", stored.Secret), ("description", stored.Description), ("by", stored.CreatedBy),
            ("at", Iso(stored.CreatedAt)), ("from", fromSeq)))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return stored;
    }

    /// <inheritdoc />
    public async Task<WebhookSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"SELECT {SubscriptionColumns} FROM webhook_subscriptions WHERE id = @id", ("id", id));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? SqliteWebhookStore.ReadSubscription(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(IReadOnlyList<string>? tenantIds, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ListSubscriptionsAsync(connection, null, tenantIds, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteSubscriptionAsync(string id, CancellationToken cancellationToken) =>
        // Deliveries go with it (ON DELETE CASCADE): nothing is sent to an endpoint its owner removed.
        await ExecuteAsync("DELETE FROM webhook_subscriptions WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false) > 0;

    /// <inheritdoc />
    public async Task<int> EnqueueNewEventsAsync(DateTimeOffset now, int maxEvents, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long cursor;
        // FOR UPDATE: another replica enqueuing now waits, then reads the cursor this one advanced.
        using (var read = Command(connection, tx, "SELECT last_seq FROM webhook_outbox_cursor WHERE id = 1 FOR UPDATE"))
        {
            cursor = Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        var events = new List<SequencedEvent>();
        using (var select = Command(connection, tx,
            "SELECT e.seq, r.tenant_id, e.doc FROM events e LEFT JOIN runtimes r ON r.id = e.runtime_id WHERE e.seq > @after ORDER BY e.seq LIMIT @limit",
            ("after", cursor), ("limit", Math.Max(1, maxEvents))))
        using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                events.Add(new SequencedEvent(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                    JsonSerializer.Deserialize(reader.GetString(2), CoreJsonContext.Default.RuntimeEvent)!));
            }
        }

        if (events.Count == 0)
        {
            return 0;
        }

        var subscriptions = await ListSubscriptionsAsync(connection, tx, null, cancellationToken).ConfigureAwait(false);
        var made = 0;
        foreach (var sequenced in events)
        {
            foreach (var subscription in subscriptions.Where(s => s.Matches(sequenced)))
            {
                using var insert = Command(connection, tx, """
                    INSERT INTO webhook_deliveries (id, subscription_id, event_seq, event_id, runtime_id, tenant_id, status, attempts, next_attempt_at, created_at)
                    VALUES (@id, @sub, @seq, @event, @rt, @tenant, 'pending', 0, @due, @at)
                    ON CONFLICT (subscription_id, event_seq) DO NOTHING
                    """,
                    ("id", _ids.New("whd")), ("sub", subscription.Id), ("seq", sequenced.Seq), ("event", sequenced.Event.Id),
                    ("rt", sequenced.Event.RuntimeId), ("tenant", sequenced.TenantId), ("due", now.ToUnixTimeMilliseconds()), ("at", Iso(now)));
                made += await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        using (var advance = Command(connection, tx, "UPDATE webhook_outbox_cursor SET last_seq = @seq WHERE id = 1", ("seq", events[^1].Seq)))
        {
            await advance.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return made;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DueDelivery>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"""
            SELECT {DeliveryColumns}, s.url, s.secret, e.doc
            FROM webhook_deliveries d
            JOIN webhook_subscriptions s ON s.id = d.subscription_id
            JOIN events e ON e.seq = d.event_seq
            WHERE d.status = 'pending' AND d.next_attempt_at <= @now
            ORDER BY d.next_attempt_at, d.event_seq
            LIMIT @max
            """, ("now", now.ToUnixTimeMilliseconds()), ("max", Math.Max(1, max)));
        var due = new List<DueDelivery>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            due.Add(SqliteWebhookStore.ReadDue(reader));
        }

        return due;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DueDelivery>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // SKIP LOCKED: a replica claiming at the same moment passes over the rows this one is taking
        // instead of waiting and claiming them again; the lease is the pushed next_attempt_at.
        using var command = Command(connection, null, $"""
            WITH claimed AS (
                UPDATE webhook_deliveries SET next_attempt_at = @until
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= @now
                    ORDER BY next_attempt_at, event_seq
                    LIMIT @max
                    FOR UPDATE SKIP LOCKED)
                RETURNING *)
            SELECT {DeliveryColumns}, s.url, s.secret, e.doc
            FROM claimed d
            JOIN webhook_subscriptions s ON s.id = d.subscription_id
            JOIN events e ON e.seq = d.event_seq
            ORDER BY d.event_seq
            """, ("now", now.ToUnixTimeMilliseconds()), ("until", (now + lease).ToUnixTimeMilliseconds()), ("max", Math.Max(1, max)));
        var due = new List<DueDelivery>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            due.Add(SqliteWebhookStore.ReadDue(reader));
        }

        return due;
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset?> NextDueAtAsync(CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'");
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    /// <inheritdoc />
    public Task MarkDeliveredAsync(string deliveryId, int status, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = @status, last_error = NULL, delivered_at = @at WHERE id = @id AND status = 'pending'",
            [("id", deliveryId), ("status", status), ("at", Iso(now))],
            cancellationToken);

    /// <inheritdoc />
    public Task MarkFailedAsync(string deliveryId, int? status, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken) =>
        retryAt is { } due
            ? ExecuteAsync(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = @status::integer, last_error = @error, next_attempt_at = @due WHERE id = @id AND status = 'pending'",
                [("id", deliveryId), ("status", status), ("error", error), ("due", due.ToUnixTimeMilliseconds())],
                cancellationToken)
            : ExecuteAsync(
                "UPDATE webhook_deliveries SET status = 'dead', attempts = attempts + 1, last_status = @status::integer, last_error = @error WHERE id = @id AND status = 'pending'",
                [("id", deliveryId), ("status", status), ("error", error)],
                cancellationToken);

    /// <inheritdoc />
    public async Task<WebhookDelivery?> GetDeliveryAsync(string deliveryId, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, $"SELECT {DeliveryColumns} FROM webhook_deliveries d WHERE d.id = @id", ("id", deliveryId));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? SqliteWebhookStore.ReadDelivery(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string? subscriptionId, WebhookDeliveryStatus? status, int max, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand { Connection = connection };
        var where = new List<string>();
        if (subscriptionId is not null)
        {
            where.Add("d.subscription_id = @sub");
            command.Parameters.AddWithValue("sub", subscriptionId);
        }

        if (status is { } s)
        {
            where.Add("d.status = @status");
            command.Parameters.AddWithValue("status", SqliteWebhookStore.StatusText(s));
        }

        command.CommandText = $"SELECT {DeliveryColumns} FROM webhook_deliveries d" +
            (where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where)) +
            " ORDER BY d.event_seq DESC LIMIT @max";
        command.Parameters.AddWithValue("max", Math.Clamp(max, 1, 1000));
        var list = new List<WebhookDelivery>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(SqliteWebhookStore.ReadDelivery(reader));
        }

        return list;
    }

    /// <inheritdoc />
    public async Task<bool> RedeliverAsync(string deliveryId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = @due WHERE id = @id AND status = 'dead'",
            [("id", deliveryId), ("due", now.ToUnixTimeMilliseconds())],
            cancellationToken).ConfigureAwait(false) > 0;

    private async Task<int> ExecuteAsync(string sql, (string Name, object? Value)[] parameters, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyList<string>? tenantIds, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand($"SELECT {SubscriptionColumns} FROM webhook_subscriptions", connection, tx);
        if (tenantIds is not null)
        {
            command.CommandText += " WHERE tenant_id = ANY(@tenants)";
            command.Parameters.AddWithValue("tenants", tenantIds.ToArray());
        }

        command.CommandText += " ORDER BY created_at COLLATE \"C\", ordinal";
        var list = new List<WebhookSubscription>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(SqliteWebhookStore.ReadSubscription(reader));
        }

        return list;
    }

    private static string Iso(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}
