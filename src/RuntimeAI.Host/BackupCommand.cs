using System.CommandLine;
using System.Globalization;
using Microsoft.Data.Sqlite;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai backup --to DIR</c>: a consistent copy of a (possibly running) server's data
/// directory, made with SQLite's online backup (one read transaction, so a snapshot even while the
/// server writes), then checked: integrity, schema version and the audit chain. The result is a
/// data directory itself: restore by pointing <c>--data-dir</c> at it or copying it into place.
/// </summary>
internal static class BackupCommand
{
    /// <summary>The request-state key: pending approvals verify with it after a restore.</summary>
    private const string RequestStateKey = "mrtr.key";

    public static Command Create()
    {
        var dataDir = Cli.DataDirOption();
        var config = Cli.ConfigOption();
        var to = new Option<string>("--to")
        {
            Description = "Directory to write the backup into (created; must not already hold a store).",
            Required = true,
        };
        var command = new Command("backup", "Copy the store consistently (safe while the server runs) into a new data directory and verify the copy.")
        {
            dataDir, config, to,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = Cli.LoadOptions(new ServerConfig.Flags { DataDir = parse.GetValue(dataDir), ConfigFile = parse.GetValue(config) });
            if (options.Store == "postgres")
            {
                throw new CliException(
                    "the store is PostgreSQL: back it up with PostgreSQL's own tools (pg_dump, or your database's snapshots and point-in-time recovery); 'runtimeai backup' copies the embedded SQLite store", 2);
            }

            return await RunAsync(options.DataDir, parse.GetValue(to)!, ct);
        });
        return command;
    }

    internal static async Task<int> RunAsync(string sourceDir, string targetDir, CancellationToken cancellationToken)
    {
        var sourceFile = Path.Combine(sourceDir, SqliteDatabase.FileName);
        if (!File.Exists(sourceFile))
        {
            throw new CliException($"no RuntimeAI store at '{sourceFile}'; pass --data-dir with the server's data directory", 2);
        }

        var target = Path.GetFullPath(targetDir);
        if (string.Equals(target, Path.GetFullPath(sourceDir), StringComparison.Ordinal))
        {
            throw new CliException($"--to '{targetDir}' is the data directory itself; choose a new directory for the backup", 2);
        }

        var targetFile = Path.Combine(target, SqliteDatabase.FileName);
        if (File.Exists(targetFile))
        {
            throw new CliException($"'{targetFile}' already exists; a backup never overwrites a store: choose an empty directory for --to", 2);
        }

        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(target);
            }
            else
            {
                Directory.CreateDirectory(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot create '{target}' ({ex.Message}); pass --to with a directory you can write", 2);
        }

        long version;
        IReadOnlyList<string> inFlight;
        try
        {
            using var from = Open(sourceFile, SqliteOpenMode.ReadOnly);
            using var into = Open(targetFile, SqliteOpenMode.ReadWriteCreate);
            from.BackupDatabase(into);
            version = Scalar(into, "PRAGMA user_version;");
            var integrity = Convert.ToString(Execute(into, "PRAGMA integrity_check;"), CultureInfo.InvariantCulture);
            if (integrity != "ok")
            {
                throw new CliException($"the copy in '{targetFile}' fails SQLite's integrity check ({integrity}); the source may be damaged: run 'runtimeai audit verify' on it", 1);
            }

            // A self-contained file: no WAL beside it, whatever journal mode the source used.
            Execute(into, "PRAGMA journal_mode=DELETE;");
            inFlight = InFlightOperations(into);
        }
        catch (SqliteException ex)
        {
            File.Delete(targetFile);
            throw new CliException($"backup of '{sourceFile}' failed (SQLite: {ex.Message}); nothing was written to '{target}'", 1);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(targetFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var key = Path.Combine(sourceDir, RequestStateKey);
        if (File.Exists(key))
        {
            File.Copy(key, Path.Combine(target, RequestStateKey));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Path.Combine(target, RequestStateKey), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        await Console.Out.WriteLineAsync($"backup written to {target} (schema version {version})").ConfigureAwait(false);
        if (inFlight.Count > 0)
        {
            // A server started on this copy settles these as a crashed process's: sagas are
            // compensated, even if the live server finished them after the copy was taken.
            await Console.Error.WriteLineAsync(
                $"runtimeai: warning: {inFlight.Count} operation(s) were running when the copy was taken ({string.Join(", ", inFlight)}); " +
                "a server started on this backup compensates multi-step ones as after a crash: prefer a backup taken when none is running").ConfigureAwait(false);
        }

        var verified = await AuditCommand.VerifyAsync(target, null, cancellationToken).ConfigureAwait(false);
        await Console.Error.WriteLineAsync(
            $"runtimeai: restore: stop the server, then serve with --data-dir {target} (or copy its files into the data directory); " +
            "it holds secrets (the request-state key, hashed API keys): keep it as private as the data directory").ConfigureAwait(false);
        return verified;
    }

    private static List<string> InFlightOperations(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM operations WHERE status IN ('queued', 'running') ORDER BY id";
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private static SqliteConnection Open(string file, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = mode, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static long Scalar(SqliteConnection connection, string sql) =>
        Convert.ToInt64(Execute(connection, sql), CultureInfo.InvariantCulture);
}
