using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Npgsql;
using RuntimeAI.Core.Operations;
using RuntimeAI.KubeSim;
using static RuntimeAI.Host.Tests.CrashFailpointTests;
using static RuntimeAI.Host.Tests.SagaToolTests;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Real <c>runtimeai serve</c> replicas on one PostgreSQL database and one KubeSim (Kubernetes API
/// simulator) world that lives in this test process. Replica A kills itself with SIGKILL at a saga
/// failpoint; replicas B and C keep running (neither restarts) and one of them must take the saga
/// over within a bounded time and settle it as single-process crash recovery does: compensated,
/// no step run twice, the audit chain intact, the world where the inventory says. And two sagas on
/// one runtime sent to two replicas at once run one after the other.
/// Skipped with the reason without RUNTIMEAI_TEST_POSTGRES or without failpoints in the build.
/// </summary>
public sealed class ReplicaTakeoverTests
{
    /// <summary>How long a takeover may take (kill → operation settled): detection every 2 s plus the compensations.</summary>
    private static readonly TimeSpan s_takeoverBound = TimeSpan.FromSeconds(30);

    public static TheoryData<string, bool> Points => new()
    {
        { Failpoints.StepBefore + ":2", false },
        { Failpoints.StepDurable + ":2", false },
        { Failpoints.CompensationAfter + ":1", true },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public async Task ReplicaKilledMidSaga_AnotherRunningReplicaTakesItOver_CompensatesOnce(string failpoint, bool lastActionFails)
    {
        Assert.SkipUnless(Failpoints.Compiled, "this build has no failpoints; build with -p:RuntimeAiFailpoints=true (Debug builds have them)");
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ClusterAsync(ct);
        await using var b = await cluster.StartReplicaAsync("b", null);
        await using var clientB = await ConnectAsync(b);
        var dev = await WaitForDevAsync(clientB, ct);
        var memoryBefore = MemoryOf(await CallOkAsync(clientB, "get_runtime", new() { ["runtime_id"] = dev }));
        await using var c = await cluster.StartReplicaAsync("c", null);
        await using var clientC = await ConnectAsync(c);
        await using var a = await cluster.StartReplicaAsync("a", failpoint);

        var arguments = new Dictionary<string, object?>
        {
            ["runtime_id"] = dev,
            ["idempotency_key"] = "takeover-" + failpoint.Replace(':', '-'),
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "t1" }),
                Action("scale", new() { ["size"] = "small" }),
                lastActionFails ? Action("restore", new() { ["snapshot"] = "never-taken" }) : Action("snapshot", new() { ["name"] = "t2" }),
            },
        };

        // The saga goes to A, which dies at the failpoint; the client's retry goes to B.
        var (operationId, operation, takeover) = await KillMidSagaAsync(a, clientB, arguments, failpoint, s_takeoverBound, ct);
        var status = operation.GetProperty("status").GetString();
        var steps = operation.GetProperty("result").GetProperty("steps").EnumerateArray().Select(st => st.GetProperty("status").GetString()).ToList();
        var summary = $"{failpoint}: operation {status} after {takeover.TotalMilliseconds:F0} ms, steps [{string.Join(", ", steps)}]: {operation}";
        TestContext.Current.TestOutputHelper?.WriteLine($"takeover at {failpoint}: {takeover.TotalMilliseconds:F0} ms from the kill to the operation settled");

        // Settled by B or C (not restarted), as crash recovery does: compensated, never resumed.
        Assert.True(status is "failed" or "stuck", summary);
        Assert.True(takeover < s_takeoverBound, summary);
        var executor = operation.GetProperty("result").GetProperty("executor_process").GetProperty("replica").GetString();
        var settler = operation.GetProperty("result").GetProperty("settled_by").GetProperty("replica").GetString();
        Assert.False(string.IsNullOrEmpty(executor), summary);
        Assert.NotEqual(executor, settler);
        Assert.Contains(settler, (string?[])[await ReplicaIdAsync(cluster, b.Id, ct), await ReplicaIdAsync(cluster, c.Id, ct)]);
        if (status == "failed")
        {
            Assert.All(steps, st => Assert.Contains(st, (string?[])["compensated", "failed", "not_run"]));
        }

        // Exactly one replica claimed it, and no step ran twice.
        var events = await SagaEventsAsync(clientC, dev);
        var ofOperation = events.Where(e => e.GetProperty("data").TryGetProperty("operation_id", out var op) && op.GetString() == operationId).ToList();
        Assert.Single(ofOperation, e => e.GetProperty("type").GetString() == "saga.recovery_started");
        var succeeded = ofOperation.Where(e => e.GetProperty("type").GetString() == "saga.step_succeeded").Select(e => e.GetProperty("data").GetProperty("step").GetInt32()).ToList();
        Assert.True(succeeded.Count == succeeded.Distinct().Count(), $"a step ran twice ({string.Join(",", succeeded)}): {summary}");
        var compensated = ofOperation.Where(e => e.GetProperty("type").GetString() == "saga.compensated").Select(e => e.GetProperty("data").GetProperty("step").GetInt32()).ToList();
        Assert.True(compensated.Count == compensated.Distinct().Count(), $"a compensation ran twice ({string.Join(",", compensated)}): {summary}");

        // The world is where the inventory says: no snapshot of the saga left, the size as before.
        var snapshots = (await CallOkAsync(clientC, "list_snapshots", new() { ["runtime_id"] = dev })).GetProperty("items")
            .EnumerateArray().Select(x => x.GetProperty("name").GetString()).ToList();
        var memoryAfter = MemoryOf(await CallOkAsync(clientC, "get_runtime", new() { ["runtime_id"] = dev }));
        var observed = await CallOkAsync(clientC, "get_runtime_status", new() { ["runtime_id"] = dev });
        if (status == "failed")
        {
            Assert.True(!snapshots.Contains("t1") && !snapshots.Contains("t2"), $"snapshots left behind [{string.Join(",", snapshots)}]: {summary}");
            Assert.Equal(memoryBefore, memoryAfter);
        }

        Assert.Equal(MiB(memoryAfter), observed.GetProperty("signals").GetProperty("memory").GetProperty("value").GetInt64());

        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", cluster.Config);
        Assert.True(code == 0, $"audit verify after the takeover: {stdout}{stderr}");
    }

    [Fact]
    public async Task TwoSagasOnOneRuntime_SentToTwoReplicas_RunOneAfterTheOther()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ClusterAsync(ct);
        await using var b = await cluster.StartReplicaAsync("b", null);
        await using var clientB = await ConnectAsync(b);
        var dev = await WaitForDevAsync(clientB, ct);
        await using var c = await cluster.StartReplicaAsync("c", null);
        await using var clientC = await ConnectAsync(c);

        Dictionary<string, object?> Saga(string tag) => new()
        {
            ["runtime_id"] = dev,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = tag + "-1" }),
                Action("scale", new() { ["size"] = tag == "b" ? "small" : "medium" }),
                Action("snapshot", new() { ["name"] = tag + "-2" }),
                Action("scale", new() { ["size"] = "nano" }),
            },
        };

        var results = await Task.WhenAll(CallOkAsync(clientB, "execute_actions", Saga("b")), CallOkAsync(clientC, "execute_actions", Saga("c")));
        var ids = results.Select(r => r.GetProperty("operation_id").GetString()).ToList();
        Assert.All(results, r => Assert.Equal("succeeded", r.GetProperty("status").GetString()));

        // In the shared event order, every saga event of one operation comes before every one of the other.
        var order = (await SagaEventsAsync(clientB, dev))
            .Select(e => e.GetProperty("data").TryGetProperty("operation_id", out var op) ? op.GetString() : null)
            .Where(ids.Contains).ToList();
        var runs = order.Where((op, i) => i == 0 || op != order[i - 1]).ToList();
        Assert.True(runs.Count == 2, $"the two sagas interleaved: {string.Join(" ", order.Select(o => o == ids[0] ? "B" : "C"))}");
    }

    [Fact]
    public async Task BudgetGuardrail_CallsThroughTwoReplicasAtOnce_NeverSpendMoreThanTheBudget()
    {
        var ct = TestContext.Current.CancellationToken;
        const int budget = 4;
        await using var world = await ClusterAsync(ct);
        var cluster = world with
        {
            Policies = TestPolicies.With($$"""
                policies:
                  - id: allow
                    name: allow
                    rules:
                      - id: allow-all
                        kind: allow_action
                  - id: budget
                    name: A few mutations an hour
                    rules:
                      - id: few-per-hour
                        kind: budget_guardrail
                        params:
                          max_mutations_per_window: {{budget}}
                          window: 1h
                """),
        };
        await using var b = await cluster.StartReplicaAsync("b", null);
        await using var clientB = await ConnectAsync(b);
        var dev = await WaitForStateAsync(clientB, "vcluster", "dev", "running", ct);
        await using var c = await cluster.StartReplicaAsync("c", null);
        await using var clientC = await ConnectAsync(c);
        var staging = await WaitForStateAsync(clientC, "vcluster", "staging", "running", ct);
        var before = await CountOperationsAsync(cluster, ct);
        Assert.True(before < budget, $"{before} operations before the test leave no budget to race for");

        // Twice the budget, half through each replica, on two runtimes (so the runtime locks do not serialize them).
        var calls = Enumerable.Range(0, budget).SelectMany(i => new[]
        {
            clientB.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = dev, ["name"] = $"bb{i}" }, cancellationToken: ct).AsTask(),
            clientC.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = staging, ["name"] = $"bc{i}" }, cancellationToken: ct).AsTask(),
        }).ToList();
        var results = await Task.WhenAll(calls);

        var allowed = results.Count(r => r.IsError != true);
        var denied = results.Where(r => r.IsError == true).Select(r => string.Join(' ', r.Content.OfType<TextContentBlock>().Select(t => t.Text))).ToList();
        Assert.Equal(budget - before, allowed);
        Assert.All(denied, text => Assert.Contains("few-per-hour", text, StringComparison.Ordinal));
        Assert.Equal(budget, await CountOperationsAsync(cluster, ct));
    }

    /// <summary>
    /// Sends the saga to replica <paramref name="a"/>, which must die at <paramref name="failpoint"/>;
    /// then the client's retry (same idempotency key) goes to <paramref name="survivor"/> and names the
    /// operation A began, which is polled until it settles or <paramref name="bound"/> passes since A's
    /// exit was seen. Returns the operation, its last state and the time from the exit to that state.
    /// </summary>
    internal static async Task<(string OperationId, JsonElement Operation, TimeSpan Takeover)> KillMidSagaAsync(
        ServerProcess a, McpClient survivor, Dictionary<string, object?> arguments, string failpoint, TimeSpan bound, CancellationToken ct)
    {
        await using (var clientA = await ConnectAsync(a))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => clientA.CallToolAsync("execute_actions", arguments, cancellationToken: ct).AsTask().WaitAsync(TimeSpan.FromSeconds(90), ct));
        }

        await a.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        var killed = Stopwatch.StartNew();
        Assert.Contains($"test failpoint {failpoint} reached", a.Stderr, StringComparison.Ordinal);

        var retry = await survivor.CallToolAsync("execute_actions", arguments, cancellationToken: ct);
        var operationId = retry.StructuredContent is { } s && s.TryGetProperty("operation_id", out var id)
            ? id.GetString()!
            : OperationIdIn(string.Join(' ', retry.Content.OfType<TextContentBlock>().Select(t => t.Text)));
        var operation = await CallOkAsync(survivor, "get_operation", new() { ["operation_id"] = operationId });
        while (operation.GetProperty("status").GetString() is "running" or "pending" && killed.Elapsed < bound)
        {
            await Task.Delay(50, ct);
            operation = await CallOkAsync(survivor, "get_operation", new() { ["operation_id"] = operationId });
        }

        return (operationId, operation, killed.Elapsed);
    }

    private static async Task<long> CountOperationsAsync(Cluster cluster, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(ct);
        await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM operations", connection);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    [Fact]
    public async Task Readyz_ReplicaLosesItsLockInTheDatabase_FencedNotReady_ThenJoinsAgainUnderANewId()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ClusterAsync(ct);
        await using var b = await cluster.StartReplicaAsync("b", null);
        using var http = new HttpClient();
        var readyz = new Uri(b.McpEndpoint!, "/readyz");
        using (var ready = await http.GetAsync(readyz, ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        }

        // The replica's own connection dies (as when the database restarts or a network path breaks).
        var first = await ReplicaIdAsync(cluster, b.Id, ct);
        Assert.NotNull(first);
        await using (var admin = new NpgsqlConnection(cluster.ConnectionString))
        {
            await admin.OpenAsync(ct);
            // 0x52544901: PostgresReplicaCoordinator.ReplicaLockSpace, the first key of every replica's own lock.
            await using var kill = new NpgsqlCommand(
                "SELECT COUNT(pg_terminate_backend(pid, 5000)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 " +
                "AND classid = 1381255425::oid AND objid = hashtext(@id)::oid", admin);
            kill.Parameters.AddWithValue("id", first!);
            Assert.Equal(1L, await kill.ExecuteScalarAsync(ct));
        }

        string? fenced = null;
        var back = false;
        for (var watch = Stopwatch.StartNew(); watch.Elapsed < TimeSpan.FromSeconds(20) && !back; await Task.Delay(50, ct))
        {
            using var response = await http.GetAsync(readyz, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && body.Contains("replica fenced", StringComparison.Ordinal))
            {
                fenced = body;
            }

            back = fenced is not null && response.StatusCode == System.Net.HttpStatusCode.OK;
        }

        Assert.True(fenced is not null, $"/readyz never reported the replica fenced; stderr:\n{b.Stderr}");
        Assert.Contains(first!, fenced, StringComparison.Ordinal);
        Assert.True(back, $"the replica did not join again: {fenced}");
        var second = await ReplicaIdAsync(cluster, b.Id, ct);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task ReplicaLosesTheRuntimeLockMidSaga_RunsNoFurtherStep_SagaIsSettledByCompensation()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ClusterAsync(ct, vmStartDelay: TimeSpan.FromSeconds(3));
        await using var b = await cluster.StartReplicaAsync("b", null);
        await using var clientB = await ConnectAsync(b);
        var vm = await WaitForStateAsync(clientB, "vm", "batch-vm", "stopped", ct);
        await using var c = await cluster.StartReplicaAsync("c", null);
        await using var clientC = await ConnectAsync(c);
        var firstB = await ReplicaIdAsync(cluster, b.Id, ct);

        // The saga runs on B: a start that takes 3 s in the world, then a snapshot.
        var call = clientB.CallToolAsync("execute_actions", new Dictionary<string, object?>
        {
            ["runtime_id"] = vm, ["idempotency_key"] = "fenced-1",
            ["actions"] = new[] { Action("start"), Action("snapshot", new() { ["name"] = "f1" }) },
        }, cancellationToken: ct).AsTask();

        // While it runs, the connection holding the runtime's lock across replicas dies.
        await using (var admin = new NpgsqlConnection(cluster.ConnectionString))
        {
            await admin.OpenAsync(ct);
            // 0x52544902: PostgresReplicaCoordinator.KeyLockSpace, the first key of the locks on runtimes and the budget.
            const string holder = "FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = 1381255426::oid AND objid = hashtext(@key)::oid";
            // The saga's own hold: the pipeline also takes the lock for an instant before it (to judge
            // the call against a settled runtime), so wait until the saga has started under it.
            for (var i = 0; i < 200; i++)
            {
                await using var held = new NpgsqlCommand(
                    "SELECT (SELECT COUNT(*) " + holder + ") * (SELECT COUNT(*) FROM events WHERE runtime_id = @vm AND type = 'saga.started')", admin);
                held.Parameters.AddWithValue("key", "runtime:" + vm);
                held.Parameters.AddWithValue("vm", vm);
                if ((long)(await held.ExecuteScalarAsync(ct))! > 0)
                {
                    break;
                }

                await Task.Delay(25, ct);
            }

            await using var kill = new NpgsqlCommand("SELECT COUNT(pg_terminate_backend(pid, 5000)) " + holder, admin);
            kill.Parameters.AddWithValue("key", "runtime:" + vm);
            var killed = (long)(await kill.ExecuteScalarAsync(ct))!;
            Assert.True(killed == 1, call.IsCompleted
                ? "the saga ended before its lock could be taken away: " + string.Join(' ', (await call).Content.OfType<TextContentBlock>().Select(t => t.Text))
                : "no connection held the runtime's lock while the saga ran");
        }

        // B stops before its next step and says why; the saga is left for the takeover.
        var result = await call.WaitAsync(TimeSpan.FromSeconds(60), ct);
        var text = string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));
        Assert.True(result.IsError == true, text);
        Assert.True(text.Contains("lost its lock on runtime:" + vm, StringComparison.Ordinal) && text.Contains("same idempotency_key", StringComparison.Ordinal),
            $"B did not say it was fenced; the call said: {text}");

        var retry = await clientC.CallToolAsync("execute_actions", new Dictionary<string, object?>
        {
            ["runtime_id"] = vm, ["idempotency_key"] = "fenced-1",
            ["actions"] = new[] { Action("start"), Action("snapshot", new() { ["name"] = "f1" }) },
        }, cancellationToken: ct);
        var operationId = retry.StructuredContent is { } s && s.TryGetProperty("operation_id", out var id)
            ? id.GetString()!
            : OperationIdIn(string.Join(' ', retry.Content.OfType<TextContentBlock>().Select(t => t.Text)));
        var operation = await CallOkAsync(clientC, "get_operation", new() { ["operation_id"] = operationId });
        for (var i = 0; i < 300 && operation.GetProperty("status").GetString() is "running" or "pending"; i++)
        {
            await Task.Delay(100, ct);
            operation = await CallOkAsync(clientC, "get_operation", new() { ["operation_id"] = operationId });
        }

        Assert.True(operation.GetProperty("status").GetString() == "failed", operation.ToString());
        Assert.Equal(firstB, operation.GetProperty("result").GetProperty("executor_process").GetProperty("replica").GetString());
        Assert.NotEqual(firstB, operation.GetProperty("result").GetProperty("settled_by").GetProperty("replica").GetString());
        var events = (await SagaEventsAsync(clientC, vm))
            .Where(e => e.GetProperty("data").TryGetProperty("operation_id", out var op) && op.GetString() == operationId).ToList();
        var lastStep = operation.GetProperty("result").GetProperty("steps").GetArrayLength();
        Assert.DoesNotContain(events, e => e.GetProperty("type").GetString() == "saga.step_succeeded" && e.GetProperty("data").GetProperty("step").GetInt32() == lastStep);
        Assert.Equal("stopped", await WaitForStateAsync(clientC, vm, "stopped", ct));
        Assert.DoesNotContain((await CallOkAsync(clientC, "list_snapshots", new() { ["runtime_id"] = vm })).GetProperty("items").EnumerateArray(),
            x => x.GetProperty("name").GetString() == "f1");

        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", cluster.Config);
        Assert.True(code == 0, $"audit verify: {stdout}{stderr}");
    }

    internal static async Task<string> WaitForStateAsync(McpClient client, string id, string state, CancellationToken ct)
    {
        var now = string.Empty;
        for (var i = 0; i < 200 && now != state; i++)
        {
            now = (await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = id })).GetProperty("state").GetString()!;
            if (now != state)
            {
                await Task.Delay(100, ct);
            }
        }

        return now;
    }

    private static async Task<string> WaitForStateAsync(McpClient client, string type, string name, string state, CancellationToken ct)
    {
        string? found = null;
        for (var i = 0; i < 100 && found is null; i++)
        {
            var list = await CallOkAsync(client, "list_runtimes", new() { ["type"] = type, ["page_size"] = 20 });
            found = list.GetProperty("items").EnumerateArray().SingleOrDefault(r => r.GetProperty("name").GetString() == name) is { ValueKind: JsonValueKind.Object } r
                ? r.GetProperty("id").GetString()
                : null;
            if (found is null)
            {
                await Task.Delay(100, ct);
            }
        }

        Assert.NotNull(found);
        Assert.Equal(state, await WaitForStateAsync(client, found!, state, ct));
        return found!;
    }

    internal static async Task<McpClient> ConnectAsync(ServerProcess server) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }));

    private static async Task<string> WaitForDevAsync(McpClient client, CancellationToken ct)
    {
        // The first replica imports the world's vclusters once the backend answers.
        string? dev = null;
        for (var i = 0; i < 100 && dev is null; i++)
        {
            var list = await CallOkAsync(client, "list_runtimes", new() { ["type"] = "vcluster", ["page_size"] = 10 });
            dev = list.GetProperty("items").EnumerateArray().SingleOrDefault(r => r.GetProperty("name").GetString() == "dev") is { ValueKind: JsonValueKind.Object } found
                ? found.GetProperty("id").GetString()
                : null;
            if (dev is null)
            {
                await Task.Delay(100, ct);
            }
        }

        Assert.NotNull(dev);
        for (var i = 0; i < 100 && (await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = dev })).GetProperty("state").GetString() != "running"; i++)
        {
            await Task.Delay(100, ct);
        }

        return dev;
    }

    internal static async Task<string?> ReplicaIdAsync(Cluster cluster, int pid, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(ct);
        await using var read = new NpgsqlCommand("SELECT id FROM replicas WHERE pid = @pid ORDER BY started_at DESC LIMIT 1", connection);
        read.Parameters.AddWithValue("pid", pid);
        return (string?)await read.ExecuteScalarAsync(ct);
    }

    /// <summary>
    /// A fresh schema, a KubeSim world and the files replicas start with; with <paramref name="libvirtUri"/>
    /// every replica also gets that libvirt connection and its files live under <paramref name="dataRoot"/>.
    /// </summary>
    internal static async Task<Cluster> ClusterAsync(CancellationToken ct, TimeSpan? vmStartDelay = null, string? libvirtUri = null, string? dataRoot = null)
    {
        var admin = Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip("RUNTIMEAI_TEST_POSTGRES is not set: no PostgreSQL for the replicas (scripts/test.sh sets it; by hand: export RUNTIMEAI_TEST_POSTGRES=\"$(scripts/postgres.sh start)\")");
        }

        var schema = "rep_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync(ct);
        }

        var world = await KubeSimServer.StartAsync(new KubeSimOptions
        {
            Port = 0, SeedYaml = SandboxWorld.Seed, SettleSeed = true, PodStartDelay = TimeSpan.FromMilliseconds(100),
            VirtualMachineStartDelay = vmStartDelay ?? TimeSpan.FromMilliseconds(200), VirtualMachineStopDelay = TimeSpan.FromMilliseconds(100),
        }, ct);
        var dir = dataRoot is null ? TestPaths.NewDataDir() : Directory.CreateDirectory(Path.Combine(dataRoot, "replicas-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var kubeconfig = Path.Combine(dir, "kubesim.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, world.CreateKubeconfigYaml(), ct);
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString;
        var connectionFile = Path.Combine(dir, "postgres.conn");
        await File.WriteAllTextAsync(connectionFile, connectionString + "\n", ct);
        var config = Path.Combine(dir, "runtimeai.json");
        await File.WriteAllTextAsync(config, $$"""{ "store": "postgres", "postgres": { "connection_string_file": "{{connectionFile}}" } }""", ct);
        return new Cluster(world, dir, kubeconfig, config, connectionString, AllowAllPolicies(), libvirtUri);
    }

    /// <summary>One database, one KubeSim world, and the files every replica is started with.</summary>
    internal sealed record Cluster(KubeSimServer World, string Dir, string Kubeconfig, string Config, string ConnectionString, string Policies, string? LibvirtUri = null) : IAsyncDisposable
    {
        public Task<ServerProcess> StartReplicaAsync(string name, string? failpoint) =>
            ServerProcess.StartHttpAsync(Directory.CreateDirectory(Path.Combine(Dir, "data-" + name)).FullName, new Dictionary<string, string?>
            {
                ["RUNTIMEAI_TEST_HOOKS"] = failpoint is null ? null : "1",
                ["RUNTIMEAI_TEST_CRASH_AT"] = failpoint,
            }, ["--config", Config, "--kubeconfig", Kubeconfig, "--autonomy", "autonomous", "--policies", Policies, .. LibvirtUri is null ? Array.Empty<string>() : ["--libvirt", LibvirtUri]]);

        public ValueTask DisposeAsync() => World.DisposeAsync();
    }
}
