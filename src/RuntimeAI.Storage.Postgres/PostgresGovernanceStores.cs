using System.Text.Json;
using Npgsql;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Planning;
using RuntimeAI.Storage.Sqlite;
using static RuntimeAI.Storage.Postgres.PostgresDatabase;
using static RuntimeAI.Storage.Postgres.PostgresRuntimeInventory;

namespace RuntimeAI.Storage.Postgres;

/// <summary>Saga steps on PostgreSQL, one row per step; a batch of steps is one transaction.</summary>
public sealed class PostgresSagaStore(PostgresDatabase database) : ISagaStore
{
    /// <inheritdoc />
    public async Task SaveStepsAsync(string operationId, IReadOnlyList<SagaStep> steps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(steps);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var step in steps)
        {
            using var command = Command(connection, tx, """
                INSERT INTO saga_steps (operation_id, step, status, doc, updated_at) VALUES (@op, @step, @status, @doc, @ts)
                ON CONFLICT(operation_id, step) DO UPDATE SET status = excluded.status, doc = excluded.doc, updated_at = excluded.updated_at
                """,
                ("op", operationId), ("step", step.Step), ("status", SagaJson.Name(step.Status)), ("doc", SagaJson.Serialize(step)), ("ts", Iso(step.UpdatedAt)));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task SaveStepAsync(string operationId, SagaStep step, CancellationToken cancellationToken) =>
        SaveStepsAsync(operationId, [step], cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<SagaStep>> GetStepsAsync(string operationId, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT doc FROM saga_steps WHERE operation_id = @op ORDER BY step", ("op", operationId));
        var list = new List<SagaStep>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(SagaJson.Deserialize(reader.GetString(0)));
        }

        return list;
    }
}

/// <summary>
/// Idempotency keys on PostgreSQL, scoped by principal like the SQLite store. Global across
/// replicas: the primary key decides the one holder, and a second claimer's insert waits for the
/// first's commit, then reads its row.
/// </summary>
public sealed class PostgresIdempotencyStore(PostgresDatabase database) : IIdempotencyStore
{
    /// <inheritdoc />
    public async Task<IdempotencyRecord> ClaimAsync(IdempotencyRecord candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        using (var insert = Command(connection, tx, """
            INSERT INTO idempotency (key, principal, tool, payload_digest, operation_id, result, created_at)
            VALUES (@key, @principal, @tool, @digest, @op, NULL, @ts)
            ON CONFLICT(key) DO NOTHING
            """,
            ("key", ScopedKey(candidate.Principal, candidate.Key)), ("principal", candidate.Principal), ("tool", candidate.Tool),
            ("digest", candidate.PayloadDigest), ("op", candidate.OperationId), ("ts", Iso(candidate.CreatedAt))))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var holder = await ReadAsync(connection, tx, candidate.Principal, candidate.Key, cancellationToken).ConfigureAwait(false);
        Failpoints.Hit(Failpoints.IdempotencyWriteBefore);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        Failpoints.Hit(Failpoints.IdempotencyWriteAfter);
        return holder!;
    }

    /// <inheritdoc />
    public async Task CompleteAsync(IdempotencyRecord record, string resultJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "UPDATE idempotency SET result = @result WHERE key = @key AND operation_id = @op",
            ("key", ScopedKey(record.Principal, record.Key)), ("op", record.OperationId), ("result", resultJson));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IdempotencyRecord?> FindAsync(string principal, string key, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(connection, null, principal, key, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IdempotencyRecord?> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string principal, string key, CancellationToken cancellationToken)
    {
        using var select = Command(connection, tx, "SELECT tool, payload_digest, operation_id, created_at FROM idempotency WHERE key = @key",
            ("key", ScopedKey(principal, key)));
        using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new IdempotencyRecord
        {
            Key = key,
            Principal = principal,
            Tool = reader.GetString(0),
            PayloadDigest = reader.GetString(1),
            OperationId = reader.IsDBNull(2) ? string.Empty : reader.GetString(2),
            CreatedAt = DateTimeOffset.Parse(reader.GetString(3), System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static string ScopedKey(string principal, string key) => principal + "\u001f" + key;
}

/// <summary>Proposals on PostgreSQL; transitions are compare-and-set in one UPDATE, so an approval is used once on every replica.</summary>
public sealed class PostgresProposalStore(PostgresDatabase database) : IProposalStore
{
    private const string ApprovalCount =
        "CASE WHEN jsonb_typeof(doc::jsonb -> 'approvals') = 'array' THEN jsonb_array_length(doc::jsonb -> 'approvals') ELSE 0 END";

    /// <inheritdoc />
    public async Task SaveAsync(Proposal proposal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            INSERT INTO proposals (id, status, runtime_id, proposed_by, digest, created_at, expires_at, doc)
            VALUES (@id, @status, @rt, @by, @digest, @created, @expires, @doc)
            ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc
            """, Bind(proposal));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Proposal?> GetAsync(string proposalId, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT doc FROM proposals WHERE id = @id", ("id", proposalId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string doc
            ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.Proposal)
            : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Proposal>> ListAsync(ProposalStatus? status, int limit, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = status is { } s
            ? Command(connection, null, "SELECT doc FROM proposals WHERE status = @status ORDER BY id COLLATE \"C\" DESC LIMIT @limit",
                ("status", EnumText.Name(s)), ("limit", Math.Clamp(limit, 1, 1000)))
            : Command(connection, null, "SELECT doc FROM proposals ORDER BY id COLLATE \"C\" DESC LIMIT @limit", ("limit", Math.Clamp(limit, 1, 1000)));
        var list = new List<Proposal>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.Proposal)!);
        }

        return list;
    }

    /// <inheritdoc />
    public async Task<bool> TransitionAsync(Proposal updated, ProposalStatus from, CancellationToken cancellationToken, int? approvalsBefore = null)
    {
        ArgumentNullException.ThrowIfNull(updated);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var parameters = Bind(updated).Append(("from", EnumText.Name(from))).Append(("approvals", approvalsBefore)).ToArray();
        using var command = Command(connection, null, approvalsBefore is null
            ? "UPDATE proposals SET status = @status, doc = @doc WHERE id = @id AND status = @from"
            : $"UPDATE proposals SET status = @status, doc = @doc WHERE id = @id AND status = @from AND {ApprovalCount} = @approvals",
            approvalsBefore is null ? parameters[..^1] : parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    private static (string, object?)[] Bind(Proposal proposal) =>
    [
        ("id", proposal.ProposalId), ("status", EnumText.Name(proposal.Status)), ("rt", proposal.RuntimeId), ("by", proposal.ProposedBy),
        ("digest", proposal.Digest), ("created", Iso(proposal.CreatedAt)), ("expires", proposal.ExpiresAt is { } e ? Iso(e) : null),
        ("doc", JsonSerializer.Serialize(proposal, CoreJsonContext.Default.Proposal)),
    ];
}

/// <summary>Policies managed through the admin tools, on PostgreSQL (same columns as the SQLite store).</summary>
public sealed class PostgresPolicyStore(PostgresDatabase database, TimeProvider time) : IPolicyStore
{
    /// <summary>Loads the policy registry (the directory's files plus the stored policies) for a server.</summary>
    /// <exception cref="StoreException">A file or stored policy has an error; the message lists every one.</exception>
    public static PolicyRegistry LoadRegistry(PostgresDatabase database, string? policiesDirectory, TimeProvider time) =>
        SqlitePolicyStore.LoadRegistry(new PostgresPolicyStore(database, time), policiesDirectory);

    /// <inheritdoc />
    /// <remarks>The contract is synchronous (the registry reads it when it loads); this blocks on the pool.</remarks>
    public IReadOnlyList<StoredPolicy> List()
    {
        using var connection = database.OpenConnectionAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        using var command = Command(connection, null, "SELECT id, name, doc, source, created_at, updated_at FROM policies ORDER BY id COLLATE \"C\"");
        using var reader = command.ExecuteReader();
        var policies = new List<StoredPolicy>();
        while (reader.Read())
        {
            policies.Add(new StoredPolicy(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                DateTimeOffset.Parse(reader.GetString(4), System.Globalization.CultureInfo.InvariantCulture),
                reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return policies;
    }

    /// <inheritdoc />
    public async Task<StoredPolicy> PutAsync(string id, string name, string document, string principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(principal);
        var now = time.GetUtcNow();
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One statement: a put on another replica at the same moment either creates or updates, never both.
        using var command = Command(connection, null, """
            INSERT INTO policies (id, name, source, doc, created_at, updated_at) VALUES (@id, @name, @source, @doc, @now, NULL)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, source = excluded.source, doc = excluded.doc, updated_at = @now
            RETURNING created_at, updated_at
            """, ("id", id), ("name", name), ("source", principal), ("doc", document), ("now", Iso(now)));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return reader.IsDBNull(1)
            ? new StoredPolicy(id, name, document, principal, now, null)
            : new StoredPolicy(id, name, document, principal, DateTimeOffset.Parse(reader.GetString(0), System.Globalization.CultureInfo.InvariantCulture), now);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "DELETE FROM policies WHERE id = @id", ("id", id));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }
}

/// <summary>API keys on PostgreSQL: one active key per name (a partial unique index); only secret hashes are stored.</summary>
public sealed class PostgresApiKeyStore(PostgresDatabase database) : IApiKeyStore
{
    /// <inheritdoc />
    public async Task<bool> AddAsync(ApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "INSERT INTO api_keys (id, name, secret_hash, revoked_at, doc) VALUES (@id, @name, @hash, NULL, @doc)",
            ("id", key.Id), ("name", key.Name), ("hash", key.SecretHash), ("doc", JsonSerializer.Serialize(key, CoreJsonContext.Default.ApiKey)));
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT doc FROM api_keys WHERE id = @id", ("id", id));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string doc
            ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.ApiKey)
            : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT doc FROM api_keys ORDER BY name COLLATE \"C\", id COLLATE \"C\"");
        var list = new List<ApiKey>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.ApiKey)!);
        }

        return list;
    }

    /// <inheritdoc />
    public async Task<ApiKey?> RevokeAsync(string idOrName, string revokedBy, DateTimeOffset at, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        string? doc;
        using (var select = Command(connection, tx, "SELECT doc FROM api_keys WHERE (id = @key OR name = @key) AND revoked_at IS NULL FOR UPDATE", ("key", idOrName)))
        {
            doc = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        }

        if (doc is null)
        {
            return null;
        }

        var revoked = JsonSerializer.Deserialize(doc, CoreJsonContext.Default.ApiKey)! with { RevokedAt = at, RevokedBy = revokedBy };
        using (var update = Command(connection, tx, "UPDATE api_keys SET revoked_at = @at, doc = @doc WHERE id = @id",
            ("at", Iso(at.ToUniversalTime())), ("doc", JsonSerializer.Serialize(revoked, CoreJsonContext.Default.ApiKey)), ("id", revoked.Id)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return revoked;
    }
}

/// <summary>Intent records on PostgreSQL (one JSON document per intent).</summary>
public sealed class PostgresIntentStore(PostgresDatabase database) : IIntentStore
{
    /// <inheritdoc />
    public async Task SaveAsync(IntentRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, """
            INSERT INTO intents (id, runtime_id, status, principal, created_at, doc) VALUES (@id, @rt, @status, @by, @created, @doc)
            ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc
            """,
            ("id", record.IntentId), ("rt", record.RuntimeId), ("status", record.Status), ("by", record.Principal),
            ("created", Iso(record.CreatedAt)), ("doc", JsonSerializer.Serialize(record, CoreJsonContext.Default.IntentRecord)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IntentRecord?> GetAsync(string intentId, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "SELECT doc FROM intents WHERE id = @id", ("id", intentId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string doc
            ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.IntentRecord)
            : null;
    }
}
