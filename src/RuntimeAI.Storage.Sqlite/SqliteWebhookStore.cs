using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// Webhook subscriptions and the delivery outbox (schema v5). The outbox is filled from the
/// <c>events</c> table by position, and the position reached is written in the same transaction as
/// the deliveries it produced, so a crash either keeps both or neither; <c>UNIQUE(subscription_id,
/// event_seq)</c> makes a second pass over the same events harmless.
/// </summary>
public sealed class SqliteWebhookStore(SqliteDatabase database, TimeProvider time) : IWebhookStore
{
    private const string DeliveryColumns =
        "d.id, d.subscription_id, d.event_seq, d.event_id, d.runtime_id, d.tenant_id, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at";

    private readonly IdGenerator _ids = new(time);

    /// <inheritdoc />
    public async Task<WebhookSubscription> AddSubscriptionAsync(WebhookSubscription subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            long fromSeq;
            using (var latest = connection.CreateCommand())
            {
                latest.Transaction = tx;
                latest.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM events";
                fromSeq = Convert.ToInt64(latest.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            var stored = subscription with { FromSeq = fromSeq };
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = """
                    INSERT INTO webhook_subscriptions (id, tenant_id, runtime_id, event_types, url, secret, description, created_by, created_at, from_seq)
                    VALUES ($id, $tenant, $rt, $types, $url, $secret, $description, $by, $at, $from)
                    """;
                insert.Parameters.AddWithValue("$id", stored.Id);
                insert.Parameters.AddWithValue("$tenant", (object?)stored.TenantId ?? DBNull.Value);
                insert.Parameters.AddWithValue("$rt", (object?)stored.RuntimeId ?? DBNull.Value);
                insert.Parameters.AddWithValue("$types", SqliteEventFeed.StringArray(stored.EventTypes));
                insert.Parameters.AddWithValue("$url", stored.Url.AbsoluteUri);
                insert.Parameters.AddWithValue("$secret", stored.Secret);
                insert.Parameters.AddWithValue("$description", (object?)stored.Description ?? DBNull.Value);
                insert.Parameters.AddWithValue("$by", stored.CreatedBy);
                insert.Parameters.AddWithValue("$at", Iso(stored.CreatedAt));
                insert.Parameters.AddWithValue("$from", fromSeq);
                insert.ExecuteNonQuery();
            }

            tx.Commit();
            return stored;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<WebhookSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, tenant_id, runtime_id, event_types, url, secret, description, created_by, created_at, from_seq FROM webhook_subscriptions WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read() ? ReadSubscription(reader) : null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync(IReadOnlyList<string>? tenantIds, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        return Task.FromResult(ListSubscriptions(connection, null, tenantIds));
    }

    /// <inheritdoc />
    public async Task<bool> DeleteSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            // Deliveries go with it (ON DELETE CASCADE): nothing is sent to an endpoint its owner removed.
            command.CommandText = "DELETE FROM webhook_subscriptions WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteNonQuery() > 0;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<int> EnqueueNewEventsAsync(DateTimeOffset now, int maxEvents, CancellationToken cancellationToken)
    {
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            // IMMEDIATE: take the write lock before reading the cursor, so two processes never enqueue the same range twice.
            using var tx = connection.BeginTransaction(deferred: false);
            long cursor;
            using (var read = connection.CreateCommand())
            {
                read.Transaction = tx;
                read.CommandText = "SELECT last_seq FROM webhook_outbox_cursor WHERE id = 1";
                cursor = Convert.ToInt64(read.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            var events = new List<SequencedEvent>();
            using (var select = connection.CreateCommand())
            {
                select.Transaction = tx;
                select.CommandText = "SELECT e.seq, r.tenant_id, e.doc FROM events e LEFT JOIN runtimes r ON r.id = e.runtime_id WHERE e.seq > $after ORDER BY e.seq LIMIT $limit";
                select.Parameters.AddWithValue("$after", cursor);
                select.Parameters.AddWithValue("$limit", Math.Max(1, maxEvents));
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    events.Add(new SequencedEvent(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                        JsonSerializer.Deserialize(reader.GetString(2), CoreJsonContext.Default.RuntimeEvent)!));
                }
            }

            if (events.Count == 0)
            {
                return 0;
            }

            var subscriptions = ListSubscriptions(connection, tx, null);
            var made = 0;
            foreach (var sequenced in events)
            {
                foreach (var subscription in subscriptions.Where(s => s.Matches(sequenced)))
                {
                    using var insert = connection.CreateCommand();
                    insert.Transaction = tx;
                    insert.CommandText = """
                        INSERT INTO webhook_deliveries (id, subscription_id, event_seq, event_id, runtime_id, tenant_id, status, attempts, next_attempt_at, created_at)
                        VALUES ($id, $sub, $seq, $event, $rt, $tenant, 'pending', 0, $due, $at)
                        ON CONFLICT (subscription_id, event_seq) DO NOTHING
                        """;
                    insert.Parameters.AddWithValue("$id", _ids.New("whd"));
                    insert.Parameters.AddWithValue("$sub", subscription.Id);
                    insert.Parameters.AddWithValue("$seq", sequenced.Seq);
                    insert.Parameters.AddWithValue("$event", sequenced.Event.Id);
                    insert.Parameters.AddWithValue("$rt", sequenced.Event.RuntimeId);
                    insert.Parameters.AddWithValue("$tenant", (object?)sequenced.TenantId ?? DBNull.Value);
                    insert.Parameters.AddWithValue("$due", now.ToUnixTimeMilliseconds());
                    insert.Parameters.AddWithValue("$at", Iso(now));
                    made += insert.ExecuteNonQuery();
                }
            }

            using (var advance = connection.CreateCommand())
            {
                advance.Transaction = tx;
                advance.CommandText = "UPDATE webhook_outbox_cursor SET last_seq = $seq WHERE id = 1";
                advance.Parameters.AddWithValue("$seq", events[^1].Seq);
                advance.ExecuteNonQuery();
            }

            tx.Commit();
            return made;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DueDelivery>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        return Task.FromResult<IReadOnlyList<DueDelivery>>(QueryDue(connection, null, now, max));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DueDelivery>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken)
    {
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            // IMMEDIATE: another process on the same file waits for this claim before it lists.
            using var tx = connection.BeginTransaction(deferred: false);
            var due = QueryDue(connection, tx, now, max);

            foreach (var claimed in due)
            {
                using var update = connection.CreateCommand();
                update.Transaction = tx;
                update.CommandText = "UPDATE webhook_deliveries SET next_attempt_at = $until WHERE id = $id";
                update.Parameters.AddWithValue("$until", (now + lease).ToUnixTimeMilliseconds());
                update.Parameters.AddWithValue("$id", claimed.Delivery.Id);
                update.ExecuteNonQuery();
            }

            tx.Commit();
            return due;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    private static List<DueDelivery> QueryDue(SqliteConnection connection, SqliteTransaction? tx, DateTimeOffset now, int max)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = $"""
            SELECT {DeliveryColumns}, s.url, s.secret, e.doc
            FROM webhook_deliveries d
            JOIN webhook_subscriptions s ON s.id = d.subscription_id
            JOIN events e ON e.seq = d.event_seq
            WHERE d.status = 'pending' AND d.next_attempt_at <= $now
            ORDER BY d.next_attempt_at, d.event_seq
            LIMIT $max
            """;
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$max", Math.Max(1, max));
        var due = new List<DueDelivery>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            due.Add(ReadDue(reader));
        }

        return due;
    }

    /// <summary>A delivery row followed by the subscription's url and secret and the event document.</summary>
    internal static DueDelivery ReadDue(System.Data.Common.DbDataReader reader) => new(
        ReadDelivery(reader),
        new Uri(reader.GetString(13)),
        reader.GetString(14),
        JsonSerializer.Deserialize(reader.GetString(15), CoreJsonContext.Default.RuntimeEvent)!);

    /// <inheritdoc />
    public Task<DateTimeOffset?> NextDueAtAsync(CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'";
        var value = command.ExecuteScalar();
        return Task.FromResult<DateTimeOffset?>(value is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);
    }

    /// <inheritdoc />
    public Task MarkDeliveredAsync(string deliveryId, int status, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = $status, last_error = NULL, delivered_at = $at WHERE id = $id AND status = 'pending'",
            [("$id", deliveryId), ("$status", status), ("$at", Iso(now))],
            cancellationToken);

    /// <inheritdoc />
    public Task MarkFailedAsync(string deliveryId, int? status, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken) =>
        ExecuteAsync(
            retryAt is null
                ? "UPDATE webhook_deliveries SET status = 'dead', attempts = attempts + 1, last_status = $status, last_error = $error WHERE id = $id AND status = 'pending'"
                : "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $status, last_error = $error, next_attempt_at = $due WHERE id = $id AND status = 'pending'",
            [("$id", deliveryId), ("$status", status), ("$error", error), ("$due", retryAt?.ToUnixTimeMilliseconds())],
            cancellationToken);

    /// <inheritdoc />
    public Task<WebhookDelivery?> GetDeliveryAsync(string deliveryId, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {DeliveryColumns} FROM webhook_deliveries d WHERE d.id = $id";
        command.Parameters.AddWithValue("$id", deliveryId);
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read() ? ReadDelivery(reader) : null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string? subscriptionId, WebhookDeliveryStatus? status, int max, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        var where = new List<string>();
        if (subscriptionId is not null)
        {
            where.Add("d.subscription_id = $sub");
            command.Parameters.AddWithValue("$sub", subscriptionId);
        }

        if (status is { } s)
        {
            where.Add("d.status = $status");
            command.Parameters.AddWithValue("$status", StatusText(s));
        }

        command.CommandText = $"SELECT {DeliveryColumns} FROM webhook_deliveries d" +
            (where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where)) +
            " ORDER BY d.event_seq DESC LIMIT $max";
        command.Parameters.AddWithValue("$max", Math.Clamp(max, 1, 1000));
        var list = new List<WebhookDelivery>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(ReadDelivery(reader));
        }

        return Task.FromResult<IReadOnlyList<WebhookDelivery>>(list);
    }

    /// <inheritdoc />
    public async Task<bool> RedeliverAsync(string deliveryId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $due WHERE id = $id AND status = 'dead'",
            [("$id", deliveryId), ("$due", now.ToUnixTimeMilliseconds())],
            cancellationToken).ConfigureAwait(false) > 0;

    private async Task<int> ExecuteAsync(string sql, (string Name, object? Value)[] parameters, CancellationToken cancellationToken)
    {
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            return command.ExecuteNonQuery();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    private static IReadOnlyList<WebhookSubscription> ListSubscriptions(SqliteConnection connection, SqliteTransaction? tx, IReadOnlyList<string>? tenantIds)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT id, tenant_id, runtime_id, event_types, url, secret, description, created_by, created_at, from_seq FROM webhook_subscriptions";
        if (tenantIds is not null)
        {
            command.CommandText += " WHERE tenant_id IN (SELECT value FROM json_each($tenants))";
            command.Parameters.AddWithValue("$tenants", SqliteEventFeed.StringArray(tenantIds));
        }

        command.CommandText += " ORDER BY created_at, rowid";
        var list = new List<WebhookSubscription>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(ReadSubscription(reader));
        }

        return list;
    }

    /// <summary>A subscription row (columns in the order every store selects them); shared with the PostgreSQL store.</summary>
    internal static WebhookSubscription ReadSubscription(System.Data.Common.DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        TenantId = reader.IsDBNull(1) ? null : reader.GetString(1),
        RuntimeId = reader.IsDBNull(2) ? null : reader.GetString(2),
        EventTypes = (JsonNode.Parse(reader.GetString(3)) as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToList(),
        Url = new Uri(reader.GetString(4)),
        Secret = reader.GetString(5),
        Description = reader.IsDBNull(6) ? null : reader.GetString(6),
        CreatedBy = reader.GetString(7),
        CreatedAt = DateTimeOffset.Parse(reader.GetString(8), CultureInfo.InvariantCulture),
        FromSeq = reader.GetInt64(9),
    };

    /// <summary>A delivery row (columns in the order every store selects them); shared with the PostgreSQL store.</summary>
    internal static WebhookDelivery ReadDelivery(System.Data.Common.DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        SubscriptionId = reader.GetString(1),
        EventSeq = reader.GetInt64(2),
        EventId = reader.GetString(3),
        RuntimeId = reader.GetString(4),
        TenantId = reader.IsDBNull(5) ? null : reader.GetString(5),
        Status = reader.GetString(6) switch
        {
            "delivered" => WebhookDeliveryStatus.Delivered,
            "dead" => WebhookDeliveryStatus.Dead,
            _ => WebhookDeliveryStatus.Pending,
        },
        Attempts = reader.GetInt32(7),
        NextAttemptAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
        LastStatus = reader.IsDBNull(9) ? null : reader.GetInt32(9),
        LastError = reader.IsDBNull(10) ? null : reader.GetString(10),
        CreatedAt = DateTimeOffset.Parse(reader.GetString(11), CultureInfo.InvariantCulture),
        DeliveredAt = reader.IsDBNull(12) ? null : DateTimeOffset.Parse(reader.GetString(12), CultureInfo.InvariantCulture),
    };

    internal static string StatusText(WebhookDeliveryStatus status) => status switch
    {
        WebhookDeliveryStatus.Delivered => "delivered",
        WebhookDeliveryStatus.Dead => "dead",
        _ => "pending",
    };

    private static string Iso(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}
