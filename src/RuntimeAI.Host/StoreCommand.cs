using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Storage.Postgres;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai store migrate --from sqlite:DIR --to postgres:FILE|env</c>: copies an installation's
/// state from the embedded SQLite store into an empty PostgreSQL database and verifies the copy
/// (row counts per table, and the audit chain re-verified on the target with the source's head).
/// </summary>
/// <remarks>
/// The source is read in one read transaction, so a running server's file gives one consistent
/// snapshot (WAL); what it writes after that instant is not copied, so stop the server before the
/// final copy. The target is written in one transaction: a failed copy leaves it empty.
/// </remarks>
internal static class StoreCommand
{
    /// <summary>Tables in copy order, with their columns (the same in both stores). Identity columns that PostgreSQL numbers itself are left out.</summary>
    private static readonly (string Table, string Columns, string Order)[] s_tables =
    [
        ("runtimes", "id, name, type, state, tenant_id, backend_ref, created_at, updated_at, doc", "id"),
        ("spec_revisions", "runtime_id, revision, ts, reason, spec", "runtime_id, revision"),
        ("events", "seq, id, runtime_id, type, ts, doc", "seq"),
        ("operations", "id, runtime_id, status, created_at, doc", "id"),
        ("saga_steps", "operation_id, step, status, doc, updated_at", "operation_id, step"),
        ("idempotency", "key, principal, tool, payload_digest, operation_id, result, created_at", "key"),
        ("proposals", "id, status, runtime_id, proposed_by, digest, created_at, expires_at, doc", "id"),
        ("policies", "id, name, source, doc, created_at, updated_at", "id"),
        ("api_keys", "id, name, secret_hash, revoked_at, doc", "id"),
        ("intents", "id, runtime_id, status, principal, created_at, doc", "id"),
        ("signal_raw", "runtime_id, metric, ts, value", "ts, rowid"),
        ("signal_rollup", "resolution, runtime_id, metric, bucket, sum, min, max, count", "resolution, runtime_id, metric, bucket"),
        ("audit_inflight", "call_id, doc", "call_id"),
        ("audit_log", "seq, call_id, ts, tool, principal, runtime_id, doc, prev_hash, hash", "seq"),
        ("webhook_subscriptions", "id, tenant_id, runtime_id, event_types, url, secret, description, created_by, created_at, from_seq", "created_at, rowid"),
        ("webhook_deliveries", "id, subscription_id, event_seq, event_id, runtime_id, tenant_id, status, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at", "event_seq, id"),
    ];

    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The source: sqlite:DIR, the data directory of the installation to copy.", Required = true };
        var to = new Option<string>("--to")
        {
            Description = "The target: postgres:FILE (a file holding the connection string) or postgres:env (RUNTIMEAI_POSTGRES_CONNECTION). Its database must hold no RuntimeAI data yet.",
            Required = true,
        };
        var migrate = new Command("migrate", "Copy inventory, operations, proposals, policies, keys and the audit trail (chain intact) from SQLite into an empty PostgreSQL database, then verify the copy.")
        {
            from, to,
        };
        migrate.SetAction(async (parse, ct) => await MigrateAsync(parse.GetValue(from)!, parse.GetValue(to)!, ct));
        return new Command("store", "Move an installation's state between stores.") { migrate };
    }

    internal static async Task<int> MigrateAsync(string from, string to, CancellationToken cancellationToken)
    {
        var dataDir = from.StartsWith("sqlite:", StringComparison.Ordinal) ? from["sqlite:".Length..]
            : throw new CliException($"--from '{from}' is not a source this command reads; use sqlite:DIR with the server's data directory", 2);
        var connectionString = ResolveTarget(to);
        var file = Path.Combine(dataDir, SqliteDatabase.FileName);
        if (!File.Exists(file))
        {
            throw new CliException($"no RuntimeAI store at '{file}'; pass --from sqlite:DIR with the server's data directory", 2);
        }

        // Opening migrates an older file to this build's schema, so both sides have the same columns.
        using (SqliteDatabase.Open(dataDir))
        {
        }

        using var target = await PostgresDatabase.OpenAsync(connectionString, cancellationToken);
        using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        source.Open();
        using var snapshot = source.BeginTransaction(deferred: true);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);

        using (var connection = await target.OpenConnectionAsync(cancellationToken))
        {
            using var tx = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var table in new[] { "runtimes", "events", "operations", "audit_log", "proposals", "policies", "api_keys" })
            {
                using var any = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {table})", connection, tx);
                if (await any.ExecuteScalarAsync(cancellationToken) is true)
                {
                    throw new CliException($"the target database already holds RuntimeAI data ({table} is not empty); migrate into an empty database — nothing was copied", 2);
                }
            }

            foreach (var (table, columns, order) in s_tables)
            {
                counts[table] = await CopyTableAsync(source, snapshot, connection, tx, table, columns, order, cancellationToken);
            }

            using (var cursor = source.CreateCommand())
            {
                cursor.Transaction = snapshot;
                cursor.CommandText = "SELECT last_seq FROM webhook_outbox_cursor WHERE id = 1";
                var lastSeq = Convert.ToInt64(cursor.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
                using var update = new NpgsqlCommand("UPDATE webhook_outbox_cursor SET last_seq = @seq WHERE id = 1", connection, tx);
                update.Parameters.AddWithValue("seq", lastSeq);
                await update.ExecuteNonQueryAsync(cancellationToken);
            }

            // New events are numbered after the copied ones.
            using (var sequence = new NpgsqlCommand("SELECT setval(pg_get_serial_sequence('events', 'seq'), GREATEST((SELECT MAX(seq) FROM events), 1), (SELECT MAX(seq) FROM events) IS NOT NULL)", connection, tx))
            {
                await sequence.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }

        await VerifyCopyAsync(source, snapshot, target, counts, cancellationToken);
        return 0;
    }

    /// <summary>The connection string named by <c>--to</c>; never the string itself, which would show in the process list.</summary>
    private static string ResolveTarget(string to)
    {
        if (!to.StartsWith("postgres:", StringComparison.Ordinal))
        {
            throw new CliException($"--to must be postgres:FILE or postgres:env", 2);
        }

        var where = to["postgres:".Length..];
        if (where == "env")
        {
            return Environment.GetEnvironmentVariable("RUNTIMEAI_POSTGRES_CONNECTION") is { Length: > 0 } fromEnv
                ? fromEnv
                : throw new CliException("--to postgres:env but RUNTIMEAI_POSTGRES_CONNECTION is not set; set it, or pass postgres:FILE with a file holding the connection string", 2);
        }

        if (where.Contains('=', StringComparison.Ordinal))
        {
            throw new CliException("--to must name a file holding the connection string (postgres:FILE) or postgres:env, not the connection string itself: a command line is visible to every local user", 2);
        }

        try
        {
            return File.ReadAllText(where).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"connection string file '{where}' cannot be read ({ex.Message}); pass --to postgres:FILE with a readable file, or postgres:env", 2);
        }
    }

    private static async Task<long> CopyTableAsync(SqliteConnection source, SqliteTransaction snapshot, NpgsqlConnection connection, NpgsqlTransaction tx,
        string table, string columns, string order, CancellationToken cancellationToken)
    {
        var names = columns.Split(", ");
        using var read = source.CreateCommand();
        read.Transaction = snapshot;
        read.CommandText = $"SELECT {columns} FROM {table} ORDER BY {order}";
        using var reader = read.ExecuteReader();
        using var insert = new NpgsqlCommand($"INSERT INTO {table} ({columns}) VALUES ({string.Join(", ", names.Select(n => "@" + n))})", connection, tx);
        long copied = 0;
        while (reader.Read())
        {
            insert.Parameters.Clear();
            for (var i = 0; i < names.Length; i++)
            {
                insert.Parameters.AddWithValue(names[i], reader.IsDBNull(i) ? DBNull.Value : reader.GetValue(i));
            }

            await insert.ExecuteNonQueryAsync(cancellationToken);
            copied++;
        }

        return copied;
    }

    private static async Task VerifyCopyAsync(SqliteConnection source, SqliteTransaction snapshot, PostgresDatabase target, Dictionary<string, long> counts, CancellationToken cancellationToken)
    {
        using var connection = await target.OpenConnectionAsync(cancellationToken);
        foreach (var (table, copied) in counts)
        {
            using var count = new NpgsqlCommand($"SELECT COUNT(*) FROM {table}", connection);
            var there = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            if (there != copied)
            {
                throw new CliException($"copy check failed: {table} has {there} rows on the target but {copied} were copied; the target is not usable, drop its tables and migrate again", 1);
            }
        }

        var sourceHead = AuditChain.GenesisHash;
        using (var head = source.CreateCommand())
        {
            head.Transaction = snapshot;
            head.CommandText = "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1";
            if (head.ExecuteScalar() is string h)
            {
                sourceHead = h;
            }
        }

        var records = new List<AuditRecord>();
        using (var read = new NpgsqlCommand("SELECT doc FROM audit_log ORDER BY seq", connection))
        using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                records.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.AuditRecord)!);
            }
        }

        var verdict = AuditChain.Verify(records, records.Count == 0 ? null : sourceHead);
        if (!verdict.Ok)
        {
            throw new CliException($"copy check failed: the audit chain on the target is broken at record {verdict.FirstBadSeq} ({verdict.Reason}); if 'runtimeai audit verify' passes on the source, drop the target's tables and migrate again", 1);
        }

        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"copied {counts["runtimes"]} runtimes, {counts["operations"]} operations, {counts["proposals"]} proposals, {counts["policies"]} policies, {counts["events"]} events, {counts["api_keys"]} API keys, {counts["audit_log"]} audit records to {target.Description}; row counts match; audit chain intact on the target, head {sourceHead} (the source's)"));
    }
}
