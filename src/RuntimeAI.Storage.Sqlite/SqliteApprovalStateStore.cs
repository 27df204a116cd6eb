using System.Globalization;
using RuntimeAI.Core.Governance;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// Approval request state in the embedded store (schema v6): the used nonces, so a state is
/// single-use across restarts and across processes sharing the file, and a key slot for
/// <see cref="IApprovalStateStore.GetOrCreateKeyAsync"/> (the server on SQLite keeps using its
/// <c>mrtr.key</c> file; the slot serves the store contract and its tests).
/// </summary>
public sealed class SqliteApprovalStateStore(SqliteDatabase database) : IApprovalStateStore
{
    /// <inheritdoc />
    public async Task<byte[]> GetOrCreateKeyAsync(byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction(deferred: false);
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO approval_state_key (id, key, created_at) VALUES (1, $key, $at) ON CONFLICT(id) DO NOTHING";
                insert.Parameters.AddWithValue("$key", candidate);
                insert.Parameters.AddWithValue("$at", TimeProvider.System.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
                insert.ExecuteNonQuery();
            }

            byte[] key;
            using (var read = connection.CreateCommand())
            {
                read.Transaction = tx;
                read.CommandText = "SELECT key FROM approval_state_key WHERE id = 1";
                key = (byte[])read.ExecuteScalar()!;
            }

            tx.Commit();
            return key;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<bool> TryUseAsync(string nonce, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction(deferred: false);
            using (var prune = connection.CreateCommand())
            {
                prune.Transaction = tx;
                prune.CommandText = "DELETE FROM approval_state_used WHERE expires_at < $now";
                prune.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                prune.ExecuteNonQuery();
            }

            int inserted;
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO approval_state_used (nonce, expires_at) VALUES ($nonce, $expires) ON CONFLICT(nonce) DO NOTHING";
                insert.Parameters.AddWithValue("$nonce", nonce);
                insert.Parameters.AddWithValue("$expires", expiresAt.ToUnixTimeMilliseconds());
                inserted = insert.ExecuteNonQuery();
            }

            tx.Commit();
            return inserted == 1;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }
}
