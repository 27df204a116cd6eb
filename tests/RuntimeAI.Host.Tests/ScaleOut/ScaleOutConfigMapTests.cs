using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using RuntimeAI.Core.Identity;
using RuntimeAI.KubeSim;

namespace RuntimeAI.Host.Tests.ScaleOut;

/// <summary>
/// The server configuration of deploy/kubernetes/scale-out/20-configmap.yaml, run as two pods would
/// run it: on all interfaces with API keys, <c>store: postgres</c> with the connection string in the
/// file the Secret provides. Both replicas answer the probes (readiness includes the database), and
/// an API key made once — as <c>kubectl exec … runtimeai keys create</c> does, into the database —
/// authenticates on both. The in-cluster kubeconfig is pointed at KubeSim, as a pod's token exists only in a pod.
/// </summary>
public sealed class ScaleOutConfigMapTests
{
    [Fact]
    public async Task ConfigMapConfig_TwoReplicasOnPostgres_ProbesReady_AKeyMadeOnceAuthenticatesOnBoth()
    {
        var ct = TestContext.Current.CancellationToken;
        var admin = ReplicaSet.RequirePostgres();
        var schema = "cm_" + Guid.NewGuid().ToString("N");
        await PostgresServerTests.ExecuteAsync(admin, $"CREATE SCHEMA {schema}", ct);
        try
        {
            await using var world = await KubeSimServer.StartAsync(new KubeSimOptions { Port = 0 }, ct);
            var dir = TestPaths.NewDataDir();
            var kubeconfig = Path.Combine(dir, "kubeconfig");
            await File.WriteAllTextAsync(kubeconfig, world.CreateKubeconfigYaml("in-cluster"), ct);
            var connection = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString;
            var connectionFile = Path.Combine(dir, "connection");
            await File.WriteAllTextAsync(connectionFile, connection, ct);

            var config = ConfigMapConfig();
            Assert.Equal("postgres", config["store"]!.GetValue<string>());
            Assert.Equal("/etc/runtimeai-postgres/connection", config["postgres"]!["connection_string_file"]!.GetValue<string>());
            Assert.Equal("http://0.0.0.0:7070", config["urls"]!.GetValue<string>());
            config["postgres"]!["connection_string_file"] = connectionFile;
            config["kubeconfig"] = new JsonArray(kubeconfig + "#in-cluster");
            var configPath = Path.Combine(dir, "config.json");
            await File.WriteAllTextAsync(configPath, config.ToJsonString(), ct);

            var replicas = new List<ServerProcess>();
            try
            {
                for (var i = 0; i < 2; i++)
                {
                    var data = Directory.CreateDirectory(Path.Combine(dir, $"pod-{i}")).FullName;
                    replicas.Add(await ServerProcess.StartHttpAsync(data, "--config", configPath, "--urls", "http://0.0.0.0:0"));
                }

                var urls = replicas.Select(r => new Uri($"http://127.0.0.1:{r.McpEndpoint!.Port}/")).ToList();
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                foreach (var url in urls)
                {
                    var (status, body) = await GetAsync(http, new Uri(url, "/readyz"), null, ct);
                    Assert.True(status == HttpStatusCode.OK, $"{url} /readyz: {(int)status} {body}");
                    Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, new Uri(url, "/v1/runtimes"), null, ct)).Status);
                }

                var (id, secret) = ApiKeySecret.New();
                ApiKeySecret.TryParse(secret, out _, out var hash);
                using (var store = await ConfiguredStore.OpenAsync(new RuntimeAI.Mcp.Hosting.RuntimeAiServerOptions
                       {
                           DataDir = TestPaths.NewDataDir(), Store = "postgres", PostgresConnectionString = connection,
                       }, ct))
                {
                    Assert.True(await store.ApiKeys.AddAsync(new ApiKey
                    {
                        Id = id, Name = "ci", SecretHash = hash, Kind = PrincipalKind.Agent, Roles = [Role.Viewer],
                        CreatedBy = "human:test", CreatedAt = DateTimeOffset.UtcNow,
                    }, ct));
                }

                foreach (var url in urls)
                {
                    var (status, body) = await GetAsync(http, new Uri(url, "/v1/runtimes"), secret, ct);
                    Assert.True(status == HttpStatusCode.OK, $"{url} /v1/runtimes with the key: {(int)status} {body}");
                }
            }
            finally
            {
                foreach (var replica in replicas)
                {
                    await replica.DisposeAsync();
                }
            }
        }
        finally
        {
            await PostgresServerTests.ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE", CancellationToken.None);
        }
    }

    /// <summary>config.json of the scale-out ConfigMap (the block scalar under <c>config.json: |</c>).</summary>
    private static JsonObject ConfigMapConfig()
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "deploy", "kubernetes", "scale-out", "20-configmap.yaml"));
        var start = Array.FindIndex(lines, l => l.Trim() == "config.json: |") + 1;
        var block = lines.Skip(start).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal) || l.Length == 0);
        return JsonNode.Parse(string.Join('\n', block))!.AsObject();
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient http, Uri uri, string? key, CancellationToken ct)
    {
        // The probes and in-cluster clients name a host the guard admits.
        using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { Host = "localhost" } };
        if (key is not null)
        {
            request.Headers.Add("Authorization", "Bearer " + key);
        }

        using var response = await http.SendAsync(request, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }
}
