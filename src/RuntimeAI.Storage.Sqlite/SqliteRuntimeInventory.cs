using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>The runtime inventory on SQLite: runtimes, spec revisions, events and operations.</summary>
public sealed class SqliteRuntimeInventory(SqliteDatabase database) : IRuntimeInventory
{
    private const int MaxPageSize = 200;

    /// <inheritdoc />
    public Task<Runtime?> GetRuntimeAsync(string runtimeId, CancellationToken cancellationToken) =>
        Task.FromResult(database.Read(runtimeId, static (connection, id) =>
        {
            var command = connection.Statement("SELECT doc FROM runtimes WHERE id = $id");
            PreparedConnection.Set(command, "$id", id);
            return ReadRuntime(command.ExecuteScalar());
        }));

    /// <inheritdoc />
    public Task<Runtime?> FindRuntimeByBackendRefAsync(string backendRef, CancellationToken cancellationToken) =>
        Task.FromResult(database.Read(backendRef, static (connection, backend) =>
        {
            var command = connection.Statement("SELECT doc FROM runtimes WHERE backend_ref = $ref AND state <> 'deleted' ORDER BY id LIMIT 1");
            PreparedConnection.Set(command, "$ref", backend);
            return ReadRuntime(command.ExecuteScalar());
        }));

    /// <inheritdoc />
    public Task<Page<Runtime>> ListRuntimesAsync(RuntimeQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.PageSize, 1, MaxPageSize);
        var filterKey = FilterKey(query);
        var after = PageToken.Decode(query.PageToken, "runtimes", filterKey);

        var parameters = new List<(string Name, object Value)>();
        // The runtimes that declare dependencies are few: read them through their partial index (schema
        // v7); without statistics SQLite would rather walk every runtime in id order for the ORDER BY.
        var sql = new StringBuilder(query.WithLabel == DryRunSimulator.DependsOnLabel
            ? "SELECT id, doc FROM runtimes INDEXED BY ix_runtimes_depends_on WHERE id > $after"
            : "SELECT id, doc FROM runtimes WHERE id > $after");
        parameters.Add(("$after", after ?? string.Empty));
        if (query.Type is { } type)
        {
            sql.Append(" AND type = $type");
            parameters.Add(("$type", EnumName(type)));
        }

        if (query.State is { } state)
        {
            sql.Append(" AND state = $state");
            parameters.Add(("$state", EnumName(state)));
        }
        else if (!query.IncludeDeleted)
        {
            sql.Append(" AND state <> 'deleted'");
        }

        if (query.TenantId is not null)
        {
            sql.Append(" AND tenant_id = $tenant");
            parameters.Add(("$tenant", query.TenantId));
        }

        if (query.TenantIds is { } tenants)
        {
            sql.Append(" AND tenant_id IN (SELECT value FROM json_each($tenants))");
            parameters.Add(("$tenants", TenantList(tenants)));
        }

        var i = 0;
        foreach (var (key, value) in query.Labels)
        {
            sql.Append(CultureInfo.InvariantCulture,
                $" AND EXISTS (SELECT 1 FROM json_each(runtimes.doc, '$.labels') WHERE json_each.key = $lk{i} AND json_each.value = $lv{i})");
            parameters.Add(($"$lk{i}", key));
            parameters.Add(($"$lv{i}", value));
            i++;
        }

        if (query.WithLabel == DryRunSimulator.DependsOnLabel)
        {
            // Written as the partial index's expression, which SQLite needs to use the index.
            sql.Append(" AND " + DependsOnExpression + " IS NOT NULL");
        }
        else if (query.WithLabel is { } labelKey)
        {
            sql.Append(" AND EXISTS (SELECT 1 FROM json_each(runtimes.doc, '$.labels') WHERE json_each.key = $withlabel)");
            parameters.Add(("$withlabel", labelKey));
        }

        sql.Append(" ORDER BY id LIMIT $limit");
        parameters.Add(("$limit", pageSize + 1));
        return Task.FromResult(database.Read((Sql: sql.ToString(), Parameters: parameters, PageSize: pageSize, FilterKey: filterKey), static (connection, list) =>
        {
            var command = connection.Statement(list.Sql);
            foreach (var (name, value) in list.Parameters)
            {
                PreparedConnection.Set(command, name, value);
            }

            var items = new List<Runtime>();
            string? lastId = null;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (items.Count == list.PageSize)
                {
                    return new Page<Runtime>(items, PageToken.Encode("runtimes", list.FilterKey, lastId!));
                }

                lastId = reader.GetString(0);
                items.Add(ReadRuntime(reader.GetString(1))!);
            }

            return new Page<Runtime>(items, null);
        }));
    }

    /// <inheritdoc />
    public async Task SaveRuntimeAsync(Runtime runtime, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var doc = JsonSerializer.Serialize(runtime, CoreJsonContext.Default.Runtime);
        var spec = JsonSerializer.Serialize(runtime.Spec, CoreJsonContext.Default.RuntimeSpec);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            using (var upsert = connection.CreateCommand())
            {
                upsert.Transaction = tx;
                upsert.CommandText = """
                    INSERT INTO runtimes (id, name, type, state, tenant_id, backend_ref, created_at, updated_at, doc)
                    VALUES ($id, $name, $type, $state, $tenant, $ref, $created, $updated, $doc)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type, state = excluded.state,
                        tenant_id = excluded.tenant_id, backend_ref = excluded.backend_ref,
                        updated_at = excluded.updated_at, doc = excluded.doc
                    """;
                upsert.Parameters.AddWithValue("$id", runtime.Id);
                upsert.Parameters.AddWithValue("$name", runtime.Name);
                upsert.Parameters.AddWithValue("$type", EnumName(runtime.Type));
                upsert.Parameters.AddWithValue("$state", EnumName(runtime.State));
                upsert.Parameters.AddWithValue("$tenant", (object?)runtime.TenantId ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$ref", (object?)runtime.Backend?.Ref ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$created", runtime.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
                upsert.Parameters.AddWithValue("$updated", (object?)runtime.UpdatedAt?.ToString("O", CultureInfo.InvariantCulture) ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$doc", doc);
                upsert.ExecuteNonQuery();
            }

            string? lastSpec = null;
            long lastRevision = 0;
            using (var last = connection.CreateCommand())
            {
                last.Transaction = tx;
                last.CommandText = "SELECT revision, spec FROM spec_revisions WHERE runtime_id = $id ORDER BY revision DESC LIMIT 1";
                last.Parameters.AddWithValue("$id", runtime.Id);
                using var reader = last.ExecuteReader();
                if (reader.Read())
                {
                    lastRevision = reader.GetInt64(0);
                    lastSpec = reader.GetString(1);
                }
            }

            if (!string.Equals(lastSpec, spec, StringComparison.Ordinal))
            {
                using var insert = connection.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO spec_revisions (runtime_id, revision, ts, reason, spec) VALUES ($id, $rev, $ts, $reason, $spec)";
                insert.Parameters.AddWithValue("$id", runtime.Id);
                insert.Parameters.AddWithValue("$rev", lastRevision + 1);
                insert.Parameters.AddWithValue("$ts", (runtime.UpdatedAt ?? runtime.CreatedAt).ToString("O", CultureInfo.InvariantCulture));
                insert.Parameters.AddWithValue("$reason", reason);
                insert.Parameters.AddWithValue("$spec", spec);
                insert.ExecuteNonQuery();
            }

            tx.Commit();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SpecRevision>> GetSpecRevisionsAsync(string runtimeId, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT revision, ts, reason, spec FROM spec_revisions WHERE runtime_id = $id ORDER BY revision";
        command.Parameters.AddWithValue("$id", runtimeId);
        var list = new List<SpecRevision>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new SpecRevision(
                runtimeId,
                reader.GetInt32(0),
                JsonSerializer.Deserialize(reader.GetString(3), CoreJsonContext.Default.RuntimeSpec)!,
                reader.GetString(2),
                DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture)));
        }

        return Task.FromResult<IReadOnlyList<SpecRevision>>(list);
    }

    /// <inheritdoc />
    public async Task AppendEventAsync(RuntimeEvent runtimeEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtimeEvent);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO events (id, runtime_id, type, ts, doc) VALUES ($id, $rt, $type, $ts, $doc)";
            command.Parameters.AddWithValue("$id", runtimeEvent.Id);
            command.Parameters.AddWithValue("$rt", runtimeEvent.RuntimeId);
            command.Parameters.AddWithValue("$type", runtimeEvent.Type);
            command.Parameters.AddWithValue("$ts", runtimeEvent.Ts.ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(runtimeEvent, CoreJsonContext.Default.RuntimeEvent));
            command.ExecuteNonQuery();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<Page<RuntimeEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.PageSize, 1, MaxPageSize);
        var filterKey = $"{query.RuntimeId}|{query.TypePrefix}|{query.Since?.ToUnixTimeMilliseconds()}|{(query.TenantIds is null ? null : TenantList(query.TenantIds))}";
        var after = PageToken.Decode(query.PageToken, "events", filterKey);
        var afterSeq = after is null ? long.MaxValue : long.Parse(after, CultureInfo.InvariantCulture);

        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        // Newest first: an agent looking at events almost always wants what just happened.
        var sql = new StringBuilder("SELECT seq, doc FROM events WHERE seq < $after");
        command.Parameters.AddWithValue("$after", afterSeq);
        if (query.RuntimeId is not null)
        {
            sql.Append(" AND runtime_id = $rt");
            command.Parameters.AddWithValue("$rt", query.RuntimeId);
        }

        if (query.TenantIds is { } tenants)
        {
            sql.Append(" AND runtime_id IN (SELECT id FROM runtimes WHERE tenant_id IN (SELECT value FROM json_each($tenants)))");
            command.Parameters.AddWithValue("$tenants", TenantList(tenants));
        }

        if (!string.IsNullOrEmpty(query.TypePrefix))
        {
            sql.Append(" AND substr(type, 1, length($prefix)) = $prefix");
            command.Parameters.AddWithValue("$prefix", query.TypePrefix);
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND ts >= $since");
            command.Parameters.AddWithValue("$since", since.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        }

        sql.Append(" ORDER BY seq DESC LIMIT $limit");
        command.Parameters.AddWithValue("$limit", pageSize + 1);
        command.CommandText = sql.ToString();
        var items = new List<RuntimeEvent>();
        long lastSeq = 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (items.Count == pageSize)
            {
                return Task.FromResult(new Page<RuntimeEvent>(items,
                    PageToken.Encode("events", filterKey, lastSeq.ToString(CultureInfo.InvariantCulture))));
            }

            lastSeq = reader.GetInt64(0);
            items.Add(JsonSerializer.Deserialize(reader.GetString(1), CoreJsonContext.Default.RuntimeEvent)!);
        }

        return Task.FromResult(new Page<RuntimeEvent>(items, null));
    }

    /// <inheritdoc />
    public async Task SaveOperationAsync(Operation operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO operations (id, runtime_id, status, created_at, doc) VALUES ($id, $rt, $status, $created, $doc)
                ON CONFLICT(id) DO UPDATE SET runtime_id = excluded.runtime_id, status = excluded.status, doc = excluded.doc
                """;
            command.Parameters.AddWithValue("$id", operation.OperationId);
            command.Parameters.AddWithValue("$rt", (object?)operation.RuntimeId ?? DBNull.Value);
            command.Parameters.AddWithValue("$status", EnumName(operation.Status));
            command.Parameters.AddWithValue("$created", operation.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(operation, CoreJsonContext.Default.Operation));
            command.ExecuteNonQuery();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM operations WHERE id = $id";
        command.Parameters.AddWithValue("$id", operationId);
        return Task.FromResult(command.ExecuteScalar() is string doc
            ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.Operation)
            : null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Operation>> ListUnfinishedOperationsAsync(CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM operations WHERE status IN ('queued', 'running') ORDER BY id";
        var list = new List<Operation>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.Operation)!);
        }

        return Task.FromResult<IReadOnlyList<Operation>>(list);
    }

    /// <inheritdoc />
    public Task<(int Operations, int Runtimes)> CountMutationsSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COUNT(DISTINCT runtime_id) FROM operations WHERE created_at >= $since";
        command.Parameters.AddWithValue("$since", since.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        using var reader = command.ExecuteReader();
        reader.Read();
        return Task.FromResult((reader.GetInt32(0), reader.GetInt32(1)));
    }

    private static Runtime? ReadRuntime(object? doc) =>
        doc is string json ? JsonSerializer.Deserialize(json, CoreJsonContext.Default.Runtime) : null;

    /// <summary>The value of a runtime's <see cref="DryRunSimulator.DependsOnLabel"/> label, as indexed.</summary>
    internal const string DependsOnExpression = "json_extract(doc, '$.labels.\"" + DryRunSimulator.DependsOnLabel + "\"')";

    /// <summary>What a runtime page token is bound to (shared by every store, so tokens mean the same on each).</summary>
    internal static string FilterKey(RuntimeQuery query) =>
        string.Join('|', query.Type, query.State, query.TenantId, query.TenantIds is null ? null : TenantList(query.TenantIds), query.IncludeDeleted,
            string.Join(',', query.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")), query.WithLabel);

    internal static string TenantList(IReadOnlyList<string> tenants) =>
        new System.Text.Json.Nodes.JsonArray(tenants.Select(t => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(t)).ToArray()).ToJsonString();

    private static string EnumName<T>(T value) where T : struct, Enum => EnumText.Name(value);
}

/// <summary>
/// Opaque page tokens: the last key seen, bound to the list and its filters by a hash so a token
/// from another query is refused instead of silently giving a wrong page.
/// </summary>
internal static class PageToken
{
    public static string Encode(string list, string filterKey, string lastKey)
    {
        var payload = $"v1|{list}|{Digest(filterKey)}|{lastKey}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static string? Decode(string? token, string list, string filterKey)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        string payload;
        try
        {
            var b64 = token.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            payload = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
        }
        catch (FormatException)
        {
            throw new InvalidPageTokenException("page_token is not a token this server issued; omit it to start from the first page");
        }

        var parts = payload.Split('|', 4);
        if (parts.Length != 4 || parts[0] != "v1" || parts[1] != list)
        {
            throw new InvalidPageTokenException("page_token is not a token this server issued for this list; omit it to start from the first page");
        }

        if (parts[2] != Digest(filterKey))
        {
            throw new InvalidPageTokenException("page_token was issued for different filters; repeat the filters of the first call or omit page_token");
        }

        return parts[3];
    }

    private static string Digest(string text) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 6));
}
