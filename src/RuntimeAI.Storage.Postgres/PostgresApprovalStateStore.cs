using RuntimeAI.Core.Governance;
using static RuntimeAI.Storage.Postgres.PostgresDatabase;

namespace RuntimeAI.Storage.Postgres;

/// <summary>
/// Approval request state shared by replicas: one signing key (the first replica to start inserts
/// its candidate, <c>ON CONFLICT DO NOTHING</c>, and every replica reads back the stored one) and
/// the used nonces, where the primary key decides which replica redeems a state: the insert that
/// wins is the one use; any later insert, on any replica, finds the row and is refused.
/// </summary>
public sealed class PostgresApprovalStateStore(PostgresDatabase database) : IApprovalStateStore
{
    /// <inheritdoc />
    public async Task<byte[]> GetOrCreateKeyAsync(byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Two statements: under READ COMMITTED the read takes a fresh snapshot, so it sees the key of
        // a replica whose insert this one waited for and lost to.
        using var batch = new Npgsql.NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new Npgsql.NpgsqlBatchCommand("""
                    INSERT INTO approval_state_key (id, key, created_at)
                    VALUES (1, $1, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                    ON CONFLICT (id) DO NOTHING
                    """) { Parameters = { new() { Value = candidate } } },
                new Npgsql.NpgsqlBatchCommand("SELECT key FROM approval_state_key WHERE id = 1"),
            },
        };
        return (byte[])(await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async Task<bool> TryUseAsync(string nonce, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var batch = new Npgsql.NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new Npgsql.NpgsqlBatchCommand("DELETE FROM approval_state_used WHERE expires_at < $1") { Parameters = { new() { Value = now.ToUnixTimeMilliseconds() } } },
                new Npgsql.NpgsqlBatchCommand("INSERT INTO approval_state_used (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING")
                {
                    Parameters = { new() { Value = nonce }, new() { Value = expiresAt.ToUnixTimeMilliseconds() } },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return batch.BatchCommands[1].RecordsAffected == 1;
    }
}
