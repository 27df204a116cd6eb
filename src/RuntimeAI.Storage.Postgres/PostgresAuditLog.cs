using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
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
/// transaction, exactly as the SQLite store does. Across replicas, each batch first takes a
/// transaction-scoped advisory lock (<c>pg_advisory_xact_lock</c>), then reads the chain head
/// (the last seq and its hash) and appends after it; the lock is released by the commit, so the
/// next batch — from this replica or another — reads a head that is committed. The primary key
/// on <c>seq</c> is the backstop: two writers that somehow chained to the same head cannot both commit.
/// </para>
/// <para>
/// The cost: appends from all replicas are serialized on one lock for the length of a batch's
/// transaction (a round trip per statement plus one commit). Group commit keeps that to one lock
/// hold per batch, not per record.
/// </para>
/// </remarks>
public sealed class PostgresAuditLog(PostgresDatabase database, IAuditHasher hasher) : IAuditLog
{
    private readonly ConcurrentDictionary<string, (AuditBegin Begin, bool Durable)> _begins = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private List<PendingWrite> _pending = [];
    private bool _flushing;
    private long _batches;

    /// <summary>Number of transactions committed so far (one per batch).</summary>
    internal long BatchesCommitted => Interlocked.Read(ref _batches);

    /// <inheritdoc />
    public Task BeginAsync(AuditBegin begin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begin);
        cancellationToken.ThrowIfCancellationRequested();
        _begins[begin.CallId] = (begin, true);
        return Enqueue(new PendingWrite(begin, null));
    }

    /// <inheritdoc />
    public Task BeginReadOnlyAsync(AuditBegin begin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begin);
        cancellationToken.ThrowIfCancellationRequested();
        _begins[begin.CallId] = (begin, false);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<AuditRecord> EndAsync(AuditEnd end, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(end);
        // Audit must land even if the caller gave up: a cancelled call is still a call.
        var write = new PendingWrite(null, end);
        await Enqueue(write).ConfigureAwait(false);
        return write.Record!;
    }

    private Task Enqueue(PendingWrite write)
    {
        bool start;
        lock (_gate)
        {
            _pending.Add(write);
            start = !_flushing;
            _flushing = true;
        }

        if (start)
        {
            _ = Task.Run(FlushLoopAsync);
        }

        return write.Done.Task;
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            List<PendingWrite> batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                batch = _pending;
                _pending = [];
            }

            try
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
                Interlocked.Increment(ref _batches);
                foreach (var write in batch)
                {
                    if (write.End is { } end)
                    {
                        _begins.TryRemove(end.CallId, out _);
                    }

                    write.Done.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                // One transaction: nothing of it is stored, so every write in it fails.
                foreach (var write in batch)
                {
                    _begins.TryRemove(write.Begin?.CallId ?? write.End!.CallId, out _);
                    write.Record = null;
                    write.Done.TrySetException(ex is NpgsqlException
                        ? new StoreException($"audit: the batch of {batch.Count} audit writes was not stored ({ex.Message}); the call is failed so nothing goes unaudited", ex)
                        : ex);
                }
            }
        }
    }

    private async Task WriteBatchAsync(List<PendingWrite> batch)
    {
        var ct = CancellationToken.None;
        using var connection = await database.OpenConnectionAsync(ct).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

        // Only end records join the chain; a batch of begins alone does not need the chain lock.
        var appends = batch.Any(w => w.End is not null);
        long seq = 1;
        var prevHash = AuditHashes.Genesis;
        if (appends)
        {
            using (var gate = PostgresDatabase.Command(connection, tx, "SELECT pg_advisory_xact_lock(@key)", ("key", PostgresDatabase.AuditChainLockKey)))
            {
                await gate.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            using var last = PostgresDatabase.Command(connection, tx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
            using var reader = await last.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                seq = reader.GetInt64(0) + 1;
                prevHash = reader.GetString(1);
            }
        }

        using var inflight = new NpgsqlCommand(
            "INSERT INTO audit_inflight (call_id, doc) VALUES (@id, @doc) ON CONFLICT (call_id) DO UPDATE SET doc = excluded.doc", connection, tx);
        var inflightId = inflight.Parameters.Add("id", NpgsqlDbType.Text);
        var inflightDoc = inflight.Parameters.Add("doc", NpgsqlDbType.Text);

        using var insert = new NpgsqlCommand("""
            INSERT INTO audit_log (seq, call_id, ts, tool, principal, runtime_id, doc, prev_hash, hash)
            VALUES (@seq, @call, @ts, @tool, @principal, @rt, @doc, @prev, @hash)
            """, connection, tx);
        var pSeq = insert.Parameters.Add("seq", NpgsqlDbType.Bigint);
        var pCall = insert.Parameters.Add("call", NpgsqlDbType.Text);
        var pTs = insert.Parameters.Add("ts", NpgsqlDbType.Text);
        var pTool = insert.Parameters.Add("tool", NpgsqlDbType.Text);
        var pPrincipal = insert.Parameters.Add("principal", NpgsqlDbType.Text);
        var pRt = insert.Parameters.Add("rt", NpgsqlDbType.Text);
        var pDoc = insert.Parameters.Add("doc", NpgsqlDbType.Text);
        var pPrev = insert.Parameters.Add("prev", NpgsqlDbType.Text);
        var pHash = insert.Parameters.Add("hash", NpgsqlDbType.Text);

        using var delete = new NpgsqlCommand("DELETE FROM audit_inflight WHERE call_id = @id", connection, tx);
        var deleteId = delete.Parameters.Add("id", NpgsqlDbType.Text);

        foreach (var write in batch)
        {
            if (write.Begin is { } begin)
            {
                inflightId.Value = Text(begin.CallId);
                inflightDoc.Value = Text(JsonSerializer.Serialize(begin, CoreJsonContext.Default.AuditBegin));
                await inflight.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                continue;
            }

            var end = write.End!;
            var (started, durable) = await FindBeginAsync(connection, tx, end.CallId).ConfigureAwait(false);
            if (started is null)
            {
                // This write alone is wrong; the others in the batch are stored.
                write.Done.TrySetException(new InvalidOperationException($"audit: call {end.CallId} ended without a begin record"));
                continue;
            }

            var unsigned = new AuditRecord { Seq = seq, Begin = started, End = end, PrevHash = prevHash, Hash = string.Empty };
            var record = unsigned with { Hash = hasher.ComputeHash(unsigned) };
            pSeq.Value = seq;
            pCall.Value = Text(end.CallId);
            pTs.Value = PostgresRuntimeInventory.Iso(started.Ts);
            pTool.Value = SqliteAuditLog.ColumnText(started.Tool);
            pPrincipal.Value = SqliteAuditLog.ColumnText(started.Principal);
            pRt.Value = (object?)SqliteAuditLog.ColumnText(end.RuntimeId) ?? DBNull.Value;
            pDoc.Value = Text(JsonSerializer.Serialize(record, CoreJsonContext.Default.AuditRecord));
            pPrev.Value = prevHash;
            pHash.Value = record.Hash;
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            if (durable)
            {
                deleteId.Value = Text(end.CallId);
                await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            write.Record = record;
            seq++;
            prevHash = record.Hash;
        }

        RuntimeAI.Core.Operations.Failpoints.Hit(RuntimeAI.Core.Operations.Failpoints.AuditAppendBefore);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        RuntimeAI.Core.Operations.Failpoints.Hit(RuntimeAI.Core.Operations.Failpoints.AuditAppendAfter);
    }

    /// <summary>
    /// PostgreSQL text cannot hold NUL. The serialized document escapes it (<c>\u0000</c>), so only
    /// raw column values need this; the same substitution as the SQLite store's columns.
    /// </summary>
    private static string Text(string value) => SqliteAuditLog.ColumnText(value);

    private async Task<(AuditBegin? Begin, bool Durable)> FindBeginAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string callId)
    {
        if (_begins.TryGetValue(callId, out var known))
        {
            return known;
        }

        // Begun by another replica (or an earlier process) on the same database.
        using var read = PostgresDatabase.Command(connection, tx, "SELECT doc FROM audit_inflight WHERE call_id = @id", ("id", Text(callId)));
        return await read.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is string doc
            ? (JsonSerializer.Deserialize(doc, CoreJsonContext.Default.AuditBegin), true)
            : (null, false);
    }

    private sealed class PendingWrite(AuditBegin? begin, AuditEnd? end)
    {
        public AuditBegin? Begin { get; } = begin;

        public AuditEnd? End { get; } = end;

        public AuditRecord? Record { get; set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
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
    public async Task<IReadOnlyList<AuditBegin>> ListInFlightAsync(CancellationToken cancellationToken)
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
