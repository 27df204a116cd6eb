using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Storage.Sqlite;
using Role = RuntimeAI.Core.Identity.Role;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// A data directory with runtimes in two tenants and API keys for each kind of caller, and the real
/// <c>runtimeai serve --transport http --api-keys</c> on loopback port 0 over it. Events are
/// appended to the store from this process, as the CLI or a second server would write them.
/// </summary>
internal sealed class EventsWorld : IAsyncDisposable
{
    private readonly IdGenerator _ids = new(TimeProvider.System);

    private EventsWorld(string dataDir)
    {
        DataDir = dataDir;
    }

    public string DataDir { get; }

    public ServerProcess? Server { get; private set; }

    public Uri BaseUri => new(Server!.McpEndpoint!.GetLeftPart(UriPartial.Authority) + "/");

    /// <summary>Runtimes of tenant acme (two) and globex (one).</summary>
    public string Acme1 { get; private set; } = string.Empty;

    public string Acme2 { get; private set; } = string.Empty;

    public string Globex1 { get; private set; } = string.Empty;

    /// <summary>Keys: operator of acme, operator of globex, viewer of acme, unscoped admin, unscoped operator.</summary>
    public string AcmeOperator { get; private set; } = string.Empty;

    public string GlobexOperator { get; private set; } = string.Empty;

    public string AcmeViewer { get; private set; } = string.Empty;

    public string Admin { get; private set; } = string.Empty;

    public string Operator { get; private set; } = string.Empty;

    /// <summary>Seeds the store and starts the server with the given <c>events</c> settings.</summary>
    public static async Task<EventsWorld> StartAsync(JsonObject? events = null, string? dataDir = null)
    {
        var world = new EventsWorld(dataDir ?? TestPaths.NewDataDir());
        await world.SeedAsync();
        await world.StartServerAsync(events);
        return world;
    }

    public async Task StartServerAsync(JsonObject? events = null)
    {
        var config = Path.Combine(DataDir, "events-test-config.json");
        await File.WriteAllTextAsync(config, new JsonObject
        {
            ["events"] = events ?? new JsonObject { ["poll_ms"] = 100, ["heartbeat_seconds"] = 1, ["webhook_retry_base_ms"] = 200, ["webhook_max_attempts"] = 10 },
        }.ToJsonString());
        Server = await ServerProcess.StartHttpAsync(DataDir, "--api-keys", "--config", config);
    }

    /// <summary>SIGKILL, as a power loss would.</summary>
    public async Task KillServerAsync()
    {
        await Server!.KillAsync();
        await Server.DisposeAsync();
        Server = null;
    }

    public HttpClient Client(string key, TimeSpan? timeout = null)
    {
        var http = new HttpClient { BaseAddress = BaseUri, Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>Appends an event to the store (the same table the engine appends to).</summary>
    public async Task<RuntimeEvent> AppendAsync(string runtimeId, string type, JsonObject? data = null)
    {
        var e = new RuntimeEvent
        {
            Id = _ids.New("evt"), RuntimeId = runtimeId, Type = type, Ts = TimeProvider.System.GetUtcNow(), Actor = "agent", Data = data,
        };
        using var db = SqliteDatabase.Open(DataDir);
        await new SqliteRuntimeInventory(db).AppendEventAsync(e, CancellationToken.None);
        return e;
    }

    public static async Task<JsonObject> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static StringContent Body(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    private async Task SeedAsync()
    {
        using var db = SqliteDatabase.Open(DataDir);
        var inventory = new SqliteRuntimeInventory(db);
        Acme1 = await AddRuntimeAsync(inventory, "acme", "acme-web");
        Acme2 = await AddRuntimeAsync(inventory, "acme", "acme-db");
        Globex1 = await AddRuntimeAsync(inventory, "globex", "globex-web");
        var keys = new SqliteApiKeyStore(db);
        AcmeOperator = await AddKeyAsync(keys, "acme-op", [Role.Operator], ["acme"]);
        GlobexOperator = await AddKeyAsync(keys, "globex-op", [Role.Operator], ["globex"]);
        AcmeViewer = await AddKeyAsync(keys, "acme-viewer", [Role.Viewer], ["acme"]);
        Admin = await AddKeyAsync(keys, "root", [Role.Admin], []);
        Operator = await AddKeyAsync(keys, "ops", [Role.Operator], []);
    }

    private async Task<string> AddRuntimeAsync(SqliteRuntimeInventory inventory, string tenant, string name)
    {
        var id = _ids.New("rt");
        await inventory.SaveRuntimeAsync(new Runtime
        {
            Id = id, Name = name, Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = tenant,
            Spec = new RuntimeSpec { Size = "small" }, CreatedAt = TimeProvider.System.GetUtcNow(),
        }, "seed", CancellationToken.None);
        return id;
    }

    private static async Task<string> AddKeyAsync(SqliteApiKeyStore store, string name, Role[] roles, string[] tenants)
    {
        var (id, secret) = ApiKeySecret.New();
        ApiKeySecret.TryParse(secret, out _, out var hash);
        Assert.True(await store.AddAsync(new ApiKey
        {
            Id = id, Name = name, SecretHash = hash, Kind = PrincipalKind.Agent, Roles = roles, Tenants = tenants,
            CreatedBy = "test", CreatedAt = TimeProvider.System.GetUtcNow(),
        }, CancellationToken.None));
        return secret;
    }
}
