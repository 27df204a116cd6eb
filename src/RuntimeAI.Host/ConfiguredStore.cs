using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Postgres;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host;

/// <summary>
/// The store the configuration selects, opened for one CLI command (keys, proposals, approvals):
/// the SQLite file of the data directory, or the PostgreSQL database. The server itself wires its
/// stores in <see cref="Composition"/>.
/// </summary>
internal sealed class ConfiguredStore : IDisposable
{
    private readonly IDisposable _database;

    private ConfiguredStore(IDisposable database, IApiKeyStore apiKeys, IProposalStore proposals, IRuntimeInventory inventory, string where)
    {
        _database = database;
        ApiKeys = apiKeys;
        Proposals = proposals;
        Inventory = inventory;
        Where = where;
    }

    public IApiKeyStore ApiKeys { get; }

    public IProposalStore Proposals { get; }

    public IRuntimeInventory Inventory { get; }

    /// <summary>Where the state lives, for messages.</summary>
    public string Where { get; }

    public static async Task<ConfiguredStore> OpenAsync(RuntimeAiServerOptions options, CancellationToken cancellationToken)
    {
        if (options.Store == "postgres")
        {
            var postgres = await PostgresDatabase.OpenAsync(options.PostgresConnectionString!, cancellationToken);
            return new ConfiguredStore(postgres, new PostgresApiKeyStore(postgres), new PostgresProposalStore(postgres), new PostgresRuntimeInventory(postgres), "the PostgreSQL store");
        }

        var sqlite = SqliteDatabase.Open(options.DataDir);
        return new ConfiguredStore(sqlite, new SqliteApiKeyStore(sqlite), new SqliteProposalStore(sqlite), new SqliteRuntimeInventory(sqlite), options.DataDir);
    }

    public void Dispose() => _database.Dispose();
}
