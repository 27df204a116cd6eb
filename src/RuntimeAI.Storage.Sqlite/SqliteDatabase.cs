using Microsoft.Data.Sqlite;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in the data directory, in WAL mode with full sync so a
/// write is durable when its task completes. Schema migrations are versioned in code
/// (<c>PRAGMA user_version</c>); a file from a newer build or a file that is not a database is
/// refused with an error that says what to do, never overwritten.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    /// <summary>The file name inside the data directory.</summary>
    public const string FileName = "runtimeai.db";

    private static readonly string[] s_migrations =
    [
        // v1: inventory, events, operations, audit
        """
        CREATE TABLE runtimes (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            state TEXT NOT NULL,
            tenant_id TEXT,
            backend_ref TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT,
            doc TEXT NOT NULL
        );
        CREATE INDEX ix_runtimes_backend_ref ON runtimes(backend_ref);
        CREATE TABLE spec_revisions (
            runtime_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            ts TEXT NOT NULL,
            reason TEXT NOT NULL,
            spec TEXT NOT NULL,
            PRIMARY KEY (runtime_id, revision)
        );
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            runtime_id TEXT NOT NULL,
            type TEXT NOT NULL,
            ts TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX ix_events_runtime ON events(runtime_id, seq);
        CREATE TABLE operations (
            id TEXT PRIMARY KEY,
            runtime_id TEXT,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX ix_operations_status ON operations(status);
        CREATE TABLE audit_inflight (
            call_id TEXT PRIMARY KEY,
            doc TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            call_id TEXT NOT NULL,
            ts TEXT NOT NULL,
            tool TEXT NOT NULL,
            principal TEXT NOT NULL,
            runtime_id TEXT,
            doc TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        """,
        // v2: governance — policies managed through tools, approval proposals, idempotency keys, saga steps
        """
        CREATE TABLE policies (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            source TEXT NOT NULL,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT
        );
        CREATE TABLE proposals (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            runtime_id TEXT,
            proposed_by TEXT NOT NULL,
            digest TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            doc TEXT NOT NULL
        );
        CREATE INDEX ix_proposals_status ON proposals(status);
        CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            principal TEXT NOT NULL,
            tool TEXT NOT NULL,
            payload_digest TEXT NOT NULL,
            operation_id TEXT,
            result TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE saga_steps (
            operation_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            status TEXT NOT NULL,
            doc TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (operation_id, step)
        );
        """,
        // v3: identity — API keys (only the SHA-256 of each secret is stored)
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            revoked_at TEXT,
            doc TEXT NOT NULL
        );
        CREATE UNIQUE INDEX ux_api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL;
        """,
        // v4: signal history (raw samples rolled up per minute and per hour) and intents
        """
        CREATE TABLE signal_raw (
            runtime_id TEXT NOT NULL,
            metric TEXT NOT NULL,
            ts INTEGER NOT NULL,
            value REAL NOT NULL
        );
        CREATE INDEX ix_signal_raw_series ON signal_raw(runtime_id, metric, ts);
        CREATE INDEX ix_signal_raw_ts ON signal_raw(ts);
        CREATE TABLE signal_rollup (
            resolution INTEGER NOT NULL,
            runtime_id TEXT NOT NULL,
            metric TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            sum REAL NOT NULL,
            min REAL NOT NULL,
            max REAL NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (resolution, runtime_id, metric, bucket)
        ) WITHOUT ROWID;
        CREATE TABLE intents (
            id TEXT PRIMARY KEY,
            runtime_id TEXT,
            status TEXT NOT NULL,
            principal TEXT NOT NULL,
            created_at TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        """,
        // v5: webhooks — subscriptions, the delivery outbox, and how far the outbox has read the event log
        """
        CREATE TABLE webhook_subscriptions (
            id TEXT PRIMARY KEY,
            tenant_id TEXT,
            runtime_id TEXT,
            event_types TEXT NOT NULL,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            description TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            from_seq INTEGER NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
            event_seq INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            runtime_id TEXT NOT NULL,
            tenant_id TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_status INTEGER,
            last_error TEXT,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            UNIQUE (subscription_id, event_seq)
        );
        CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
        CREATE TABLE webhook_outbox_cursor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq INTEGER NOT NULL
        );
        INSERT INTO webhook_outbox_cursor (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events;
        """,
        // v6: approval request state — the signing key a store may hold, and the nonces already used (single use)
        """
        CREATE TABLE approval_state_key (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            key BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE approval_state_used (
            nonce TEXT PRIMARY KEY,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX ix_approval_state_used_expires ON approval_state_used(expires_at);
        """,
        // v7: the runtimes that declare dependencies, found by a gated call's simulation without reading the whole inventory
        """
        CREATE INDEX ix_runtimes_depends_on ON runtimes(
        """ + SqliteRuntimeInventory.DependsOnExpression + ") WHERE " + SqliteRuntimeInventory.DependsOnExpression + """
         IS NOT NULL;
        """,
    ];

    /// <summary>What every connection runs once: durable commits, foreign keys, and waiting for a writer instead of failing.</summary>
    internal const string ConnectionPragmas = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";

    private readonly string _connectionString;
    private readonly string _unpooledConnectionString;

    /// <summary>The physical connections (SQLite handles, kept alive by the pool) that have run <see cref="ConnectionPragmas"/>.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, SQLitePCL.sqlite3> _configured = new();

    private SqliteDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _unpooledConnectionString = new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString();
        Writer = new PreparedConnection(this);
    }

    // Idle reader connections kept for the next read (as many as reads ran at once, up to this); beyond it a read opens one and closes it after.
    private const int MaxIdleReaders = 16;

    private readonly System.Collections.Concurrent.ConcurrentBag<PreparedConnection> _idleReaders = [];
    private bool _disposed;

    /// <summary>Full path of the database file.</summary>
    public string Path { get; }

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => s_migrations.Length;

    /// <summary>Serializes writers inside this process; SQLite allows one writer at a time anyway.</summary>
    internal SemaphoreSlim WriteLock { get; } = new(1, 1);

    /// <summary>The writer connection with its prepared statements; use it only while holding <see cref="WriteLock"/>.</summary>
    internal PreparedConnection Writer { get; }

    /// <summary>
    /// Runs a read on a connection lent for its duration, whose statements stay prepared for the next
    /// read. <paramref name="read"/> must finish with every data reader it opened (a statement left
    /// stepping would hold its snapshot of the file).
    /// </summary>
    internal T Read<TState, T>(TState state, Func<PreparedConnection, TState, T> read)
    {
        if (!_idleReaders.TryTake(out var connection))
        {
            connection = new PreparedConnection(this);
        }

        try
        {
            var result = read(connection, state);
            if (_idleReaders.Count < MaxIdleReaders && !Volatile.Read(ref _disposed))
            {
                _idleReaders.Add(connection);
                connection = null;
                if (Volatile.Read(ref _disposed))
                {
                    DisposeIdleReaders();
                }
            }

            return result;
        }
        finally
        {
            // Not kept: beyond the idle limit, or the read failed (the next read starts on a fresh connection).
            connection?.Dispose();
        }
    }

    /// <summary>Opens (and creates or migrates) the database in <paramref name="dataDir"/>.</summary>
    /// <exception cref="StoreException">The directory is not writable, the file is not a database, or its schema is newer.</exception>
    public static SqliteDatabase Open(string dataDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        var file = System.IO.Path.Combine(dataDir, FileName);
        var fresh = !File.Exists(file);
        try
        {
            // Owner-only: the store holds the audit trail, proposals and key hashes; other local users have no business there.
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(dataDir);
            }
            else
            {
                Directory.CreateDirectory(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var probe = System.IO.Path.Combine(dataDir, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreException(
                $"data directory '{dataDir}' is not writable ({ex.Message}); pass --data-dir with a directory you can write to");
        }

        var db = new SqliteDatabase(file);
        try
        {
            db.Migrate();
            if (fresh && !OperatingSystem.IsWindows())
            {
                // SQLite gives its -wal and -shm files the database file's mode.
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 26 or 11)
        {
            db.Dispose();
            throw new StoreException(
                $"'{db.Path}' is not a readable RuntimeAI database (SQLite: {ex.Message}); move it aside or restore it from a backup — nothing was changed");
        }

        return db;
    }

    /// <summary>Null when the database answers a query; otherwise what is wrong (for /readyz).</summary>
    public string? CheckReadiness()
    {
        try
        {
            using var connection = OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM runtimes";
            command.ExecuteScalar();
            return null;
        }
        catch (SqliteException ex)
        {
            return $"database {Path} does not answer: {ex.Message}";
        }
    }

    /// <summary>Opens a connection with the pragmas every connection needs.</summary>
    /// <remarks>
    /// The pragmas belong to the physical connection, which the pool hands out again and again: they
    /// are set when it is first opened, not on every open (that was three statements parsed and run
    /// per open, several opens per tool call).
    /// </remarks>
    internal SqliteConnection OpenConnection(bool pooled = true)
    {
        var connection = new SqliteConnection(pooled ? _connectionString : _unpooledConnectionString);
        connection.Open();
        var handle = connection.Handle!;
        if (!_configured.TryGetValue(handle, out _))
        {
            using var command = connection.CreateCommand();
            command.CommandText = ConnectionPragmas;
            command.ExecuteNonQuery();
            _configured.AddOrUpdate(handle, handle);
        }

        return connection;
    }

    private void DisposeIdleReaders()
    {
        while (_idleReaders.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private void Migrate()
    {
        using var connection = OpenConnection();

        // Read-only checks first: a file we must refuse is left exactly as it was.
        var version = ReadUserVersion(connection);
        if (version > s_migrations.Length)
        {
            throw new StoreException(
                $"'{Path}' has schema version {version} but this runtimeai knows only up to {s_migrations.Length}; upgrade runtimeai, or use another --data-dir — nothing was changed");
        }

        using (var check = connection.CreateCommand())
        {
            check.CommandText = "PRAGMA quick_check;";
            var result = check.ExecuteScalar() as string;
            if (!string.Equals(result, "ok", StringComparison.Ordinal))
            {
                throw new StoreException(
                    $"'{Path}' failed SQLite's integrity check ({result}); move it aside or restore it from a backup — nothing was changed");
            }
        }

        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }

        for (var v = version; v < s_migrations.Length; v++)
        {
            using var tx = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = s_migrations[v] + $"\nPRAGMA user_version={v + 1};";
            command.ExecuteNonQuery();
            tx.Commit();
        }
    }

    private static int ReadUserVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        DisposeIdleReaders();

        Writer.Dispose();
        WriteLock.Dispose();
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }
}

/// <summary>A store problem with a message that names the cause and the fix.</summary>
public sealed class StoreException : Exception
{
    public StoreException()
    {
    }

    public StoreException(string message) : base(message)
    {
    }

    public StoreException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
