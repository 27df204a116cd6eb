using Npgsql;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Storage.Postgres.Tests;

/// <summary>Opening the PostgreSQL store: migrations once for processes starting together, refusals that change nothing.</summary>
public sealed class PostgresDatabaseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenAsync_ThreeAtOnceOnAnEmptySchema_MigrateOnce_AllUsable()
    {
        await using var store = await PostgresStoreUnderTest.CreateAsync();

        var opened = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => store.OpenDatabaseAsync()));

        Assert.All(await Task.WhenAll(opened.Select(db => db.CheckReadinessAsync(Ct))), Assert.Null);
        await using var connection = new NpgsqlConnection(store.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var versions = new NpgsqlCommand("SELECT COUNT(*), MAX(version) FROM schema_migrations", connection);
        await using var reader = await versions.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        Assert.Equal((PostgresDatabase.CurrentSchemaVersion, PostgresDatabase.CurrentSchemaVersion), ((int)reader.GetInt64(0), reader.GetInt32(1)));
    }

    [Fact]
    public async Task OpenAsync_SchemaFromANewerBuild_IsRefused_NothingChanged()
    {
        await using var store = await PostgresStoreUnderTest.CreateAsync();
        await store.OpenDatabaseAsync();
        await using (var connection = new NpgsqlConnection(store.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            await using var bump = new NpgsqlCommand("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'later')", connection);
            await bump.ExecuteNonQueryAsync(Ct);
        }

        var refused = await Assert.ThrowsAsync<StoreException>(() => PostgresDatabase.OpenAsync(store.ConnectionString, Ct));
        Assert.Contains("has schema version 99 but this runtimeai knows only up to", refused.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreException>(() => PostgresDatabase.OpenExistingAsync(store.ConnectionString, Ct));
    }

    [Fact]
    public async Task OpenExistingAsync_DatabaseWithoutAStore_IsRefused_AndNotMigrated()
    {
        await using var store = await PostgresStoreUnderTest.CreateAsync();

        var refused = await Assert.ThrowsAsync<StoreException>(() => PostgresDatabase.OpenExistingAsync(store.ConnectionString, Ct));

        Assert.Contains("holds no RuntimeAI store", refused.Message, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(store.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var check = new NpgsqlCommand("SELECT to_regclass('runtimes') IS NULL", connection);
        Assert.Equal(true, await check.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task OpenAsync_NoConnectionString_OrUnreachable_NamesTheFix_NotThePassword()
    {
        var empty = await Assert.ThrowsAsync<StoreException>(() => PostgresDatabase.OpenAsync(" ", Ct));
        Assert.Contains("RUNTIMEAI_POSTGRES_CONNECTION", empty.Message, StringComparison.Ordinal);

        var unreachable = await Assert.ThrowsAsync<StoreException>(() =>
            PostgresDatabase.OpenAsync("Host=127.0.0.1;Port=1;Username=u;Password=s3cret-pw;Database=d;Timeout=3", Ct));
        Assert.Contains("PostgreSQL at postgres://u@127.0.0.1:1/d cannot be used", unreachable.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", unreachable.ToString(), StringComparison.Ordinal);

        var garbled = await Assert.ThrowsAsync<StoreException>(() => PostgresDatabase.OpenAsync("Host=x;Password=s3cret-pw;NoSuchKeyword=1", Ct));
        Assert.DoesNotContain("s3cret-pw", garbled.Message, StringComparison.Ordinal);
    }
}
