using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Storage.Postgres;

/// <summary>
/// The runtime inventory on PostgreSQL. Concurrent writers on other replicas are serialized by the
/// database: a runtime's save holds its row lock while it numbers the spec revision, and an event
/// insert holds an advisory lock so event positions appear in commit order (what the event feed
/// and the webhook outbox rely on).
/// </summary>
public sealed class PostgresRuntimeInventory(PostgresDatabase database) : IRuntimeInventory
{
    private const int MaxPageSize = 200;

    /// <inheritdoc />
    public async Task<Runtime?> GetRuntimeAsync(string runtimeId, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null, "SELECT doc FROM runtimes WHERE id = @id", ("id", runtimeId));
        return ReadRuntime(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<Runtime?> FindRuntimeByBackendRefAsync(string backendRef, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null,
            "SELECT doc FROM runtimes WHERE backend_ref = @ref AND state <> 'deleted' ORDER BY id LIMIT 1", ("ref", backendRef));
        return ReadRuntime(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<Page<Runtime>> ListRuntimesAsync(RuntimeQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.PageSize, 1, MaxPageSize);
        var filterKey = FilterKey(query);
        var after = PageToken.Decode(query.PageToken, "runtimes", filterKey);

        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand { Connection = connection };
        // COLLATE "C": ids compare byte-wise, as in SQLite, so page tokens mean the same on both stores.
        var sql = new StringBuilder("SELECT id, doc FROM runtimes WHERE id COLLATE \"C\" > @after");
        command.Parameters.AddWithValue("after", after ?? string.Empty);
        if (query.Type is { } type)
        {
            sql.Append(" AND type = @type");
            command.Parameters.AddWithValue("type", EnumText.Name(type));
        }

        if (query.State is { } state)
        {
            sql.Append(" AND state = @state");
            command.Parameters.AddWithValue("state", EnumText.Name(state));
        }
        else if (!query.IncludeDeleted)
        {
            sql.Append(" AND state <> 'deleted'");
        }

        if (query.TenantId is not null)
        {
            sql.Append(" AND tenant_id = @tenant");
            command.Parameters.AddWithValue("tenant", query.TenantId);
        }

        if (query.TenantIds is { } tenants)
        {
            sql.Append(" AND tenant_id = ANY(@tenants)");
            command.Parameters.AddWithValue("tenants", tenants.ToArray());
        }

        var i = 0;
        foreach (var (key, value) in query.Labels)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND (doc::jsonb -> 'labels' ->> @lk{i}) = @lv{i}");
            command.Parameters.AddWithValue($"lk{i}", key);
            command.Parameters.AddWithValue($"lv{i}", value);
            i++;
        }

        if (query.WithLabel == DryRunSimulator.DependsOnLabel)
        {
            // Written as the partial index's expression (schema v4), so PostgreSQL reads the index, not every row.
            sql.Append(" AND " + DependsOnExpression + " IS NOT NULL");
        }
        else if (query.WithLabel is { } labelKey)
        {
            sql.Append(" AND (doc::jsonb -> 'labels' ->> @withlabel) IS NOT NULL");
            command.Parameters.AddWithValue("withlabel", labelKey);
        }

        sql.Append(" ORDER BY id COLLATE \"C\" LIMIT @limit");
        command.Parameters.AddWithValue("limit", pageSize + 1);
        command.CommandText = sql.ToString();

        var items = new List<Runtime>();
        string? lastId = null;
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (items.Count == pageSize)
            {
                return new Page<Runtime>(items, PageToken.Encode("runtimes", filterKey, lastId!));
            }

            lastId = reader.GetString(0);
            items.Add(ReadRuntime(reader.GetString(1))!);
        }

        return new Page<Runtime>(items, null);
    }

    /// <inheritdoc />
    public async Task SaveRuntimeAsync(Runtime runtime, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var doc = JsonSerializer.Serialize(runtime, CoreJsonContext.Default.Runtime);
        var spec = JsonSerializer.Serialize(runtime.Spec, CoreJsonContext.Default.RuntimeSpec);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // The upsert locks the runtime's row until commit: a save on another replica waits here, so
        // revision numbers are never taken twice.
        using (var upsert = PostgresDatabase.Command(connection, tx, """
            INSERT INTO runtimes (id, name, type, state, tenant_id, backend_ref, created_at, updated_at, doc)
            VALUES (@id, @name, @type, @state, @tenant, @ref, @created, @updated, @doc)
            ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type, state = excluded.state,
                tenant_id = excluded.tenant_id, backend_ref = excluded.backend_ref,
                updated_at = excluded.updated_at, doc = excluded.doc
            """,
            ("id", runtime.Id), ("name", runtime.Name), ("type", EnumText.Name(runtime.Type)), ("state", EnumText.Name(runtime.State)),
            ("tenant", runtime.TenantId), ("ref", runtime.Backend?.Ref), ("created", Iso(runtime.CreatedAt)),
            ("updated", runtime.UpdatedAt is { } u ? Iso(u) : null), ("doc", doc)))
        {
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        string? lastSpec = null;
        var lastRevision = 0;
        using (var last = PostgresDatabase.Command(connection, tx,
            "SELECT revision, spec FROM spec_revisions WHERE runtime_id = @id ORDER BY revision DESC LIMIT 1", ("id", runtime.Id)))
        using (var reader = await last.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                lastRevision = reader.GetInt32(0);
                lastSpec = reader.GetString(1);
            }
        }

        if (!string.Equals(lastSpec, spec, StringComparison.Ordinal))
        {
            using var insert = PostgresDatabase.Command(connection, tx,
                "INSERT INTO spec_revisions (runtime_id, revision, ts, reason, spec) VALUES (@id, @rev, @ts, @reason, @spec)",
                ("id", runtime.Id), ("rev", lastRevision + 1), ("ts", Iso(runtime.UpdatedAt ?? runtime.CreatedAt)), ("reason", reason), ("spec", spec));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await database.NotifyAsync(connection, tx, "runtime", runtime.Id, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SpecRevision>> GetSpecRevisionsAsync(string runtimeId, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null,
            "SELECT revision, ts, reason, spec FROM spec_revisions WHERE runtime_id = @id ORDER BY revision", ("id", runtimeId));
        var list = new List<SpecRevision>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new SpecRevision(
                runtimeId,
                reader.GetInt32(0),
                JsonSerializer.Deserialize(reader.GetString(3), CoreJsonContext.Default.RuntimeSpec)!,
                reader.GetString(2),
                DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture)));
        }

        return list;
    }

    /// <inheritdoc />
    public async Task AppendEventAsync(RuntimeEvent runtimeEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtimeEvent);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await InsertEventAsync(connection, tx, runtimeEvent, cancellationToken).ConfigureAwait(false);
        // Sent at commit: streams on every replica wake and read the event by position.
        await database.NotifyAsync(connection, tx, "runtime", runtimeEvent.RuntimeId, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Inserts an event inside <paramref name="tx"/>. An identity value is taken at insert, not at
    /// commit; without the lock, a reader could see position 8 before 7 commits and skip 7 forever.
    /// </summary>
    internal static async Task InsertEventAsync(NpgsqlConnection connection, NpgsqlTransaction tx, RuntimeEvent runtimeEvent, CancellationToken cancellationToken)
    {
        using (var gate = PostgresDatabase.Command(connection, tx, "SELECT pg_advisory_xact_lock(@key)", ("key", PostgresDatabase.EventLogLockKey)))
        {
            await gate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using var command = PostgresDatabase.Command(connection, tx,
            "INSERT INTO events (id, runtime_id, type, ts, doc) VALUES (@id, @rt, @type, @ts, @doc)",
            ("id", runtimeEvent.Id), ("rt", runtimeEvent.RuntimeId), ("type", runtimeEvent.Type), ("ts", Iso(runtimeEvent.Ts)),
            ("doc", JsonSerializer.Serialize(runtimeEvent, CoreJsonContext.Default.RuntimeEvent)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Page<RuntimeEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.PageSize, 1, MaxPageSize);
        var filterKey = $"{query.RuntimeId}|{query.TypePrefix}|{query.Since?.ToUnixTimeMilliseconds()}|{(query.TenantIds is null ? null : TenantList(query.TenantIds))}";
        var after = PageToken.Decode(query.PageToken, "events", filterKey);
        var afterSeq = after is null ? long.MaxValue : long.Parse(after, CultureInfo.InvariantCulture);

        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand { Connection = connection };
        // Newest first: an agent looking at events almost always wants what just happened.
        var sql = new StringBuilder("SELECT seq, doc FROM events WHERE seq < @after");
        command.Parameters.AddWithValue("after", afterSeq);
        if (query.RuntimeId is not null)
        {
            sql.Append(" AND runtime_id = @rt");
            command.Parameters.AddWithValue("rt", query.RuntimeId);
        }

        if (query.TenantIds is { } tenants)
        {
            sql.Append(" AND runtime_id IN (SELECT id FROM runtimes WHERE tenant_id = ANY(@tenants))");
            command.Parameters.AddWithValue("tenants", tenants.ToArray());
        }

        if (!string.IsNullOrEmpty(query.TypePrefix))
        {
            sql.Append(" AND left(type, length(@prefix)) = @prefix");
            command.Parameters.AddWithValue("prefix", query.TypePrefix);
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND ts COLLATE \"C\" >= @since");
            command.Parameters.AddWithValue("since", Iso(since.ToUniversalTime()));
        }

        sql.Append(" ORDER BY seq DESC LIMIT @limit");
        command.Parameters.AddWithValue("limit", pageSize + 1);
        command.CommandText = sql.ToString();
        var items = new List<RuntimeEvent>();
        long lastSeq = 0;
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (items.Count == pageSize)
            {
                return new Page<RuntimeEvent>(items, PageToken.Encode("events", filterKey, lastSeq.ToString(CultureInfo.InvariantCulture)));
            }

            lastSeq = reader.GetInt64(0);
            items.Add(JsonSerializer.Deserialize(reader.GetString(1), CoreJsonContext.Default.RuntimeEvent)!);
        }

        return new Page<RuntimeEvent>(items, null);
    }

    /// <inheritdoc />
    public async Task SaveOperationAsync(Operation operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null, """
            INSERT INTO operations (id, runtime_id, status, created_at, doc) VALUES (@id, @rt, @status, @created, @doc)
            ON CONFLICT(id) DO UPDATE SET runtime_id = excluded.runtime_id, status = excluded.status, doc = excluded.doc
            """,
            ("id", operation.OperationId), ("rt", operation.RuntimeId), ("status", EnumText.Name(operation.Status)),
            ("created", Iso(operation.CreatedAt)), ("doc", JsonSerializer.Serialize(operation, CoreJsonContext.Default.Operation)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await database.NotifyAsync(connection, null, "operation", operation.OperationId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null, "SELECT doc FROM operations WHERE id = @id", ("id", operationId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string doc
            ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.Operation)
            : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Operation>> ListUnfinishedOperationsAsync(CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null,
            "SELECT doc FROM operations WHERE status IN ('queued', 'running') ORDER BY id COLLATE \"C\"");
        var list = new List<Operation>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.Operation)!);
        }

        return list;
    }

    /// <inheritdoc />
    public async Task<(int Operations, int Runtimes)> CountMutationsSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null,
            "SELECT COUNT(*), COUNT(DISTINCT runtime_id) FROM operations WHERE created_at COLLATE \"C\" >= @since", ("since", Iso(since.ToUniversalTime())));
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
    }

    internal static string Iso(DateTimeOffset value) => value.ToString("O", CultureInfo.InvariantCulture);

    private static Runtime? ReadRuntime(object? doc) =>
        doc is string json ? JsonSerializer.Deserialize(json, CoreJsonContext.Default.Runtime) : null;

    /// <summary>The value of a runtime's <see cref="DryRunSimulator.DependsOnLabel"/> label, as indexed.</summary>
    internal const string DependsOnExpression = "(doc::jsonb -> 'labels' ->> '" + DryRunSimulator.DependsOnLabel + "')";

    private static string FilterKey(RuntimeQuery query) => SqliteRuntimeInventory.FilterKey(query);

    private static string TenantList(IReadOnlyList<string> tenants) => SqliteRuntimeInventory.TenantList(tenants);
}
