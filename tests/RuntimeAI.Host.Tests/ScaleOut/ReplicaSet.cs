using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Npgsql;
using RuntimeAI.Core.Audit;
using RuntimeAI.KubeSim;

namespace RuntimeAI.Host.Tests.ScaleOut;

/// <summary>
/// N real <c>runtimeai serve</c> processes on one PostgreSQL database (a schema of its own per
/// set: config file + connection string file, as an operator would deploy them), all pointed at one
/// KubeSim world (the Kubernetes API simulator, in this test process so it outlives every replica,
/// as a real cluster would) and reached through one <see cref="ReplicaProxy"/>. The first replica
/// starts alone and imports the world's vclusters and VMs; the others start once it has
/// answered a tool call (which waits for the first discovery)
/// (or, with <c>together</c>, all at once).
/// </summary>
internal sealed class ReplicaSet : IAsyncDisposable
{
    private ReplicaSet(string admin, string schema, KubeSimServer world, string dir)
    {
        Admin = admin;
        Schema = schema;
        World = world;
        Dir = dir;
    }

    public string Admin { get; }

    public string Schema { get; }

    public KubeSimServer World { get; }

    public string Dir { get; }

    /// <summary>The config file every replica (and <c>runtimeai audit verify --config</c>) reads.</summary>
    public string Config { get; private set; } = null!;

    public List<ServerProcess> Replicas { get; } = [];

    public ReplicaProxy Proxy { get; private set; } = null!;

    /// <summary>The admin connection string from RUNTIMEAI_TEST_POSTGRES, or a skip naming how to get one.</summary>
    public static string RequirePostgres()
    {
        var admin = Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip("RUNTIMEAI_TEST_POSTGRES is not set: the replicas need a shared PostgreSQL (scripts/test.sh sets it; by hand: export RUNTIMEAI_TEST_POSTGRES=\"$(scripts/postgres.sh start DIR)\")");
        }

        return admin;
    }

    public static Task<ReplicaSet> StartAsync(string admin, int replicas, bool pinSessions, CancellationToken ct) =>
        StartAsync(admin, replicas, pinSessions, together: false, ct);

    /// <summary>
    /// With <paramref name="together"/> every replica starts at once (as a Deployment's pods do on a new
    /// database); <paramref name="extraVclusters"/> adds vclusters load-0, load-1, … to the sandbox world.
    /// </summary>
    public static async Task<ReplicaSet> StartAsync(string admin, int replicas, bool pinSessions, bool together, CancellationToken ct, int extraVclusters = 0)
    {
        var seed = SandboxWorld.Seed.TrimEnd() + "\n" + string.Concat(Enumerable.Range(0, extraVclusters)
            .Select(i => $"  - name: load-{i}\n    namespace: vcluster-load-{i}\n"));
        var world = await KubeSimServer.StartAsync(new KubeSimOptions
        {
            Port = 0, SeedYaml = seed, SettleSeed = true, PodStartDelay = TimeSpan.FromMilliseconds(50),
            VirtualMachineStartDelay = TimeSpan.FromMilliseconds(100), VirtualMachineStopDelay = TimeSpan.FromMilliseconds(50),
        }, ct);
        var set = new ReplicaSet(admin, "so_" + Guid.NewGuid().ToString("N"), world, TestPaths.NewDataDir());
        try
        {
            await PostgresServerTests.ExecuteAsync(admin, $"CREATE SCHEMA {set.Schema}", ct);
            var connectionFile = Path.Combine(set.Dir, "postgres.conn");
            await File.WriteAllTextAsync(connectionFile, new NpgsqlConnectionStringBuilder(admin) { SearchPath = set.Schema }.ConnectionString + "\n", ct);
            set.Config = Path.Combine(set.Dir, "runtimeai.json");
            await File.WriteAllTextAsync(set.Config, $$"""{ "store": "postgres", "postgres": { "connection_string_file": "{{connectionFile}}" } }""", ct);
            var kubeconfig = Path.Combine(set.Dir, "kubesim.kubeconfig");
            await File.WriteAllTextAsync(kubeconfig, world.CreateKubeconfigYaml(), ct);
            var policies = TestPolicies.AllowAll();
            async Task<ServerProcess> StartOneAsync(int i)
            {
                // What a replica keeps locally (no shared state: the MRTR key until it moves to the store)
                // goes to its own directory, as an emptyDir would hold it in a pod.
                var local = Directory.CreateDirectory(Path.Combine(set.Dir, $"replica-{i}")).FullName;
                return await ServerProcess.StartHttpAsync(local,
                    ["--config", set.Config, "--kubeconfig", kubeconfig, "--autonomy", "autonomous", "--policies", policies]);
            }

            if (together)
            {
                var starting = Enumerable.Range(0, replicas).Select(StartOneAsync).ToList();
                await Task.WhenAll(starting).ContinueWith(_ => { }, TaskScheduler.Default);
                set.Replicas.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
                await Task.WhenAll(starting);
                await Task.WhenAll(set.Replicas.Select(r => WaitReadyAsync(r, ct)));
            }
            else
            {
                for (var i = 0; i < replicas; i++)
                {
                    var replica = await StartOneAsync(i);
                    set.Replicas.Add(replica);
                    await WaitReadyAsync(replica, ct);

                    // /readyz reports the store; a tool call also waits for the first discovery to end.
                    await using var direct = await McpClient.CreateAsync(
                        new HttpClientTransport(new HttpClientTransportOptions { Endpoint = replica.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }), cancellationToken: ct);
                    Structured(await direct.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: ct));
                }
            }

            set.Proxy = await ReplicaProxy.StartAsync([.. set.Replicas.Select(r => new Uri(r.McpEndpoint!.GetLeftPart(UriPartial.Authority)))], pinSessions, ct);
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>An SDK client over Streamable HTTP through the proxy; a 2025-x <paramref name="protocolVersion"/> makes it open a session.</summary>
    public async Task<McpClient> ConnectAsync(string name, string? protocolVersion, CancellationToken ct) =>
        await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = Proxy.McpEndpoint, TransportMode = HttpTransportMode.StreamableHttp, Name = name }),
            new McpClientOptions { ClientInfo = new Implementation { Name = name, Version = "1.0" }, ProtocolVersion = protocolVersion },
            cancellationToken: ct);

    public Task<List<AuditRecord>> ReadAuditAsync(CancellationToken ct) => PostgresServerTests.ReadAuditAsync(Admin, Schema, ct);

    /// <summary>Rows of one query against the set's schema, each as its columns' text.</summary>
    public async Task<List<string?[]>> QueryAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Admin) { SearchPath = Schema }.ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<string?[]>();
        while (await reader.ReadAsync(ct))
        {
            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            }

            rows.Add(row);
        }

        return rows;
    }

    private static async Task WaitReadyAsync(ServerProcess replica, CancellationToken ct)
    {
        using var http = new HttpClient();
        var readyz = new Uri(replica.McpEndpoint!, "/readyz");
        var last = string.Empty;
        for (var i = 0; i < 300; i++)
        {
            using var response = await http.GetAsync(readyz, ct);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            last = await response.Content.ReadAsStringAsync(ct);
            await Task.Delay(100, ct);
        }

        throw new InvalidOperationException($"replica {replica.McpEndpoint} never became ready: {last}\n{replica.Stderr}");
    }

    public static JsonElement Structured(CallToolResult result) =>
        result.IsError == true || result.StructuredContent is null
            ? throw new InvalidOperationException("the call failed: " + Text(result))
            : result.StructuredContent.Value;

    public static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    public async ValueTask DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }

        await World.DisposeAsync();
        await PostgresServerTests.ExecuteAsync(Admin, $"DROP SCHEMA IF EXISTS {Schema} CASCADE", CancellationToken.None);
    }
}
