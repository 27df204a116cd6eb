using System.Text;
using System.Text.Json;
using Npgsql;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Storage.Postgres;

/// <summary>
/// The audit trail on PostgreSQL: one hash chain for every replica, with group commit.
/// </summary>
/// <remarks>
/// <para>
/// Within a replica, concurrent writes are queued and one writer commits them together in one
/// transaction (<see cref="GroupCommitAuditLog"/>, as in the SQLite store). Across replicas, each batch first takes a
/// transaction-scoped advisory lock (<c>pg_advisory_xact_lock</c>), then reads the chain head
/// (the last seq and its hash) and appends after it; the lock is released by the commit, so the
/// next batch — from this replica or another — reads a head that is committed. The primary key
/// on <c>seq</c> is the backstop: two writers that somehow chained to the same head cannot both commit.
/// </para>
/// <para>
/// The cost: appends from all replicas are serialized on one lock while a batch holds it: one
/// round trip for the lock and the head, one for all the batch's writes, and the commit. Group
/// commit keeps that to one lock hold per batch, not per record.
/// </para>
/// </remarks>
public sealed class PostgresAuditLog(PostgresDatabase database, IAuditHasher hasher) : GroupCommitAuditLog
{
    /// <inheritdoc />
    protected override Exception BatchFailure(Exception error, int batchSize) => error is NpgsqlException
        ? new StoreException($"audit: the batch of {batchSize} audit writes was not stored ({error.Message}); the call is failed so nothing goes unaudited", error)
        : error;

    /// <inheritdoc />
    protected override async Task WriteBatchAsync(IReadOnlyList<AuditWrite> batch)
    {
        var ct = CancellationToken.None;
        using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

        // Before the chain lock: starts recorded by another replica (or an earlier process) are read
        // now, so the lock is held only for the head read and one round trip of writes.
        var ends = batch.Where(w => w.End is not null).ToList();
        var stored = await ReadStoredBeginsAsync(connection, tx, ends.Select(w => w.End!.CallId).Where(id => !TryGetBegin(id, out _, out _)).ToArray()).ConfigureAwait(false);

        long seq = 1;
        var prevHash = AuditHashes.Genesis;
        if (ends.Count > 0)
        {
            // One round trip: the lock (waits for any other replica's batch to commit), then the head it left.
            using var head = new NpgsqlBatch(connection, tx);
            head.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(@key)") { Parameters = { new NpgsqlParameter("key", PostgresDatabase.AuditChainLockKey) } });
            head.BatchCommands.Add(new NpgsqlBatchCommand("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
            using var reader = await head.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                seq = reader.GetInt64(0) + 1;
                prevHash = reader.GetString(1);
            }
        }

        using var writes = new NpgsqlBatch(connection, tx);
        foreach (var write in batch)
        {
            if (write.Begin is { } begin)
            {
                writes.BatchCommands.Add(Statement(
                    "INSERT INTO audit_inflight (call_id, doc) VALUES (@id, @doc) ON CONFLICT (call_id) DO UPDATE SET doc = excluded.doc",
                    ("id", Text(begin.CallId)), ("doc", Text(JsonSerializer.Serialize(begin, CoreJsonContext.Default.AuditBegin)))));
                continue;
            }

            var end = write.End!;
            var (started, durable) = TryGetBegin(end.CallId, out var known, out var knownDurable) ? (known, knownDurable)
                : stored.TryGetValue(end.CallId, out var fromDb) ? (fromDb, true)
                : ((AuditBegin?)null, false);
            if (started is null)
            {
                // This write alone is wrong; the others in the batch are stored.
                write.Fail(new InvalidOperationException($"audit: call {end.CallId} ended without a begin record"));
                continue;
            }

            var unsigned = new AuditRecord { Seq = seq, Begin = started, End = end, PrevHash = prevHash, Hash = string.Empty };
            var record = unsigned with { Hash = hasher.ComputeHash(unsigned) };
            writes.BatchCommands.Add(Statement("""
                INSERT INTO audit_log (seq, call_id, ts, tool, principal, runtime_id, doc, prev_hash, hash)
                VALUES (@seq, @call, @ts, @tool, @principal, @rt, @doc, @prev, @hash)
                """,
                ("seq", seq), ("call", Text(end.CallId)), ("ts", PostgresRuntimeInventory.Iso(started.Ts)),
                ("tool", SqliteAuditLog.ColumnText(started.Tool)), ("principal", SqliteAuditLog.ColumnText(started.Principal)),
                ("rt", SqliteAuditLog.ColumnText(end.RuntimeId)), ("doc", Text(JsonSerializer.Serialize(record, CoreJsonContext.Default.AuditRecord))),
                ("prev", prevHash), ("hash", record.Hash)));
            if (durable)
            {
                writes.BatchCommands.Add(Statement("DELETE FROM audit_inflight WHERE call_id = @id", ("id", Text(end.CallId))));
            }

            write.Record = record;
            seq++;
            prevHash = record.Hash;
        }

        if (writes.BatchCommands.Count > 0)
        {
            await writes.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        RuntimeAI.Core.Operations.Failpoints.Hit(RuntimeAI.Core.Operations.Failpoints.AuditAppendBefore);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        RuntimeAI.Core.Operations.Failpoints.Hit(RuntimeAI.Core.Operations.Failpoints.AuditAppendAfter);
    }

    private static NpgsqlBatchCommand Statement(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, value ?? DBNull.Value));
        }

        return command;
    }

    /// <summary>
    /// PostgreSQL text cannot hold NUL. The serialized document escapes it (<c>\u0000</c>), so only
    /// raw column values need this; the same substitution as the SQLite store's columns.
    /// </summary>
    private static string Text(string value) => SqliteAuditLog.ColumnText(value);

    /// <summary>Starts of calls begun by another replica (or an earlier process) on the same database.</summary>
    private static async Task<Dictionary<string, AuditBegin>> ReadStoredBeginsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string[] callIds)
    {
        var found = new Dictionary<string, AuditBegin>(StringComparer.Ordinal);
        if (callIds.Length == 0)
        {
            return found;
        }

        using var read = PostgresDatabase.Command(connection, tx, "SELECT call_id, doc FROM audit_inflight WHERE call_id = ANY(@ids)", ("ids", callIds.Select(Text).ToArray()));
        using var reader = await read.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        while (await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            found[reader.GetString(0)] = JsonSerializer.Deserialize(reader.GetString(1), CoreJsonContext.Default.AuditBegin)!;
        }

        return found;
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT doc FROM audit_log WHERE seq > @after");
        command.Parameters.AddWithValue("after", query.AfterSeq ?? 0L);
        if (query.Principal is not null)
        {
            sql.Append(" AND principal = @principal");
            command.Parameters.AddWithValue("principal", Text(query.Principal));
        }

        if (query.Tool is not null)
        {
            sql.Append(" AND tool = @tool");
            command.Parameters.AddWithValue("tool", Text(query.Tool));
        }

        if (query.RuntimeId is not null)
        {
            // A saga across runtimes is found under each runtime it touched (end.runtime_ids).
            sql.Append(" AND (runtime_id = @rt OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(doc::jsonb -> 'end' -> 'runtime_ids') = 'array' THEN doc::jsonb -> 'end' -> 'runtime_ids' ELSE '[]'::jsonb END) AS touched(id) WHERE touched.id = @rt))");
            command.Parameters.AddWithValue("rt", Text(query.RuntimeId));
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND ts COLLATE \"C\" >= @since");
            command.Parameters.AddWithValue("since", PostgresRuntimeInventory.Iso(since));
        }

        sql.Append(" ORDER BY seq LIMIT @limit");
        command.Parameters.AddWithValue("limit", Math.Clamp(query.PageSize, 1, 10_000));
        command.CommandText = sql.ToString();
        var list = new List<AuditRecord>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.AuditRecord)!);
        }

        return list;
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<AuditBegin>> ListInFlightAsync(CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null, "SELECT doc FROM audit_inflight ORDER BY call_id COLLATE \"C\"");
        var list = new List<AuditBegin>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.AuditBegin)!);
        }

        return list;
    }
}
