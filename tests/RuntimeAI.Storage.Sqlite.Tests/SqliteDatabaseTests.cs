using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Storage.Sqlite.Tests;

public sealed class SqliteDatabaseTests
{
    private static string NewDir() => Directory.CreateTempSubdirectory("runtimeai-store-").FullName;

    [Fact]
    public void Open_FreshDirectory_CreatesWalDatabaseAtCurrentSchema()
    {
        var dir = NewDir();
        using (SqliteDatabase.Open(dir))
        {
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(dir, SqliteDatabase.FileName)}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode; ";
        Assert.Equal("wal", command.ExecuteScalar() as string);
        command.CommandText = "PRAGMA user_version;";
        Assert.Equal((long)SqliteDatabase.CurrentSchemaVersion, command.ExecuteScalar());
    }

    [Fact]
    public void OpenConnection_EveryConnection_NewOrFromThePool_HasThePragmas()
    {
        using var db = SqliteDatabase.Open(NewDir());
        SQLitePCL.sqlite3 reused;
        using (var first = db.OpenConnection())
        using (var second = db.OpenConnection())
        {
            // Two physical connections open side by side: each was set up.
            Assert.NotSame(first.Handle, second.Handle);
            AssertPragmas(first);
            AssertPragmas(second);
            reused = first.Handle!;
        }

        // Handed out again by the pool (the same SQLite handle): the pragmas still hold.
        using var again = db.OpenConnection();
        using var other = db.OpenConnection();
        Assert.Contains(reused, new[] { again.Handle, other.Handle });
        AssertPragmas(again);
        AssertPragmas(other);

        static void AssertPragmas(SqliteConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous;";
            Assert.Equal(2L, command.ExecuteScalar()); // FULL
            command.CommandText = "PRAGMA foreign_keys;";
            Assert.Equal(1L, command.ExecuteScalar());
            command.CommandText = "PRAGMA busy_timeout;";
            Assert.Equal(30000L, command.ExecuteScalar());
        }
    }

    [Fact]
    public void Open_NewerSchema_RefusesWithoutChangingTheFile()
    {
        var dir = NewDir();
        var path = Path.Combine(dir, SqliteDatabase.FileName);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE future (x); PRAGMA user_version = 99;";
            command.ExecuteNonQuery();
        }

        var before = File.ReadAllBytes(path);
        var ex = Assert.Throws<StoreException>(() => SqliteDatabase.Open(dir));

        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade runtimeai", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task SaveRuntime_SpecChanges_AreKeptAsRevisions()
    {
        using var db = SqliteDatabase.Open(NewDir());
        var inventory = new SqliteRuntimeInventory(db);
        var runtime = new Runtime
        {
            Id = new IdGenerator(TimeProvider.System).New("rt"),
            Name = "web-1",
            Type = RuntimeType.Vm,
            State = RuntimeState.Running,
            Spec = new RuntimeSpec { Size = "small" },
            CreatedAt = TimeProvider.System.GetUtcNow(),
        };

        await inventory.SaveRuntimeAsync(runtime, "created", CancellationToken.None);
        await inventory.SaveRuntimeAsync(runtime with { State = RuntimeState.Stopped }, "stopped", CancellationToken.None);
        await inventory.SaveRuntimeAsync(runtime with { Spec = new RuntimeSpec { Size = "large" } }, "scaled", CancellationToken.None);

        var revisions = await inventory.GetSpecRevisionsAsync(runtime.Id, CancellationToken.None);
        Assert.Equal(["created", "scaled"], revisions.Select(r => r.Reason));
        Assert.Equal("large", revisions[^1].Spec.Size);
        Assert.Equal("large", (await inventory.GetRuntimeAsync(runtime.Id, CancellationToken.None))!.Spec.Size);
    }

    [Fact]
    public async Task ListRuntimes_TamperedToken_IsRefused()
    {
        using var db = SqliteDatabase.Open(NewDir());
        var inventory = new SqliteRuntimeInventory(db);

        await Assert.ThrowsAsync<InvalidPageTokenException>(() =>
            inventory.ListRuntimesAsync(new RuntimeQuery { PageToken = "djF8b3RoZXJ8eHh4fHJ0Xw" }, CancellationToken.None));
    }

    [Fact]
    public async Task Reads_OnKeptConnections_SeeEveryCommit_AndGoOnAfterAReadFailed()
    {
        // Reads reuse connections and their prepared statements: a kept connection must not read an
        // old snapshot, and a read that threw must not leave its statement stepping for the next one.
        using var db = SqliteDatabase.Open(NewDir());
        var inventory = new SqliteRuntimeInventory(db);
        var runtime = new Runtime
        {
            Id = "rt_kept", Name = "kept", Type = RuntimeType.Vm, State = RuntimeState.Running,
            Spec = new RuntimeSpec { Size = "small" }, CreatedAt = TimeProvider.System.GetUtcNow(),
        };
        await inventory.SaveRuntimeAsync(runtime, "created", CancellationToken.None);
        Assert.Equal(RuntimeState.Running, (await inventory.GetRuntimeAsync("rt_kept", CancellationToken.None))!.State);
        void OnAnotherConnection(string sql)
        {
            using var other = new SqliteConnection($"Data Source={db.Path};Pooling=False");
            other.Open();
            using var command = other.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }

        OnAnotherConnection("INSERT INTO runtimes (id, name, type, state, created_at, doc) VALUES ('rt_broken', 'broken', 'vm', 'running', '2026-12-08', '[1]')");

        await inventory.SaveRuntimeAsync(runtime with { State = RuntimeState.Stopped }, "stopped", CancellationToken.None);
        await Assert.ThrowsAnyAsync<System.Text.Json.JsonException>(() => inventory.ListRuntimesAsync(new RuntimeQuery(), CancellationToken.None));

        Assert.Equal(RuntimeState.Stopped, (await inventory.GetRuntimeAsync("rt_kept", CancellationToken.None))!.State);
        OnAnotherConnection("DELETE FROM runtimes WHERE id = 'rt_broken'");

        var page = await inventory.ListRuntimesAsync(new RuntimeQuery(), CancellationToken.None);
        Assert.Equal(["rt_kept"], page.Items.Select(r => r.Id));
        Assert.Equal(RuntimeState.Stopped, page.Items[0].State);
    }
}
