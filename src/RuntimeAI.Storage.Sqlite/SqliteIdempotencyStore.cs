using System.Globalization;
using RuntimeAI.Core.Operations;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// Idempotency keys in the <c>idempotency</c> table (schema v2). The table's primary key is the
/// key alone, so the stored key is scoped by principal (<c>principal</c> + U+001F + key): two
/// principals never see each other's keys.
/// </summary>
public sealed class SqliteIdempotencyStore(SqliteDatabase database) : IIdempotencyStore
{
    /// <inheritdoc />
    public async Task<IdempotencyRecord> ClaimAsync(IdempotencyRecord candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = """
                    INSERT INTO idempotency (key, principal, tool, payload_digest, operation_id, result, created_at)
                    VALUES ($key, $principal, $tool, $digest, $op, NULL, $ts)
                    ON CONFLICT(key) DO NOTHING
                    """;
                insert.Parameters.AddWithValue("$key", ScopedKey(candidate.Principal, candidate.Key));
                insert.Parameters.AddWithValue("$principal", candidate.Principal);
                insert.Parameters.AddWithValue("$tool", candidate.Tool);
                insert.Parameters.AddWithValue("$digest", candidate.PayloadDigest);
                insert.Parameters.AddWithValue("$op", candidate.OperationId);
                insert.Parameters.AddWithValue("$ts", candidate.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
                insert.ExecuteNonQuery();
            }

            IdempotencyRecord holder;
            using (var select = connection.CreateCommand())
            {
                select.Transaction = tx;
                select.CommandText = "SELECT tool, payload_digest, operation_id, created_at FROM idempotency WHERE key = $key";
                select.Parameters.AddWithValue("$key", ScopedKey(candidate.Principal, candidate.Key));
                using var reader = select.ExecuteReader();
                reader.Read();
                holder = candidate with
                {
                    Tool = reader.GetString(0),
                    PayloadDigest = reader.GetString(1),
                    OperationId = reader.IsDBNull(2) ? string.Empty : reader.GetString(2),
                    CreatedAt = DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture),
                };
            }

            Failpoints.Hit(Failpoints.IdempotencyWriteBefore);
            tx.Commit();
            Failpoints.Hit(Failpoints.IdempotencyWriteAfter);
            return holder;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task CompleteAsync(IdempotencyRecord record, string resultJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE idempotency SET result = $result WHERE key = $key AND operation_id = $op";
            command.Parameters.AddWithValue("$key", ScopedKey(record.Principal, record.Key));
            command.Parameters.AddWithValue("$op", record.OperationId);
            command.Parameters.AddWithValue("$result", resultJson);
            command.ExecuteNonQuery();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<IdempotencyRecord?> FindAsync(string principal, string key, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT tool, payload_digest, operation_id, created_at FROM idempotency WHERE key = $key";
        select.Parameters.AddWithValue("$key", ScopedKey(principal, key));
        using var reader = select.ExecuteReader();
        if (!reader.Read())
        {
            return Task.FromResult<IdempotencyRecord?>(null);
        }

        return Task.FromResult<IdempotencyRecord?>(new IdempotencyRecord
        {
            Key = key,
            Principal = principal,
            Tool = reader.GetString(0),
            PayloadDigest = reader.GetString(1),
            OperationId = reader.IsDBNull(2) ? string.Empty : reader.GetString(2),
            CreatedAt = DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture),
        });
    }

    private static string ScopedKey(string principal, string key) => principal + "\u001f" + key;
}
