using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// The audit trail on SQLite, with group commit. A call in flight lives in <c>audit_inflight</c>;
/// when it ends, the finished record is appended to <c>audit_log</c> with the hash of its
/// predecessor, and the in-flight row is removed.
/// </summary>
/// <remarks>
/// <para>
/// Writes from concurrent calls are queued and committed together: one writer drains the queue
/// into one transaction (one WAL fsync, <c>synchronous=FULL</c>) in queue order, so the chain order
/// is the commit order. A caller's task completes only after the transaction holding its write has
/// committed, so its record is durable and readable from any connection when the call returns; if
/// the transaction fails, every write in it fails and none of it is stored (the chain head is
/// re-read from the file for every batch, so the next batch chains to what is really there).
/// </para>
/// <para>
/// <see cref="GroupCommitAuditLog.BeginReadOnlyAsync"/> keeps the start of a call that can change nothing in memory
/// only: its one record is written when it ends, before its answer is sent. A crash mid-read leaves
/// no trace, but nothing was changed or disclosed. Every other call's start is written durably before it runs.
/// </para>
/// </remarks>
public sealed class SqliteAuditLog(SqliteDatabase database, IAuditHasher hasher) : GroupCommitAuditLog
{
    /// <summary>
    /// The text an indexed column holds for a value of the hashed document: SQLite text binding cuts
    /// a string at NUL, so NUL is stored as U+FFFD (the document keeps the exact value, and
    /// <c>audit verify</c> compares through this same function).
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    public static string? ColumnText(string? value) => value?.Replace('\0', '\uFFFD');

    /// <inheritdoc />
    protected override async Task WriteBatchAsync(IReadOnlyList<AuditWrite> batch)
    {
        await database.WriteLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        var writer = database.Writer;
        try
        {
            WriteBatch(writer, batch);
        }
        catch
        {
            writer.RollbackIfOpen();
            throw;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    protected override Exception BatchFailure(Exception error, int batchSize) => error is SqliteException
        ? new StoreException($"audit: the batch of {batchSize} audit writes was not stored ({error.Message}); the call is failed so nothing goes unaudited", error)
        : error;

    private const string LastRecordSql = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
    private const string InFlightSql = "INSERT OR REPLACE INTO audit_inflight (call_id, doc) VALUES ($id, $doc)";
    private const string AppendSql = """
        INSERT INTO audit_log (seq, call_id, ts, tool, principal, runtime_id, doc, prev_hash, hash)
        VALUES ($seq, $call, $ts, $tool, $principal, $rt, $doc, $prev, $hash)
        """;
    private const string RemoveInFlightSql = "DELETE FROM audit_inflight WHERE call_id = $id";
    private const string FindInFlightSql = "SELECT doc FROM audit_inflight WHERE call_id = $id";

    private void WriteBatch(PreparedConnection writer, IReadOnlyList<AuditWrite> batch)
    {
        writer.Begin();

        // Read in the transaction, not remembered: another process on the same file may have appended.
        long seq = 1;
        var prevHash = AuditHashes.Genesis;
        using (var reader = writer.Statement(LastRecordSql).ExecuteReader())
        {
            if (reader.Read())
            {
                seq = reader.GetInt64(0) + 1;
                prevHash = reader.GetString(1);
            }
        }

        foreach (var write in batch)
        {
            if (write.Begin is { } begin)
            {
                var inflight = writer.Statement(InFlightSql);
                PreparedConnection.Set(inflight, "$id", begin.CallId);
                PreparedConnection.Set(inflight, "$doc", JsonSerializer.Serialize(begin, CoreJsonContext.Default.AuditBegin));
                inflight.ExecuteNonQuery();
                continue;
            }

            var end = write.End!;
            var (started, durable) = FindBegin(writer, end.CallId);
            if (started is null)
            {
                // This write alone is wrong; the others in the batch are stored.
                write.Fail(new InvalidOperationException($"audit: call {end.CallId} ended without a begin record"));
                continue;
            }

            var unsigned = new AuditRecord { Seq = seq, Begin = started, End = end, PrevHash = prevHash, Hash = string.Empty };
            var record = unsigned with { Hash = hasher.ComputeHash(unsigned) };
            var append = writer.Statement(AppendSql);
            PreparedConnection.Set(append, "$seq", seq);
            PreparedConnection.Set(append, "$call", end.CallId);
            PreparedConnection.Set(append, "$ts", started.Ts.ToString("O", CultureInfo.InvariantCulture));
            PreparedConnection.Set(append, "$tool", ColumnText(started.Tool));
            PreparedConnection.Set(append, "$principal", ColumnText(started.Principal));
            PreparedConnection.Set(append, "$rt", ColumnText(end.RuntimeId));
            PreparedConnection.Set(append, "$doc", JsonSerializer.Serialize(record, CoreJsonContext.Default.AuditRecord));
            PreparedConnection.Set(append, "$prev", prevHash);
            PreparedConnection.Set(append, "$hash", record.Hash);
            append.ExecuteNonQuery();
            if (durable)
            {
                var remove = writer.Statement(RemoveInFlightSql);
                PreparedConnection.Set(remove, "$id", end.CallId);
                remove.ExecuteNonQuery();
            }

            write.Record = record;
            seq++;
            prevHash = record.Hash;
        }

        RuntimeAI.Core.Operations.Failpoints.Hit(RuntimeAI.Core.Operations.Failpoints.AuditAppendBefore);
        writer.Commit();
        RuntimeAI.Core.Operations.Failpoints.Hit(RuntimeAI.Core.Operations.Failpoints.AuditAppendAfter);
    }

    private (AuditBegin? Begin, bool Durable) FindBegin(PreparedConnection writer, string callId)
    {
        if (TryGetBegin(callId, out var begin, out var durable))
        {
            return (begin, durable);
        }

        // Begun by another process or instance on the same file.
        var read = writer.Statement(FindInFlightSql);
        PreparedConnection.Set(read, "$id", callId);
        return read.ExecuteScalar() is string doc
            ? (JsonSerializer.Deserialize(doc, CoreJsonContext.Default.AuditBegin), true)
            : (null, false);
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT doc FROM audit_log WHERE seq > $after");
        command.Parameters.AddWithValue("$after", query.AfterSeq ?? 0);
        if (query.Principal is not null)
        {
            sql.Append(" AND principal = $principal");
            command.Parameters.AddWithValue("$principal", query.Principal);
        }

        if (query.Tool is not null)
        {
            sql.Append(" AND tool = $tool");
            command.Parameters.AddWithValue("$tool", query.Tool);
        }

        if (query.RuntimeId is not null)
        {
            // A saga across runtimes is found under each runtime it touched (end.runtime_ids).
            sql.Append(" AND (runtime_id = $rt OR EXISTS (SELECT 1 FROM json_each(doc, '$.end.runtime_ids') WHERE value = $rt))");
            command.Parameters.AddWithValue("$rt", query.RuntimeId);
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND ts >= $since");
            command.Parameters.AddWithValue("$since", since.ToString("O", CultureInfo.InvariantCulture));
        }

        sql.Append(" ORDER BY seq LIMIT $limit");
        command.Parameters.AddWithValue("$limit", Math.Clamp(query.PageSize, 1, 10_000));
        command.CommandText = sql.ToString();
        var list = new List<AuditRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.AuditRecord)!);
        }

        return Task.FromResult<IReadOnlyList<AuditRecord>>(list);
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<AuditBegin>> ListInFlightAsync(CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM audit_inflight ORDER BY call_id";
        var list = new List<AuditBegin>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.AuditBegin)!);
        }

        return Task.FromResult<IReadOnlyList<AuditBegin>>(list);
    }
}
