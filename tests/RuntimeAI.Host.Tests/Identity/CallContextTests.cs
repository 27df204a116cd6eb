using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// One call context from the pipeline to the engine: the operation, its events and the audit
/// record carry the actor and the decisions; idempotency_key on single-action tools; budgets that
/// hold when calls race.
/// </summary>
public sealed class CallContextTests
{
    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static Task<InProcessSession> StartAsync(string dataDir, string? policies = null) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = policies ?? TestPolicies.AllowAll(),
            LocalPrincipal = TestPrincipals.Agent,
        }, CancellationToken.None);

    private static async Task<string> CreateAsync(McpClient client)
    {
        var result = await client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "c-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm" });
        Assert.True(result.IsError != true, Text(result));
        return result.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
    }

    [Fact]
    public async Task Operation_EventsAndAudit_CarryTheActorAndDecisionIds()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir);
        var id = await CreateAsync(session.Client);

        var stop = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true }, cancellationToken: TestContext.Current.CancellationToken);
        var operationId = stop.StructuredContent!.Value.GetProperty("operation_id").GetString()!;
        var operation = (await session.Client.CallToolAsync("get_operation", new Dictionary<string, object?> { ["operation_id"] = operationId }, cancellationToken: TestContext.Current.CancellationToken)).StructuredContent!.Value;
        var events = (await session.Client.CallToolAsync("get_events", new Dictionary<string, object?> { ["runtime_id"] = id, ["type_prefix"] = "lifecycle.stop" }, cancellationToken: TestContext.Current.CancellationToken)).StructuredContent!.Value;

        var actor = operation.GetProperty("actor");
        Assert.Equal("key:test-agent", actor.GetProperty("principal").GetString());
        Assert.Equal("agent", actor.GetProperty("kind").GetString());
        Assert.Equal("allow-all", actor.GetProperty("policy_rule_ids")[0].GetString());
        var callId = actor.GetProperty("call_id").GetString()!;
        var stopped = events.GetProperty("items")[0];
        Assert.Equal("agent", stopped.GetProperty("actor").GetString());
        Assert.Equal("key:test-agent", stopped.GetProperty("principal").GetString());
        Assert.Equal(operationId, stopped.GetProperty("operation_id").GetString());
        using var db = SqliteDatabase.Open(dataDir);
        var audit = await new SqliteAuditLog(db, new CanonicalAuditHasher()).QueryAsync(new AuditQuery { Tool = "stop_runtime", PageSize = 10 }, CancellationToken.None);
        var record = Assert.Single(audit);
        Assert.Equal(callId, record.Begin.CallId);
        Assert.Equal("agent", record.Begin.PrincipalKind);
        Assert.Equal("api_key", record.Begin.AuthenticatedBy);
        Assert.Equal(operationId, record.End.OperationId);
    }

    [Fact]
    public async Task Saga_EventsAndStepOperations_CarryThePrincipalAndTheSagaOperation()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());
        var id = await CreateAsync(session.Client);

        var saga = await session.Client.CallToolAsync("execute_actions", new Dictionary<string, object?>
        {
            ["runtime_id"] = id,
            ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "s1" } } },
        }, cancellationToken: TestContext.Current.CancellationToken);
        var operationId = saga.StructuredContent!.Value.GetProperty("operation_id").GetString()!;
        var events = (await session.Client.CallToolAsync("get_events", new Dictionary<string, object?> { ["runtime_id"] = id, ["type_prefix"] = "saga." },
            cancellationToken: TestContext.Current.CancellationToken)).StructuredContent!.Value.GetProperty("items").EnumerateArray().ToList();
        var step = (await session.Client.CallToolAsync("get_events", new Dictionary<string, object?> { ["runtime_id"] = id, ["type_prefix"] = "lifecycle.snapshot" },
            cancellationToken: TestContext.Current.CancellationToken)).StructuredContent!.Value.GetProperty("items")[0];

        Assert.True(saga.IsError != true, Text(saga));
        Assert.Equal("key:test-agent", saga.StructuredContent!.Value.GetProperty("actor").GetProperty("principal").GetString());
        Assert.NotEmpty(events);
        Assert.All(events, e =>
        {
            Assert.Equal("key:test-agent", e.GetProperty("principal").GetString());
            Assert.Equal(operationId, e.GetProperty("operation_id").GetString());
        });
        Assert.Equal("key:test-agent", step.GetProperty("principal").GetString());
    }

    [Fact]
    public async Task IdempotencyKey_SingleActionTool_ReplaysTheFirstOperation_AndRefusesOtherArguments()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir);
        var id = await CreateAsync(session.Client);
        var args = new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "once", ["idempotency_key"] = "snap-1" };

        var first = await session.Client.CallToolAsync("snapshot_runtime", args, cancellationToken: TestContext.Current.CancellationToken);
        var again = await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?>(args) { ["reasoning"] = "retry after timeout" }, cancellationToken: TestContext.Current.CancellationToken);
        var other = await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?>(args) { ["name"] = "twice" }, cancellationToken: TestContext.Current.CancellationToken);
        var snapshots = await session.Client.CallToolAsync("list_snapshots", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(first.IsError != true, Text(first));
        Assert.True(again.IsError != true, Text(again));
        Assert.Equal(first.StructuredContent!.Value.GetProperty("operation_id").GetString(), again.StructuredContent!.Value.GetProperty("operation_id").GetString());
        Assert.True(again.StructuredContent!.Value.GetProperty("replayed").GetBoolean());
        Assert.Equal("snap-1", first.StructuredContent!.Value.GetProperty("actor").GetProperty("idempotency_key").GetString());
        Assert.True(other.IsError);
        Assert.Contains("idempotency_key 'snap-1' was already used", Text(other), StringComparison.Ordinal);
        Assert.Single(snapshots.StructuredContent!.Value.GetProperty("items").EnumerateArray(), s => s.GetProperty("name").GetString() is "once" or "twice");

        var invalid = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => session.Client.CallToolAsync("snapshot_runtime",
            new Dictionary<string, object?>(args) { ["idempotency_key"] = "no spaces/or slashes" }, cancellationToken: TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("/idempotency_key: use 1 to 128 of A-Z", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BudgetGuardrail_ConcurrentCalls_NeverBothSpendTheLastUnit()
    {
        var policies = TestPolicies.With("""
            policies:
              - id: allow
                name: allow
                rules:
                  - id: allow-all
                    kind: allow_action
              - id: budget
                name: One mutation an hour
                rules:
                  - id: one-per-hour
                    kind: budget_guardrail
                    params:
                      max_mutations_per_window: 1
                      window: 1h
            """);
        // A slow cluster (every API request takes 100 ms) widens the time between a call counting
        // the budget and its operation being recorded: without the budget gate, every racing call
        // counts zero mutations and several run.
        await using var cluster = await RuntimeAI.KubeSim.KubeSimServer.StartAsync(new RuntimeAI.KubeSim.KubeSimOptions { SeedYaml = SandboxWorld.Seed, RunControllersInBackground = true, PodStartDelay = TimeSpan.FromMilliseconds(100) }, CancellationToken.None);
        var dataDir = TestPaths.NewDataDir();
        Directory.CreateDirectory(dataDir);
        var kubeconfig = Path.Combine(dataDir, "lab.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, cluster.CreateKubeconfigYaml("lab"), TestContext.Current.CancellationToken);
        var options = new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, PoliciesDir = policies, LocalPrincipal = TestPrincipals.Agent };
        options.Kubeconfigs.Add(kubeconfig + "#lab");
        await using var session = await InProcessSession.StartAsync(options, CancellationToken.None);
        var page = (await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vcluster" }, cancellationToken: TestContext.Current.CancellationToken)).StructuredContent!.Value;
        var vclusters = page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList();
        Assert.Equal(2, vclusters.Count);
        foreach (var id in vclusters)
        {
            for (var attempt = 0; ; attempt++)
            {
                var status = (await session.Client.CallToolAsync("get_runtime_status", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken)).StructuredContent!.Value;
                if (status.GetProperty("state").GetString() == "running")
                {
                    break;
                }

                Assert.True(attempt < 100, $"vcluster {id} never became running: {status}");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        cluster.Faults.Latency = TimeSpan.FromMilliseconds(100);

        // Concurrent calls on different runtimes (no runtime lock between them) race for the one unit.
        var calls = Enumerable.Range(0, 6).Select(i => session.Client.CallToolAsync("restart_runtime",
            new Dictionary<string, object?> { ["runtime_id"] = vclusters[i % 2] }, cancellationToken: TestContext.Current.CancellationToken).AsTask()).ToList();
        var results = await Task.WhenAll(calls);

        Assert.Single(results, r => r.IsError != true);
        Assert.All(results.Where(r => r.IsError == true), r => Assert.Contains("one-per-hour", Text(r), StringComparison.Ordinal));
    }
}
