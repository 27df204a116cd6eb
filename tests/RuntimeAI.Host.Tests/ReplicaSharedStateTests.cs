using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Npgsql;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Host.Tests.Rest;
using RuntimeAI.Storage.Postgres;
using Role = RuntimeAI.Core.Identity.Role;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Two real <c>runtimeai serve</c> processes (each its own data directory) on one PostgreSQL
/// database, as two replicas behind a load balancer: an approval state issued by one is redeemed
/// once by the other, an event caused on one reaches a stream on the other promptly, and webhooks
/// are sent once per delivery id although both run a delivery worker. Skipped with the reason when
/// RUNTIMEAI_TEST_POSTGRES is not set (scripts/test.sh sets it).
/// </summary>
public sealed class ReplicaSharedStateTests
{
    [Fact]
    public async Task ApprovalState_IssuedByReplicaA_RedeemedOnceOnReplicaB_ReplayRefusedOnBoth()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var pair = await ReplicaPair.StartAsync("copilot", new JsonObject());
        var router = new RetryToOtherReplica(pair.A.McpEndpoint!, pair.B.McpEndpoint!, pair.OperatorKey);
        using var http = new HttpClient(router);
        var prompts = 0;
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = pair.A.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + pair.OperatorKey },
            }, http, null, false),
            new McpClientOptions
            {
                ProtocolVersion = "2026-07-28",
                Handlers = new McpClientHandlers
                {
                    ElicitationHandler = (_, _) =>
                    {
                        Interlocked.Increment(ref prompts);
                        return ValueTask.FromResult(new ElicitResult
                        {
                            Action = "accept", Content = new Dictionary<string, JsonElement> { ["approve"] = JsonSerializer.SerializeToElement(true) },
                        });
                    },
                },
            }, cancellationToken: ct);
        var name = "mrtr-" + Guid.NewGuid().ToString("N")[..8];

        var result = await client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = name, ["type"] = "vm", ["reasoning"] = "cross-replica approval" }, cancellationToken: ct);

        Assert.True(result.IsError != true, Text(result));
        Assert.Equal("succeeded", result.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Equal(1, prompts);
        // The prompt (and its state) came from A; the answer with the state went to B, which accepted it.
        Assert.True(router.FirstCallsToA >= 1);
        Assert.Equal(1, router.RetriesToB);

        // The same retry, byte for byte, again: refused by B and by A — the state was used once, anywhere.
        foreach (var replica in new[] { pair.B, pair.A })
        {
            var replay = await router.ReplayAsync(replica.McpEndpoint!, ct);
            Assert.Contains("the approval was already used", replay, StringComparison.Ordinal);
        }

        Assert.Equal(1L, await pair.ScalarAsync($"SELECT COUNT(*) FROM runtimes WHERE name = '{name}'", ct));
    }

    [Fact]
    public async Task EventStream_OnReplicaB_GetsEventCausedOnReplicaA_Promptly_AndResumesExactlyOnA()
    {
        var ct = TestContext.Current.CancellationToken;
        // Heartbeat and poll long: only a change notification can wake the stream on B in time.
        var heartbeat = TimeSpan.FromSeconds(60);
        await using var pair = await ReplicaPair.StartAsync("autonomous", new JsonObject { ["heartbeat_seconds"] = 60, ["poll_ms"] = 60_000 });
        using var onB = pair.Rest(pair.B, pair.OperatorKey);
        using var streamB = await SseReader.OpenAsync(onB, "v1/events/stream", null, ct);
        await using var clientA = await pair.McpAsync(pair.A, ct);

        var received = new List<SseReader.SseEvent>();
        var latencies = new List<TimeSpan>();
        foreach (var n in new[] { "first", "second" })
        {
            var created = await clientA.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = $"sse-{n}-{Guid.NewGuid().ToString("N")[..6]}", ["type"] = "vm" }, cancellationToken: ct);
            Assert.True(created.IsError != true, Text(created));
            var id = created.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var e = await streamB.NextAsync(heartbeat / 2, ct)
                    ?? throw new TimeoutException($"no event of {id} reached replica B within {(heartbeat / 2).TotalSeconds} s (the heartbeat is {heartbeat.TotalSeconds} s); got {received.Count}");
                received.Add(e);
                // From the event's time (stamped by A, same machine clock) to its arrival on B.
                var stamped = DateTimeOffset.Parse((string)e.Data["ts"]!, System.Globalization.CultureInfo.InvariantCulture);
                latencies.Add(TimeProvider.System.GetUtcNow() - stamped);
                if ((string?)e.Data["runtime_id"] == id)
                {
                    break;
                }
            }

            Assert.True(clock.Elapsed < heartbeat / 2, $"{clock.Elapsed.TotalMilliseconds} ms after the call returned");
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"measured: {latencies.Count} events, from their time on A to arrival on B: max {latencies.Max().TotalMilliseconds:0} ms, median {latencies.Order().ElementAt(latencies.Count / 2).TotalMilliseconds:0} ms");
        Assert.All(latencies, l => Assert.True(l < heartbeat / 2, $"{l.TotalMilliseconds} ms"));

        // Resume on the other replica from the first event B gave: exactly the rest, in order.
        using var onA = pair.Rest(pair.A, pair.OperatorKey);
        using var streamA = await SseReader.OpenAsync(onA, "v1/events/stream", received[0].Id, ct);
        var resumed = new List<SseReader.SseEvent>();
        var last = long.Parse(received[^1].Id, System.Globalization.CultureInfo.InvariantCulture);
        while (resumed.Count == 0 || long.Parse(resumed[^1].Id, System.Globalization.CultureInfo.InvariantCulture) < last)
        {
            resumed.Add(await streamA.NextAsync(TimeSpan.FromSeconds(15), ct) ?? throw new TimeoutException($"the resumed stream stopped after {resumed.Count} events"));
        }

        Assert.Equal(received.Skip(1).Select(e => (e.Id, (string?)e.Data["id"])), resumed.Select(e => (e.Id, (string?)e.Data["id"])));
    }

    [Fact]
    public async Task Webhooks_TwoReplicasDelivering_EachDeliveryAcceptedOnce_EveryAttemptSentOnce_ThroughFailureAndRecovery()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = 500;
        await using var pair = await ReplicaPair.StartAsync("autonomous", new JsonObject
        {
            ["poll_ms"] = 200, ["heartbeat_seconds"] = 1, ["webhook_retry_base_ms"] = 300, ["webhook_retry_max_ms"] = 1000, ["webhook_max_attempts"] = 50,
        });
        using var onA = pair.Rest(pair.A, pair.AdminKey);
        using (var subscribed = await onA.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = receiver.Url.AbsoluteUri, ["runtime_id"] = pair.SeededRuntime }), ct))
        {
            receiver.Secret = (string)(await EventsWorld.JsonAsync(subscribed))["secret"]!;
        }

        // Events written by a third writer wake both replicas' workers at once.
        const int Events = 30;
        await pair.AppendAsync(Events, ct);

        await receiver.WaitForAsync(r => r.Requests.Select(q => q.DeliveryId).Distinct().Count() == Events, TimeSpan.FromSeconds(60), "a first (failing) attempt of every delivery");
        receiver.Answer = 200;
        await receiver.WaitForAsync(r => r.Accepted.Select(q => q.DeliveryId).Distinct().Count() == Events, TimeSpan.FromSeconds(60), "every delivery accepted");
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);

        var requests = receiver.Requests.ToList();
        Assert.All(requests, r => Assert.True(r.SignatureValid));
        Assert.All(receiver.Accepted.GroupBy(r => r.DeliveryId), g => Assert.Single(g));
        Assert.Contains(requests, r => r.Answered == 500);
        // Every attempt the store recorded was sent once: two workers never sent the same attempt.
        var attempts = await pair.AttemptsAsync(ct);
        Assert.Equal(Events, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(("delivered", a.Attempts), (a.Status, requests.Count(r => r.DeliveryId == a.Id))));
        Assert.Equal(
            Enumerable.Range(0, Events).Select(i => $"evt_hook_{i:00}"),
            receiver.Accepted.Select(r => (string)r.Body["event"]!["id"]!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Webhook_ClaimedByAReplicaKilledMidAttempt_IsSentByAnotherAfterTheLease_AcceptedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync();
        // A hangs in its attempt: it has claimed the delivery and not recorded anything when it dies.
        receiver.Answer = 503;
        receiver.Delay = TimeSpan.FromSeconds(30);
        // Attempt timeout 1 s: the lease is 2 × 1 s + 5 s = 7 s.
        await using var pair = await ReplicaPair.StartAsync("autonomous", new JsonObject
        {
            ["poll_ms"] = 200, ["heartbeat_seconds"] = 1, ["webhook_timeout_ms"] = 1000, ["webhook_retry_base_ms"] = 200,
        }, startB: false);
        using (var onA = pair.Rest(pair.A, pair.AdminKey))
        using (var subscribed = await onA.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = receiver.Url.AbsoluteUri, ["runtime_id"] = pair.SeededRuntime }), ct))
        {
            receiver.Secret = (string)(await EventsWorld.JsonAsync(subscribed))["secret"]!;
        }

        await pair.AppendAsync(1, ct);
        await receiver.WaitForAsync(r => !r.Requests.IsEmpty, TimeSpan.FromSeconds(30), "replica A's attempt");
        await pair.KillAAsync();
        var killedAt = TimeProvider.System.GetUtcNow();
        var held = Assert.Single(await pair.AttemptsAsync(ct));
        Assert.Equal(("pending", 0), (held.Status, held.Attempts));

        receiver.Delay = TimeSpan.Zero;
        receiver.Answer = 200;
        await pair.StartBAsync();
        var startedB = TimeProvider.System.GetUtcNow();
        await receiver.WaitForAsync(r => r.Accepted.Count == 1, TimeSpan.FromSeconds(30), "replica B's retry after the lease");
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        var retriedAt = receiver.Requests.Last().At;

        // Not before the lease A's claim set, and then once.
        Assert.True(retriedAt >= held.NextAttemptAt,
            $"retried at {retriedAt:O}, the lease ran to {held.NextAttemptAt:O}; requests: {string.Join(", ", receiver.Requests.Select(r => $"{r.DeliveryId}@{r.At:HH:mm:ss.fff}→{r.Answered}"))}; killed at {killedAt:HH:mm:ss.fff}, B started at {startedB:HH:mm:ss.fff}");
        Assert.Equal([held.Id, held.Id], receiver.Requests.Select(r => r.DeliveryId));
        Assert.Equal([held.Id], receiver.Accepted.Select(r => r.DeliveryId));
        var done = Assert.Single(await pair.AttemptsAsync(ct));
        Assert.Equal(("delivered", 1), (done.Status, done.Attempts));
    }

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    /// <summary>
    /// Sends the client's requests to replica A, except a retry carrying an approval answer and its
    /// request state, which goes to replica B (as a load balancer may route it); keeps that retry to replay.
    /// </summary>
    private sealed class RetryToOtherReplica(Uri a, Uri b, string key) : DelegatingHandler(new SocketsHttpHandler())
    {
        private string? _retryBody;
        private Dictionary<string, string> _retryHeaders = [];

        public int FirstCallsToA { get; private set; }

        public int RetriesToB { get; private set; }

        public async Task<string> ReplayAsync(Uri endpoint, CancellationToken cancellationToken)
        {
            Assert.NotNull(_retryBody);
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(_retryBody, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in _retryHeaders)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await base.SendAsync(request, cancellationToken);
            return await response.Content.ReadAsStringAsync(cancellationToken);
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.Content is { } content)
            {
                var body = await content.ReadAsStringAsync(cancellationToken);
                var replaced = new StringContent(body, Encoding.UTF8);
                replaced.Headers.ContentType = content.Headers.ContentType;
                request.Content = replaced;
                if (body.Contains("\"tools/call\"", StringComparison.Ordinal))
                {
                    if (body.Contains("\"requestState\"", StringComparison.Ordinal))
                    {
                        request.RequestUri = b;
                        RetriesToB++;
                        _retryBody = body;
                        _retryHeaders = request.Headers.Where(h => h.Key is not ("Authorization" or "Host"))
                            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
                    }
                    else
                    {
                        Assert.Equal(a, request.RequestUri);
                        FirstCallsToA++;
                    }
                }
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>A PostgreSQL schema with an API key and a runtime, and two servers on it.</summary>
internal sealed class ReplicaPair : IAsyncDisposable
{
    private readonly string _admin;
    private readonly string _schema;
    private string[] _args = [];
    private string _dir = string.Empty;

    private ReplicaPair(string admin, string schema)
    {
        _admin = admin;
        _schema = schema;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString;
    }

    public string ConnectionString { get; }

    public ServerProcess A { get; private set; } = null!;

    public ServerProcess B { get; private set; } = null!;

    public string OperatorKey { get; private set; } = string.Empty;

    /// <summary>An unscoped admin (a webhook for every tenant needs one).</summary>
    public string AdminKey { get; private set; } = string.Empty;

    public string SeededRuntime { get; } = "rt_seeded_" + Guid.NewGuid().ToString("N")[..8];

    public static async Task<ReplicaPair> StartAsync(string autonomy, JsonObject events, bool startB = true)
    {
        var admin = Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip("RUNTIMEAI_TEST_POSTGRES is not set: no PostgreSQL for two replicas to share (scripts/test.sh sets it; by hand: export RUNTIMEAI_TEST_POSTGRES=\"$(scripts/postgres.sh start)\")");
        }

        var pair = new ReplicaPair(admin, "rep_" + Guid.NewGuid().ToString("N"));
        await PostgresServerTests.ExecuteAsync(admin, $"CREATE SCHEMA {pair._schema}", CancellationToken.None);
        try
        {
            using (var database = await PostgresDatabase.OpenAsync(pair.ConnectionString, CancellationToken.None))
            {
                pair.OperatorKey = await AddKeyAsync(database, "ops", Role.Operator);
                pair.AdminKey = await AddKeyAsync(database, "root", Role.Admin);
                await new PostgresRuntimeInventory(database).SaveRuntimeAsync(new Runtime
                {
                    Id = pair.SeededRuntime, Name = "seeded", Type = RuntimeType.Vm, State = RuntimeState.Running,
                    Spec = new RuntimeSpec { Size = "small" }, CreatedAt = TimeProvider.System.GetUtcNow(),
                }, "seed", CancellationToken.None);
            }

            var dir = TestPaths.NewDataDir();
            var connectionFile = Path.Combine(dir, "postgres.conn");
            await File.WriteAllTextAsync(connectionFile, pair.ConnectionString + "\n");
            var config = Path.Combine(dir, "runtimeai.json");
            await File.WriteAllTextAsync(config, new JsonObject
            {
                ["store"] = "postgres",
                ["postgres"] = new JsonObject { ["connection_string_file"] = connectionFile },
                ["client_approval_transports"] = new JsonArray("http"),
                ["events"] = events,
            }.ToJsonString());
            var policies = TestPolicies.AllowAll();
            pair._args = ["--config", config, "--sandbox", "--api-keys", "--autonomy", autonomy, "--policies", policies];
            pair._dir = dir;
            pair.A = await ServerProcess.StartHttpAsync(Path.Combine(dir, "data-a"), pair._args);
            if (startB)
            {
                await pair.StartBAsync();
            }

            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts replica B (when the test wants it later than A).</summary>
    public async Task StartBAsync() => B = await ServerProcess.StartHttpAsync(Path.Combine(_dir, "data-b"), _args);

    /// <summary>SIGKILLs replica A, as a node loss would.</summary>
    public async Task KillAAsync()
    {
        await A.KillAsync();
        await A.DisposeAsync();
        A = null!;
    }

    private static async Task<string> AddKeyAsync(PostgresDatabase database, string name, Role role)
    {
        var (id, secret) = ApiKeySecret.New();
        ApiKeySecret.TryParse(secret, out _, out var hash);
        Assert.True(await new PostgresApiKeyStore(database).AddAsync(new ApiKey
        {
            Id = id, Name = name, SecretHash = hash, Kind = PrincipalKind.Agent, Roles = [role], Tenants = [],
            CreatedBy = "test", CreatedAt = TimeProvider.System.GetUtcNow(),
        }, CancellationToken.None));
        return secret;
    }

    public HttpClient Rest(ServerProcess server, string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.McpEndpoint!.GetLeftPart(UriPartial.Authority) + "/"), Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public Task<McpClient> McpAsync(ServerProcess server, CancellationToken ct) => McpClient.CreateAsync(
        new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + OperatorKey },
        }), cancellationToken: ct);

    public async Task<long> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<List<(string Id, string Status, int Attempts, DateTimeOffset NextAttemptAt)>> AttemptsAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT id, status, attempts, next_attempt_at FROM webhook_deliveries ORDER BY event_seq", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var list = new List<(string, string, int, DateTimeOffset)>();
        while (await reader.ReadAsync(ct))
        {
            list.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return list;
    }

    /// <summary>Appends events to the seeded runtime from the test, as a third writer.</summary>
    public async Task AppendAsync(int count, CancellationToken ct)
    {
        using var writer = await PostgresDatabase.OpenAsync(ConnectionString, ct);
        var inventory = new PostgresRuntimeInventory(writer);
        for (var i = 0; i < count; i++)
        {
            await inventory.AppendEventAsync(new RuntimeAI.Core.Events.RuntimeEvent
            {
                Id = $"evt_hook_{i:00}", RuntimeId = SeededRuntime, Type = "lifecycle.started", Ts = TimeProvider.System.GetUtcNow(), Actor = "agent",
            }, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in new[] { A, B })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        await PostgresServerTests.ExecuteAsync(_admin, $"DROP SCHEMA IF EXISTS {_schema} CASCADE", CancellationToken.None);
    }
}
