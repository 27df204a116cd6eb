using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Http;
using RuntimeAI.Storage.Postgres;
using RuntimeAI.Storage.Sqlite;
using Serilog;
using Serilog.Events;

namespace RuntimeAI.Host;

/// <summary>Wires the engine (store, drivers) every entry point shares: serve, call, tools.</summary>
internal static class Composition
{
    /// <summary>Registers the store and the engine; opens (and migrates) the database now so errors surface at start.</summary>
    public static void AddRuntimeAiEngine(this IServiceCollection services, RuntimeAiServerOptions options)
    {
        if (options.Store == "postgres")
        {
            AddPostgresStore(services, options);
        }
        else
        {
            AddSqliteStore(services, options);
        }

        // Every stored change is announced, so subscribed MCP clients are pushed updates (runtime://, operation://).
        services.AddSingleton<InventoryChangeFeed>();
        services.AddSingleton<IAuditHasher, CanonicalAuditHasher>();
    }

    private static void AddSqliteStore(IServiceCollection services, RuntimeAiServerOptions options)
    {
        var database = SqliteDatabase.Open(options.DataDir);
        services.AddSingleton(database);
        services.AddSingleton<IRuntimeInventory>(sp => new NotifyingInventory(new SqliteRuntimeInventory(database), sp.GetRequiredService<InventoryChangeFeed>()));
        services.AddSingleton<IAuditLog, SqliteAuditLog>();
        services.AddSingleton<IProposalStore, SqliteProposalStore>();
        services.AddSingleton<RuntimeAI.Core.Identity.IApiKeyStore, SqliteApiKeyStore>();
        services.AddSingleton<RuntimeAI.Core.Operations.ISagaStore, SqliteSagaStore>();
        services.AddSingleton<RuntimeAI.Core.Operations.IIdempotencyStore, SqliteIdempotencyStore>();
        services.AddSingleton<RuntimeAI.Core.Signals.ISignalStore, SqliteSignalStore>();
        services.AddSingleton<RuntimeAI.Core.Planning.IIntentStore, SqliteIntentStore>();
        // Events have one record, the events table: streams and the webhook outbox read it by position.
        services.AddSingleton<RuntimeAI.Core.Events.IEventFeed>(_ => new SqliteEventFeed(database));
        services.AddSingleton<RuntimeAI.Core.Events.Webhooks.IWebhookStore>(sp => new SqliteWebhookStore(database, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IApprovalStateStore>(_ => new SqliteApprovalStateStore(database));
        services.AddSingleton<RuntimeAI.Core.Governance.IPolicySource>(SqlitePolicyStore.LoadRegistry(database, options.PoliciesDir, TimeProvider.System));
        services.AddSingleton<HttpEndpoints.ReadinessCheck>(_ => _ => Task.FromResult(database.CheckReadiness()));
    }

    private static void AddPostgresStore(IServiceCollection services, RuntimeAiServerOptions options)
    {
        // Start-up: the one place a blocking wait is right; a store that cannot be opened stops the server with its reason.
        var database = PostgresDatabase.OpenAsync(options.PostgresConnectionString ?? string.Empty, CancellationToken.None).GetAwaiter().GetResult();
        services.AddSingleton(database);
        services.AddSingleton<IRuntimeInventory>(sp => new NotifyingInventory(new PostgresRuntimeInventory(database), sp.GetRequiredService<InventoryChangeFeed>()));
        services.AddSingleton<IAuditLog, PostgresAuditLog>();
        services.AddSingleton<IProposalStore, PostgresProposalStore>();
        services.AddSingleton<RuntimeAI.Core.Identity.IApiKeyStore, PostgresApiKeyStore>();
        services.AddSingleton<RuntimeAI.Core.Operations.ISagaStore, PostgresSagaStore>();
        services.AddSingleton<RuntimeAI.Core.Operations.IIdempotencyStore, PostgresIdempotencyStore>();
        services.AddSingleton<RuntimeAI.Core.Signals.ISignalStore, PostgresSignalStore>();
        services.AddSingleton<RuntimeAI.Core.Planning.IIntentStore, PostgresIntentStore>();
        services.AddSingleton<RuntimeAI.Core.Events.IEventFeed>(_ => new PostgresEventFeed(database));
        services.AddSingleton<RuntimeAI.Core.Events.Webhooks.IWebhookStore>(sp => new PostgresWebhookStore(database, sp.GetRequiredService<TimeProvider>()));
        // Approval request state: one key and one used-state memory for every replica on this database.
        services.AddSingleton<IApprovalStateStore>(_ => new PostgresApprovalStateStore(database));
        // Other replicas' changes wake this process's streams, webhook worker and resource subscriptions (LISTEN/NOTIFY).
        services.AddSingleton(sp => new PostgresChangeListener(database, sp.GetRequiredService<InventoryChangeFeed>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<PostgresChangeListener>>()));
        services.AddHostedService<ChangeListenerService>();
        services.AddSingleton<RuntimeAI.Core.Governance.IPolicySource>(PostgresPolicyStore.LoadRegistry(database, options.PoliciesDir, TimeProvider.System));
        services.AddSingleton<HttpEndpoints.ReadinessCheck>(_ => ct => database.CheckReadinessAsync(ct));
        // Replicas on one database: runtime locks, the policy budget and saga ownership across processes.
        services.AddSingleton<RuntimeAI.Core.Lifecycle.IReplicaCoordinator>(sp => PostgresReplicaCoordinator.StartAsync(
            database, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<PostgresReplicaCoordinator>>(),
            ReplicaHeartbeat, CancellationToken.None).GetAwaiter().GetResult());
        services.AddSingleton<HttpEndpoints.ReadinessCheck>(sp => _ => Task.FromResult(
            sp.GetRequiredService<RuntimeAI.Core.Lifecycle.IReplicaCoordinator>().Fenced is { } fenced ? "replica fenced: " + fenced : null));
    }

    /// <summary>Runs the PostgreSQL change listener for the life of the host.</summary>
    private sealed class ChangeListenerService(PostgresChangeListener listener) : Microsoft.Extensions.Hosting.BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => listener.RunAsync(stoppingToken);
    }

    /// <summary>How often a replica on PostgreSQL records its heartbeat and checks its connection (and looks for orphaned sagas).</summary>
    internal static readonly TimeSpan ReplicaHeartbeat = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Serilog (through Serilog.Extensions.Hosting) to stderr, never stdout: it is the stdio wire; and
    /// optionally to a file. It replaces every other logging provider; the host disposes it.
    /// </summary>
    public static IServiceCollection AddRuntimeAiLogging(this IServiceCollection services, RuntimeAiServerOptions options, LogEventLevel? floor = null)
    {
        var level = floor ?? options.LogLevel.ToLowerInvariant() switch
        {
            "trace" => LogEventLevel.Verbose,
            "debug" => LogEventLevel.Debug,
            "warning" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => LogEventLevel.Information,
        };

        // preserveStaticLogger: several hosts can live in one process (tests, the call command); none owns Log.Logger.
        return services.AddSerilog(config =>
        {
            config
                .MinimumLevel.Is(level)
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting", LogEventLevel.Warning)
                // Start-up failures (port in use…) are reported by the CLI as one clear line.
                .MinimumLevel.Override("Microsoft.Extensions.Hosting", level <= LogEventLevel.Debug ? level : LogEventLevel.Fatal)
                // The SDK logs every refused call (a JSON-RPC error) with a stack trace; the pipeline and
                // the audit trail already record those, so keep the SDK quiet unless debugging.
                .MinimumLevel.Override("ModelContextProtocol", level <= LogEventLevel.Debug ? level : LogEventLevel.Fatal)
                .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose, outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
            if (!string.IsNullOrEmpty(options.LogFile))
            {
                config.WriteTo.File(options.LogFile);
            }
        }, preserveStaticLogger: true);
    }
}
