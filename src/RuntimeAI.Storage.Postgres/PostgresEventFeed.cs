using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Signals;
using static RuntimeAI.Storage.Postgres.PostgresDatabase;

namespace RuntimeAI.Storage.Postgres;

/// <summary>
/// The <c>events</c> table read by position. Positions appear in commit order because every event
/// insert holds the event-log advisory lock until it commits (see <see cref="PostgresRuntimeInventory"/>),
/// so a reader that has seen position N has seen every event before it, whichever replica wrote it.
/// </summary>
public sealed class PostgresEventFeed(PostgresDatabase database) : IEventFeed
{
    private const int MaxLimit = 1000;

    /// <inheritdoc />
    public async Task<IReadOnlyList<SequencedEvent>> ReadAfterAsync(EventFeedQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT e.seq, r.tenant_id, e.doc FROM events e LEFT JOIN runtimes r ON r.id = e.runtime_id WHERE e.seq > @after");
        command.Parameters.AddWithValue("after", query.AfterSeq);
        if (query.RuntimeId is not null)
        {
            sql.Append(" AND e.runtime_id = @rt");
            command.Parameters.AddWithValue("rt", query.RuntimeId);
        }

        if (query.TenantId is not null)
        {
            sql.Append(" AND r.tenant_id = @tenant");
            command.Parameters.AddWithValue("tenant", query.TenantId);
        }

        if (query.VisibleTenantIds is { } visible)
        {
            sql.Append(" AND r.tenant_id = ANY(@visible)");
            command.Parameters.AddWithValue("visible", visible.ToArray());
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND e.ts COLLATE \"C\" >= @since");
            command.Parameters.AddWithValue("since", PostgresRuntimeInventory.Iso(since.ToUniversalTime()));
        }

        sql.Append(" ORDER BY e.seq LIMIT @limit");
        command.Parameters.AddWithValue("limit", Math.Clamp(query.Limit, 1, MaxLimit));
        command.CommandText = sql.ToString();
        var items = new List<SequencedEvent>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new SequencedEvent(
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                JsonSerializer.Deserialize(reader.GetString(2), CoreJsonContext.Default.RuntimeEvent)!));
        }

        return items;
    }

    /// <inheritdoc />
    public async Task<long> LatestSeqAsync(CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT COALESCE(MAX(seq), 0) FROM events");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Signal history on PostgreSQL: raw samples folded on arrival into per-minute and per-hour buckets
/// (sum/min/max/count), times in Unix milliseconds, as in the SQLite store.
/// </summary>
public sealed class PostgresSignalStore(PostgresDatabase database) : ISignalStore
{
    private const long MinuteMs = 60_000;
    private const long HourMs = 3_600_000;

    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyList<SignalSample> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return;
        }

        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sample in samples)
        {
            var ms = sample.Ts.ToUnixTimeMilliseconds();
            using (var raw = Command(connection, tx, "INSERT INTO signal_raw (runtime_id, metric, ts, value) VALUES (@rt, @m, @ts, @v)",
                ("rt", sample.RuntimeId), ("m", sample.Metric), ("ts", ms), ("v", sample.Value)))
            {
                await raw.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var (resolution, size) in new[] { (SignalResolution.Minute, MinuteMs), (SignalResolution.Hour, HourMs) })
            {
                using var rollup = Command(connection, tx, """
                    INSERT INTO signal_rollup (resolution, runtime_id, metric, bucket, sum, min, max, count)
                    VALUES (@res, @rt, @m, @b, @v, @v, @v, 1)
                    ON CONFLICT (resolution, runtime_id, metric, bucket) DO UPDATE SET
                        sum = signal_rollup.sum + excluded.sum, min = LEAST(signal_rollup.min, excluded.min),
                        max = GREATEST(signal_rollup.max, excluded.max), count = signal_rollup.count + 1
                    """,
                    ("res", (int)resolution), ("rt", sample.RuntimeId), ("m", sample.Metric), ("b", ms - (((ms % size) + size) % size)), ("v", sample.Value));
                await rollup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SignalPoint>> QueryAsync(string runtimeId, string metric, DateTimeOffset from, DateTimeOffset to, SignalResolution resolution, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = resolution == SignalResolution.Raw
            ? Command(connection, null, "SELECT ts, value, value, value, 1 FROM signal_raw WHERE runtime_id = @rt AND metric = @m AND ts >= @from AND ts < @to ORDER BY ts, id",
                ("rt", runtimeId), ("m", metric), ("from", from.ToUnixTimeMilliseconds()), ("to", to.ToUnixTimeMilliseconds()))
            : Command(connection, null, "SELECT bucket, sum / count, min, max, count FROM signal_rollup WHERE resolution = @res AND runtime_id = @rt AND metric = @m AND bucket >= @from AND bucket < @to ORDER BY bucket",
                ("res", (int)resolution), ("rt", runtimeId), ("m", metric), ("from", from.ToUnixTimeMilliseconds()), ("to", to.ToUnixTimeMilliseconds()));
        var points = new List<SignalPoint>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            points.Add(new SignalPoint(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt32(4)));
        }

        return points;
    }

    /// <inheritdoc />
    public async Task<long> PruneAsync(SignalRetention retention, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retention);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long removed = 0;
        foreach (var (sql, value) in new (string, long)[]
        {
            ("DELETE FROM signal_raw WHERE ts < @cut", (now - retention.Raw).ToUnixTimeMilliseconds()),
            ("DELETE FROM signal_rollup WHERE resolution = 1 AND bucket < @cut", (now - retention.Minute).ToUnixTimeMilliseconds()),
            ("DELETE FROM signal_rollup WHERE resolution = 2 AND bucket < @cut", (now - retention.Hour).ToUnixTimeMilliseconds()),
            // The size bound: whatever the fleet, at most MaxRawRows raw rows (the oldest go first).
            ("DELETE FROM signal_raw WHERE id IN (SELECT id FROM signal_raw ORDER BY ts, id LIMIT GREATEST(0, (SELECT COUNT(*) FROM signal_raw) - @cut))", retention.MaxRawRows),
        })
        {
            using var command = Command(connection, tx, sql, ("cut", value));
            removed += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return removed;
    }
}
