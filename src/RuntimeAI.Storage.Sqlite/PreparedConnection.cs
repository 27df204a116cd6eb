using Microsoft.Data.Sqlite;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// A SQLite connection whose statements stay prepared from one use to the next. A tool call used to
/// open a pooled connection, build and parse every statement, bind fresh parameter objects and
/// throw all of it away, several times per call. The database lends one to a writer while it holds
/// <see cref="SqliteDatabase.WriteLock"/> (<see cref="SqliteDatabase.Writer"/>) and one to each
/// reader at a time (<see cref="SqliteDatabase.Read"/>).
/// </summary>
/// <remarks>
/// One user at a time, so neither the connection nor the statements are shared between threads.
/// The connection is not pooled: when a write fails mid-transaction and the rollback fails too,
/// closing it is what rolls the transaction back, and the next user opens a fresh one.
/// </remarks>
internal sealed class PreparedConnection : IDisposable
{
    private readonly SqliteDatabase _database;
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private SqliteConnection? _connection;
    private bool _inTransaction;

    // Lists build their SQL from their filters: a connection keeps this many texts, then starts over.
    private const int MaxStatements = 64;

    internal PreparedConnection(SqliteDatabase database) => _database = database;

    /// <summary>Starts a write transaction that takes the database's write lock at once (<c>BEGIN IMMEDIATE</c>).</summary>
    public void Begin()
    {
        if (_inTransaction)
        {
            throw new InvalidOperationException("a write transaction is already open on this connection; commit or roll it back first");
        }

        Statement("BEGIN IMMEDIATE").ExecuteNonQuery();
        _inTransaction = true;
    }

    /// <summary>Commits the transaction <see cref="Begin"/> started.</summary>
    public void Commit()
    {
        Statement("COMMIT").ExecuteNonQuery();
        _inTransaction = false;
    }

    /// <summary>
    /// Rolls back a transaction left open by a write that failed; a no-op after <see cref="Commit"/>.
    /// If the rollback itself fails, the connection is closed (SQLite rolls back on close).
    /// </summary>
    public void RollbackIfOpen()
    {
        if (!_inTransaction)
        {
            return;
        }

        _inTransaction = false;
        try
        {
            // Some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) end the transaction themselves.
            if (_connection is { } connection && !connection.Handle!.IsInvalid && SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
            {
                Statement("ROLLBACK").ExecuteNonQuery();
            }
        }
        catch (SqliteException)
        {
            Close();
        }
    }

    /// <summary>
    /// The prepared statement for <paramref name="sql"/> on this connection, created on first use.
    /// Set each parameter with <see cref="Set"/> before every execution; a value left from the previous
    /// execution would otherwise be bound again.
    /// </summary>
    public SqliteCommand Statement(string sql)
    {
        if (!_statements.TryGetValue(sql, out var command))
        {
            if (_statements.Count >= MaxStatements && !_inTransaction)
            {
                DisposeStatements();
            }

            _connection ??= _database.OpenConnection(pooled: false);
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _statements.Add(sql, command);
        }

        return command;
    }

    /// <summary>Sets (adding it the first time) the value of parameter <paramref name="name"/> of a statement.</summary>
    public static void Set(SqliteCommand command, string name, object? value)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index < 0)
        {
            parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        else
        {
            parameters[index].Value = value ?? DBNull.Value;
        }
    }

    /// <summary>Closes the connection and drops its statements; the next use opens a new one.</summary>
    public void Close()
    {
        DisposeStatements();
        _connection?.Dispose();
        _connection = null;
        _inTransaction = false;
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    private void DisposeStatements()
    {
        foreach (var command in _statements.Values)
        {
            command.Dispose();
        }

        _statements.Clear();
    }
}
