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
        var writer = database.Writer;
        try
        {
            writer.Begin();
            var scopedKey = ScopedKey(candidate.Principal, candidate.Key);
            var insert = writer.Statement(ClaimSql);
            PreparedConnection.Set(insert, "$key", scopedKey);
            PreparedConnection.Set(insert, "$principal", candidate.Principal);
            PreparedConnection.Set(insert, "$tool", candidate.Tool);
            PreparedConnection.Set(insert, "$digest", candidate.PayloadDigest);
            PreparedConnection.Set(insert, "$op", candidate.OperationId);
            PreparedConnection.Set(insert, "$ts", candidate.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
            insert.ExecuteNonQuery();

            IdempotencyRecord holder;
            var select = writer.Statement(FindSql);
            PreparedConnection.Set(select, "$key", scopedKey);
            using (var reader = select.ExecuteReader())
            {
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
            writer.Commit();
            Failpoints.Hit(Failpoints.IdempotencyWriteAfter);
            return holder;
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

    private const string ClaimSql = """
        INSERT INTO idempotency (key, principal, tool, payload_digest, operation_id, result, created_at)
        VALUES ($key, $principal, $tool, $digest, $op, NULL, $ts)
        ON CONFLICT(key) DO NOTHING
        """;

    private const string FindSql = "SELECT tool, payload_digest, operation_id, created_at FROM idempotency WHERE key = $key";

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
    public Task<IdempotencyRecord?> FindAsync(string principal, string key, CancellationToken cancellationToken) =>
        Task.FromResult(database.Read((Principal: principal, Key: key), static (connection, k) =>
        {
            var select = connection.Statement(FindSql);
            PreparedConnection.Set(select, "$key", ScopedKey(k.Principal, k.Key));
            using var reader = select.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return new IdempotencyRecord
            {
                Key = k.Key,
                Principal = k.Principal,
                Tool = reader.GetString(0),
                PayloadDigest = reader.GetString(1),
                OperationId = reader.IsDBNull(2) ? string.Empty : reader.GetString(2),
                CreatedAt = DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture),
            };
        }));

    private static string ScopedKey(string principal, string key) => principal + "\u001f" + key;
}
