using Npgsql;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Planning;
using RuntimeAI.Core.Signals;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Storage.Postgres.Tests;

/// <summary>Every store contract of one replica's connection to a store.</summary>
public sealed record StoreSet(
    IRuntimeInventory Inventory,
    IAuditLog Audit,
    ISagaStore Sagas,
    IIdempotencyStore Idempotency,
    IProposalStore Proposals,
    IPolicyStore Policies,
    IApiKeyStore ApiKeys,
    IEventFeed Events,
    IIntentStore Intents,
    ISignalStore Signals,
    IWebhookStore Webhooks);

/// <summary>
/// One empty store for one test; each <see cref="OpenReplicaAsync"/> is another independent opener of
/// it (its own database object and connections), as a second server replica would be.
/// </summary>
public interface IStoreUnderTest : IAsyncDisposable
{
    Task<StoreSet> OpenReplicaAsync();
}

/// <summary>A fresh SQLite data directory; replicas are separate <see cref="SqliteDatabase"/> objects on the same file.</summary>
public sealed class SqliteStoreUnderTest : IStoreUnderTest
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runtimeai-contract-").FullName;
    private readonly List<SqliteDatabase> _opened = [];

    public Task<StoreSet> OpenReplicaAsync()
    {
        var db = SqliteDatabase.Open(_dir);
        _opened.Add(db);
        var time = TimeProvider.System;
        return Task.FromResult(new StoreSet(
            new SqliteRuntimeInventory(db), new SqliteAuditLog(db, new CanonicalAuditHasher()), new SqliteSagaStore(db),
            new SqliteIdempotencyStore(db), new SqliteProposalStore(db), new SqlitePolicyStore(db, time), new SqliteApiKeyStore(db),
            new SqliteEventFeed(db), new SqliteIntentStore(db), new SqliteSignalStore(db), new SqliteWebhookStore(db, time)));
    }

    public ValueTask DisposeAsync()
    {
        foreach (var db in _opened)
        {
            db.Dispose();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A fresh schema in the PostgreSQL of <c>RUNTIMEAI_TEST_POSTGRES</c> (scripts/test.sh starts a
/// throwaway cluster and sets it); replicas are separate <see cref="PostgresDatabase"/> objects, each
/// with its own connection pool.
/// </summary>
public sealed class PostgresStoreUnderTest : IStoreUnderTest
{
    public const string EnvironmentVariable = "RUNTIMEAI_TEST_POSTGRES";

    private readonly List<PostgresDatabase> _opened = [];

    private PostgresStoreUnderTest(string admin, string schema, string connectionString)
    {
        Admin = admin;
        Schema = schema;
        ConnectionString = connectionString;
    }

    public string Admin { get; }

    public string Schema { get; }

    /// <summary>The connection string of the test's own schema.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's connection string, or a skip naming how to get one.</summary>
    public static string RequireServer()
    {
        var admin = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip($"{EnvironmentVariable} is not set: no PostgreSQL to test against (scripts/test.sh sets it; by hand: export {EnvironmentVariable}=\"$(scripts/postgres.sh start)\")");
        }

        return admin;
    }

    public static async Task<PostgresStoreUnderTest> CreateAsync()
    {
        var admin = RequireServer();
        var schema = "t_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema };
        return new PostgresStoreUnderTest(admin, schema, builder.ConnectionString);
    }

    public async Task<PostgresDatabase> OpenDatabaseAsync()
    {
        var db = await PostgresDatabase.OpenAsync(ConnectionString, CancellationToken.None);
        _opened.Add(db);
        return db;
    }

    public async Task<StoreSet> OpenReplicaAsync()
    {
        var db = await OpenDatabaseAsync();
        var time = TimeProvider.System;
        return new StoreSet(
            new PostgresRuntimeInventory(db), new PostgresAuditLog(db, new CanonicalAuditHasher()), new PostgresSagaStore(db),
            new PostgresIdempotencyStore(db), new PostgresProposalStore(db), new PostgresPolicyStore(db, time), new PostgresApiKeyStore(db),
            new PostgresEventFeed(db), new PostgresIntentStore(db), new PostgresSignalStore(db), new PostgresWebhookStore(db, time));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var db in _opened)
        {
            db.Dispose();
        }

        await using var connection = new NpgsqlConnection(Admin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
