using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// The audit trail on SQLite. A call in flight lives in <c>audit_inflight</c>; when it ends, the
/// finished record is appended to <c>audit_log</c> with the hash of its predecessor, and the
/// in-flight row is removed, in one transaction.
/// </summary>
public sealed class SqliteAuditLog(SqliteDatabase database, IAuditHasher hasher) : IAuditLog
{
    /// <inheritdoc />
    public async Task BeginAsync(AuditBegin begin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begin);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO audit_inflight (call_id, doc) VALUES ($id, $doc)";
            command.Parameters.AddWithValue("$id", begin.CallId);
            command.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(begin, CoreJsonContext.Default.AuditBegin));
            command.ExecuteNonQuery();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<AuditRecord> EndAsync(AuditEnd end, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(end);
        // Audit must land even if the caller gave up: a cancelled call is still a call.
        await database.WriteLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            AuditBegin begin;
            using (var read = connection.CreateCommand())
            {
                read.Transaction = tx;
                read.CommandText = "SELECT doc FROM audit_inflight WHERE call_id = $id";
                read.Parameters.AddWithValue("$id", end.CallId);
                begin = read.ExecuteScalar() is string doc
                    ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.AuditBegin)!
                    : throw new InvalidOperationException($"audit: call {end.CallId} ended without a begin record");
            }

            long seq = 1;
            var prevHash = AuditHashes.Genesis;
            using (var last = connection.CreateCommand())
            {
                last.Transaction = tx;
                last.CommandText = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
                using var reader = last.ExecuteReader();
                if (reader.Read())
                {
                    seq = reader.GetInt64(0) + 1;
                    prevHash = reader.GetString(1);
                }
            }

            var unsigned = new AuditRecord { Seq = seq, Begin = begin, End = end, PrevHash = prevHash, Hash = string.Empty };
            var record = unsigned with { Hash = hasher.ComputeHash(unsigned) };
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = """
                    INSERT INTO audit_log (seq, call_id, ts, tool, principal, runtime_id, doc, prev_hash, hash)
                    VALUES ($seq, $call, $ts, $tool, $principal, $rt, $doc, $prev, $hash)
                    """;
                insert.Parameters.AddWithValue("$seq", seq);
                insert.Parameters.AddWithValue("$call", end.CallId);
                insert.Parameters.AddWithValue("$ts", begin.Ts.ToString("O", CultureInfo.InvariantCulture));
                insert.Parameters.AddWithValue("$tool", begin.Tool);
                insert.Parameters.AddWithValue("$principal", begin.Principal);
                insert.Parameters.AddWithValue("$rt", (object?)end.RuntimeId ?? DBNull.Value);
                insert.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(record, CoreJsonContext.Default.AuditRecord));
                insert.Parameters.AddWithValue("$prev", prevHash);
                insert.Parameters.AddWithValue("$hash", record.Hash);
                insert.ExecuteNonQuery();
            }

            using (var delete = connection.CreateCommand())
            {
                delete.Transaction = tx;
                delete.CommandText = "DELETE FROM audit_inflight WHERE call_id = $id";
                delete.Parameters.AddWithValue("$id", end.CallId);
                delete.ExecuteNonQuery();
            }

            tx.Commit();
            return record;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
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
            sql.Append(" AND runtime_id = $rt");
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
    public Task<IReadOnlyList<AuditBegin>> ListInFlightAsync(CancellationToken cancellationToken)
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
