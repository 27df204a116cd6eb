using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Policy, dry-run and approval stages through the real MCP boundary on the sandbox backend, with
/// approvals given by a human through the real <c>runtimeai approve</c> executable.
/// </summary>
public sealed class GovernanceTests
{
    private static Task<InProcessSession> StartAsync(string dataDir, AutonomyLevel autonomy, string? policies = null) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = autonomy, Sandbox = true, PoliciesDir = policies ?? TestPolicies.AllowAll(),
            LocalPrincipal = TestPrincipals.Agent,
        }, CancellationToken.None);

    private static string UniqueName() => "g-" + Guid.NewGuid().ToString("N")[..10];

    // Everything allowed except deletes, which a deny rule forbids.
    private static string NoDeletes() => TestPolicies.With("""
        policies:
          - id: allow
            name: allow
            rules:
              - id: allow-all
                kind: allow_action
          - id: no-delete
            name: No deletes by agents
            rules:
              - id: deny-delete
                kind: deny_action
                selector:
                  action_types: [delete]
        """);

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static async Task<string> CreateAsync(McpClient client, Dictionary<string, string>? labels = null)
    {
        // Creating is allowed without approval only at autonomous; tests that run at lower levels create first through a second session.
        var result = await client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = UniqueName(), ["type"] = "vm", ["labels"] = labels ?? new() });
        Assert.True(result.IsError != true, Text(result));
        return result.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
    }

    private static async Task<string> StateAsync(McpClient client, string id) =>
        (await client.CallToolAsync("get_runtime_status", new Dictionary<string, object?> { ["runtime_id"] = id })).StructuredContent!.Value.GetProperty("state").GetString()!;

    [Fact]
    public async Task Copilot_StopNeedsApproval_HumanApproves_RetryRunsOnceAndOnlyForThatPlan()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateAsync(session.Client);
        await using var copilot = await StartAsync(dataDir, AutonomyLevel.Copilot);

        var pending = await copilot.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true, ["reasoning"] = "maintenance window" }, cancellationToken: TestContext.Current.CancellationToken);
        var proposalId = pending.StructuredContent!.Value.GetProperty("proposal_id").GetString()!;

        Assert.NotEqual(true, pending.IsError);
        Assert.Equal("pending_approval", pending.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Contains("NOT executed", Text(pending), StringComparison.Ordinal);
        Assert.Equal("running", await StateAsync(copilot.Client, id));

        var early = await copilot.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(early.IsError);
        Assert.Contains("pending", Text(early), StringComparison.Ordinal);

        var (code, _, stderr) = await ServerProcess.RunAsync("approve", proposalId, "--reason", "ok for tonight", "--data-dir", dataDir);
        Assert.True(code == 0, stderr);
        var status = await copilot.Client.CallToolAsync("get_proposal", new Dictionary<string, object?> { ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("approved", status.StructuredContent!.Value.GetProperty("status").GetString());

        var changedPlan = await copilot.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = false, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(changedPlan.IsError);
        Assert.Contains("different change", Text(changedPlan), StringComparison.Ordinal);

        var run = await copilot.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(run.IsError != true, Text(run));
        Assert.Equal("stopped", await StateAsync(copilot.Client, id));

        var restarted = await session.Client.CallToolAsync("start_runtime", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(restarted.IsError != true, Text(restarted));
        var replay = await copilot.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(replay.IsError);
        Assert.Contains("executed", Text(replay), StringComparison.Ordinal);

        using var db = SqliteDatabase.Open(dataDir);
        var audit = await new SqliteAuditLog(db, new CanonicalAuditHasher()).QueryAsync(new AuditQuery { Tool = "stop_runtime", PageSize = 100 }, CancellationToken.None);
        Assert.Contains(audit, r => r.End.Outcome == "pending_approval" && r.End.ProposalId == proposalId && r.Begin.Reasoning == "maintenance window");
        var executed = Assert.Single(audit, r => r.End.Outcome == "ok");
        Assert.Equal(proposalId, executed.End.ProposalId);
        Assert.StartsWith("human:", executed.End.Approver, StringComparison.Ordinal);
        Assert.Contains(PolicyDecision.CopilotRuleId, executed.End.Decision!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Copilot_MultiRuntimeSaga_ApprovalCoversEveryStepsRuntime_MovingAStepIsRefused()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var (first, second, third) = (await CreateAsync(session.Client), await CreateAsync(session.Client), await CreateAsync(session.Client));
        await using var copilot = await StartAsync(dataDir, AutonomyLevel.Copilot);
        Dictionary<string, object?> Saga(string secondTarget) => new()
        {
            ["runtime_id"] = first,
            ["actions"] = new object[]
            {
                new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "a" } },
                new Dictionary<string, object?> { ["type"] = "snapshot", ["runtime_id"] = secondTarget, ["params"] = new Dictionary<string, object?> { ["name"] = "b" } },
            },
        };

        var pending = await copilot.Client.CallToolAsync("execute_actions", Saga(second), cancellationToken: TestContext.Current.CancellationToken);
        var proposalId = pending.StructuredContent!.Value.GetProperty("proposal_id").GetString()!;
        var proposal = await copilot.Client.CallToolAsync("get_proposal", new Dictionary<string, object?> { ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(second, proposal.StructuredContent!.Value.GetRawText(), StringComparison.Ordinal);
        var (code, _, stderr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir);
        Assert.True(code == 0, stderr);

        var moved = await copilot.Client.CallToolAsync("execute_actions", new Dictionary<string, object?>(Saga(third)) { ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(moved.IsError);
        Assert.Contains("different change", Text(moved), StringComparison.Ordinal);

        var run = await copilot.Client.CallToolAsync("execute_actions", new Dictionary<string, object?>(Saga(second)) { ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(run.IsError != true, Text(run));
        var snapshots = await copilot.Client.CallToolAsync("list_snapshots", new Dictionary<string, object?> { ["runtime_id"] = third }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Empty(snapshots.StructuredContent!.Value.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Reject_RetryIsRefused()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateAsync(session.Client);
        await using var copilot = await StartAsync(dataDir, AutonomyLevel.Copilot);
        var pending = await copilot.Client.CallToolAsync("restart_runtime", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);
        var proposalId = pending.StructuredContent!.Value.GetProperty("proposal_id").GetString()!;

        var (code, _, _) = await ServerProcess.RunAsync("reject", proposalId, "--data-dir", dataDir);
        var retry = await copilot.Client.CallToolAsync("restart_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.True(retry.IsError);
        Assert.Contains("rejected", Text(retry), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRun_ReportsDecisionAndSimulation_ChangesNothing()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous);
        var id = await CreateAsync(session.Client);

        var result = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["dry_run"] = true }, cancellationToken: TestContext.Current.CancellationToken);

        var report = result.StructuredContent!.Value;
        Assert.True(report.GetProperty("dry_run").GetBoolean());
        Assert.Equal("would run", report.GetProperty("verdict").GetString());
        var simulation = report.GetProperty("simulations")[0];
        Assert.Equal("running", simulation.GetProperty("from_state").GetString());
        Assert.Equal("stopped", simulation.GetProperty("to_state").GetString());
        Assert.Equal("start_runtime", simulation.GetProperty("compensation").GetString());
        Assert.Contains("Nothing was changed", Text(result), StringComparison.Ordinal);
        Assert.Equal("running", await StateAsync(session.Client, id));
    }

    [Fact]
    public async Task DryRun_NamesTheRuntimesThatDependOnTheTarget()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous);
        var db = await CreateAsync(session.Client);
        var app = await CreateAsync(session.Client, new() { [RuntimeAI.Core.Governance.DryRunSimulator.DependsOnLabel] = $"cache, {db}" });
        await CreateAsync(session.Client, new() { [RuntimeAI.Core.Governance.DryRunSimulator.DependsOnLabel] = "someone-else" });
        await CreateAsync(session.Client, new() { ["env"] = "prod" });

        var stop = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = db, ["dry_run"] = true }, cancellationToken: TestContext.Current.CancellationToken);
        var stopApp = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = app, ["dry_run"] = true }, cancellationToken: TestContext.Current.CancellationToken);

        var dependents = stop.StructuredContent!.Value.GetProperty("simulations")[0].GetProperty("blast_radius").GetProperty("dependents");
        var dependent = Assert.Single(dependents.EnumerateArray()).GetString()!;
        Assert.Contains(app, dependent, StringComparison.Ordinal);
        Assert.Contains("1 runtime(s) depend on it", stop.StructuredContent!.Value.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(0, stopApp.StructuredContent!.Value.GetProperty("simulations")[0].GetProperty("blast_radius").GetProperty("dependents").GetArrayLength());
    }

    [Fact]
    public async Task GatedCall_OnARuntimePastTheFirst10000_IsJudgedNotRefusedAsNotFound()
    {
        // A gated call reads its targets, not the fleet: the plan stage used to read the first 10,000
        // runtimes by id on every gated call and refuse any target past them as "not found".
        var dataDir = TestPaths.NewDataDir();
        using (var db = SqliteDatabase.Open(dataDir))
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db.Path};Pooling=False"))
        {
            connection.Open();
            using var tx = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO runtimes (id, name, type, state, created_at, doc) VALUES ($id, $name, 'vm', 'running', $ts, $doc)";
            var id = insert.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Text);
            var name = insert.Parameters.Add("$name", Microsoft.Data.Sqlite.SqliteType.Text);
            var ts = insert.Parameters.Add("$ts", Microsoft.Data.Sqlite.SqliteType.Text);
            var doc = insert.Parameters.Add("$doc", Microsoft.Data.Sqlite.SqliteType.Text);
            for (var i = 0; i < 10_000; i++)
            {
                // Ids that sort before every generated one ("rt_0" then the time, which starts "01").
                var runtime = new RuntimeAI.Core.Runtimes.Runtime
                {
                    Id = $"rt_0000_{i:D6}", Name = $"fleet-{i}", Type = RuntimeAI.Core.Runtimes.RuntimeType.Vm, State = RuntimeAI.Core.Runtimes.RuntimeState.Running,
                    Spec = new RuntimeAI.Core.Runtimes.RuntimeSpec { Size = "small" }, CreatedAt = DateTimeOffset.UnixEpoch,
                };
                (id.Value, name.Value, ts.Value) = (runtime.Id, runtime.Name, "1970-01-01T00:00:00.0000000+00:00");
                doc.Value = JsonSerializer.Serialize(runtime, RuntimeAI.Core.Common.CoreJsonContext.Default.Runtime);
                insert.ExecuteNonQuery();
            }

            tx.Commit();
        }

        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var target = await CreateAsync(session.Client);
        var result = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = target, ["dry_run"] = true }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(string.CompareOrdinal(target, "rt_0000_009999") > 0, target);
        Assert.True(result.IsError != true, Text(result));
        Assert.Equal("would run", result.StructuredContent!.Value.GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task DenyRule_IsAbsoluteEvenAtAutonomous_AndNamesTheRule()
    {
        var policies = NoDeletes();
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous, policies);
        var id = await CreateAsync(session.Client);

        var result = await session.Client.CallToolAsync("delete_runtime", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("denied by policy", Text(result), StringComparison.Ordinal);
        Assert.Contains("deny-delete", Text(result), StringComparison.Ordinal);
        Assert.Equal("running", await StateAsync(session.Client, id));
    }

    [Fact]
    public async Task Audit_JudgedCallsAreOneWrite_ExecutesAreOnRecordBeforeTheyRun()
    {
        var policies = NoDeletes();
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous, policies);
        var id = await CreateAsync(session.Client);
        var log = Assert.IsAssignableFrom<GroupCommitAuditLog>(session.Services.GetService(typeof(IAuditLog)));

        // Calls one after another: each audit batch holds the writes of one call.
        async Task<(long Writes, CallToolResult Result)> CallAsync(string tool, Dictionary<string, object?> args)
        {
            var before = log.BatchesCommitted;
            var result = await session.Client.CallToolAsync(tool, args, cancellationToken: TestContext.Current.CancellationToken);
            return (log.BatchesCommitted - before, result);
        }

        var dryRun = await CallAsync("restart_runtime", new() { ["runtime_id"] = id, ["dry_run"] = true });
        var denied = await CallAsync("delete_runtime", new() { ["runtime_id"] = id });
        var blocked = await CallAsync("start_runtime", new() { ["runtime_id"] = id });
        var executed = await CallAsync("restart_runtime", new() { ["runtime_id"] = id });

        Assert.True(dryRun.Result.StructuredContent!.Value.GetProperty("dry_run").GetBoolean());
        Assert.Contains("denied by policy", Text(denied.Result), StringComparison.Ordinal);
        Assert.Contains("blocked by safety", Text(blocked.Result), StringComparison.Ordinal);
        Assert.NotEqual(true, executed.Result.IsError);
        // Judged and answered before anything could change: one record at the end.
        Assert.Equal(1, dryRun.Writes);
        Assert.Equal(1, denied.Writes);
        Assert.Equal(1, blocked.Writes);
        // Executed: in flight before it ran, then the record.
        Assert.Equal(2, executed.Writes);
        var trail = await log.QueryAsync(new AuditQuery { RuntimeId = id, PageSize = 10 }, TestContext.Current.CancellationToken);
        Assert.Equal(["ok", "dry_run", "refused", "refused", "ok"], trail.Select(r => r.End.Outcome));
    }

    [Fact]
    public async Task InvalidTransition_IsBlockedBySafety()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous);
        var id = await CreateAsync(session.Client);

        var result = await session.Client.CallToolAsync("start_runtime", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("blocked by safety", Text(result), StringComparison.Ordinal);
        Assert.Contains("it is running", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HighAvailabilityRuntime_DisruptionNeedsApprovalEvenAtAutonomous()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous);
        var id = await CreateAsync(session.Client, new() { ["availability"] = "high" });

        var stop = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);
        var snapshot = await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "s1" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("pending_approval", stop.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Contains("high-availability", Text(stop), StringComparison.Ordinal);
        Assert.Equal("succeeded", snapshot.StructuredContent!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Guardian_AllowListedActionRuns_OthersNeedApproval()
    {
        var policies = TestPolicies.With("""
            id: guardian-allow
            name: Guardian allow-list
            rules:
              - id: allow-safe
                kind: allow_action
                selector:
                  action_types: [snapshot, create]
            """);
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Guardian, policies);
        var id = await CreateAsync(session.Client);

        var snapshot = await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "g1" }, cancellationToken: TestContext.Current.CancellationToken);
        var scale = await session.Client.CallToolAsync("scale_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["size"] = "micro" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("succeeded", snapshot.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Equal("pending_approval", scale.StructuredContent!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task SimulateAndCheckPolicy_AnswerWithoutChanging()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Copilot);
        // The sandbox's own 'test' domain is imported at start: simulate against it.
        var list = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
        var id = list.StructuredContent!.Value.GetProperty("items").EnumerateArray().First().GetProperty("id").GetString()!;

        var simulated = await session.Client.CallToolAsync("simulate_action", new Dictionary<string, object?>
        {
            ["runtime_id"] = id, ["action"] = new Dictionary<string, object?> { ["type"] = "scale", ["params"] = new Dictionary<string, object?> { ["size"] = "large" } },
        }, cancellationToken: TestContext.Current.CancellationToken);
        var checkedPolicy = await session.Client.CallToolAsync("check_policy", new Dictionary<string, object?>
        {
            ["runtime_id"] = id, ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot" }, new Dictionary<string, object?> { ["type"] = "delete" } },
        }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("would need a human approval", simulated.StructuredContent!.Value.GetProperty("verdict").GetString());
        Assert.Equal("require_approval", simulated.StructuredContent!.Value.GetProperty("decision").GetProperty("effect").GetString());
        Assert.Equal(2, checkedPolicy.StructuredContent!.Value.GetProperty("simulations").GetArrayLength());
        Assert.False(checkedPolicy.StructuredContent!.Value.GetProperty("simulations")[1].GetProperty("reversible").GetBoolean());
    }

    [Fact]
    public async Task CheckPolicy_SequenceOfActions_EachJudgedFromThePreviousState()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous);
        var id = await CreateAsync(session.Client);

        var result = await session.Client.CallToolAsync("check_policy", new Dictionary<string, object?>
        {
            ["runtime_id"] = id,
            ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "stop" }, new Dictionary<string, object?> { ["type"] = "start" }, new Dictionary<string, object?> { ["type"] = "start" } },
        }, cancellationToken: TestContext.Current.CancellationToken);

        var simulations = result.StructuredContent!.Value.GetProperty("simulations");
        Assert.False(simulations[0].GetProperty("blocked").GetBoolean());
        Assert.Equal("stopped", simulations[1].GetProperty("from_state").GetString());
        Assert.False(simulations[1].GetProperty("blocked").GetBoolean());
        Assert.True(simulations[2].GetProperty("blocked").GetBoolean());
        Assert.Equal("would be blocked by safety", result.StructuredContent!.Value.GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task BudgetGuardrail_MutationsPerWindow_DeniesOnceSpentAndNamesTheRule()
    {
        var policies = TestPolicies.With("""
            policies:
              - id: allow
                name: allow
                rules:
                  - id: allow-all
                    kind: allow_action
              - id: budget
                name: Two mutations an hour
                rules:
                  - id: two-per-hour
                    kind: budget_guardrail
                    params:
                      max_mutations_per_window: 2
                      window: 1h
            """);
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Autonomous, policies);
        var id = await CreateAsync(session.Client);

        var second = await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "b1" }, cancellationToken: TestContext.Current.CancellationToken);
        var third = await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "b2" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(second.IsError != true, Text(second));
        Assert.True(third.IsError);
        Assert.Contains("two-per-hour", Text(third), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DraftRecommendation_IsStoredForHumans()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Advisor);

        var draft = await session.Client.CallToolAsync("draft_recommendation", new Dictionary<string, object?>
        {
            ["title"] = "Scale web tier before the sale", ["severity"] = "warning", ["reasoning"] = "cpu_usage above 85% for an hour",
            ["proposed_actions"] = new[] { new Dictionary<string, object?> { ["type"] = "scale", ["params"] = new Dictionary<string, object?> { ["size"] = "large" } } },
        }, cancellationToken: TestContext.Current.CancellationToken);
        var (code, stdout, _) = await ServerProcess.RunAsync("proposals", "--all", "--data-dir", dataDir);

        Assert.Equal("draft", draft.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Equal(0, code);
        Assert.Contains("Scale web tier before the sale", stdout, StringComparison.Ordinal);
        Assert.Contains("cpu_usage above 85%", stdout, StringComparison.Ordinal);
    }
}

/// <summary>Autonomy per scope: a label selector narrows (or widens) the global level.</summary>
public sealed class AutonomyScopeTests
{
    [Fact]
    public async Task ProdScopeAtCopilot_ProdNeedsApproval_DevRunsAutonomously()
    {
        var options = new RuntimeAiServerOptions
        {
            DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = TestPolicies.AllowAll(),
        };
        options.AutonomyScopes.Add(new RuntimeAI.Core.Governance.AutonomyScope
        {
            Labels = new Dictionary<string, string> { ["env"] = "prod" }, Level = AutonomyLevel.Copilot,
        });
        await using var session = await InProcessSession.StartAsync(options, CancellationToken.None);

        var dev = await session.Client.CallToolAsync("create_runtime", new Dictionary<string, object?>
        {
            ["name"] = "s-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm", ["labels"] = new Dictionary<string, string> { ["env"] = "dev" },
        }, cancellationToken: TestContext.Current.CancellationToken);
        var prod = await session.Client.CallToolAsync("create_runtime", new Dictionary<string, object?>
        {
            ["name"] = "s-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm", ["labels"] = new Dictionary<string, string> { ["env"] = "prod" },
        }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("succeeded", dev.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Equal("pending_approval", prod.StructuredContent!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AdvisorGlobally_DevScopeAutonomous_ExecuteToolsListedAndRunOnlyInScope()
    {
        var options = new RuntimeAiServerOptions { DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Advisor, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() };
        options.AutonomyScopes.Add(new RuntimeAI.Core.Governance.AutonomyScope { Labels = new Dictionary<string, string> { ["env"] = "dev" }, Level = AutonomyLevel.Autonomous });
        await using var session = await InProcessSession.StartAsync(options, CancellationToken.None);

        var tools = await session.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var outside = await session.Client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "s-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm" }, cancellationToken: TestContext.Current.CancellationToken);
        var inside = await session.Client.CallToolAsync("create_runtime", new Dictionary<string, object?>
        {
            ["name"] = "s-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm", ["labels"] = new Dictionary<string, string> { ["env"] = "dev" },
        }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains(tools, t => t.Name == "create_runtime");
        Assert.True(outside.IsError);
        Assert.Contains("advisor", string.Join(' ', outside.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(t => t.Text)), StringComparison.Ordinal);
        Assert.Equal("succeeded", inside.StructuredContent!.Value.GetProperty("status").GetString());
    }
}

/// <summary>Approval asked of the human in the client (MRTR / elicitation) instead of a pending proposal.</summary>
public sealed class ApprovalInClientTests
{
    private static ModelContextProtocol.Client.McpClientHandlers Human(bool approve, List<string> prompts) => new()
    {
        ElicitationHandler = (request, _) =>
        {
            lock (prompts)
            {
                prompts.Add(request!.Message);
            }

            return ValueTask.FromResult(new ElicitResult
            {
                Action = "accept",
                Content = new Dictionary<string, JsonElement> { ["approve"] = JsonSerializer.SerializeToElement(approve) },
            });
        },
    };

    // The sandbox (test:///default) keeps its VMs only while a connection is open: the creating
    // session stays open for the whole test.
    private static async Task<(InProcessSession Creator, string Id)> CreateAsync(string dataDir)
    {
        var creator = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() }, CancellationToken.None);
        var created = await creator.Client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "m-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm" });
        return (creator, created.StructuredContent!.Value.GetProperty("runtime_id").GetString()!);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Copilot_ClientWithElicitation_HumanAnswersInTheClient(bool approve)
    {
        var dataDir = TestPaths.NewDataDir();
        var (creator, id) = await CreateAsync(dataDir);
        await using var _ = creator;
        var prompts = new List<string>();
        await using var session = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = AutonomyLevel.Copilot, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() },
            Human(approve, prompts), CancellationToken.None);

        var result = await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "asked", ["reasoning"] = "before patching" }, cancellationToken: TestContext.Current.CancellationToken);

        var prompt = Assert.Single(prompts);
        Assert.Contains("snapshot_runtime", prompt, StringComparison.Ordinal);
        Assert.Contains("before patching", prompt, StringComparison.Ordinal);
        if (approve)
        {
            Assert.True(result.IsError != true, string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text)));
            Assert.Equal("succeeded", result.StructuredContent!.Value.GetProperty("status").GetString());
        }
        else
        {
            Assert.True(result.IsError);
            Assert.Contains("did not approve", string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text)), StringComparison.Ordinal);
        }

        using var db = SqliteDatabase.Open(dataDir);
        var audit = await new SqliteAuditLog(db, new CanonicalAuditHasher()).QueryAsync(new AuditQuery { Tool = "snapshot_runtime", PageSize = 10 }, CancellationToken.None);
        if (approve)
        {
            Assert.Contains(audit, r => r.End.Outcome == "ok" && r.End.Approver!.StartsWith("human-in-client:", StringComparison.Ordinal));
        }
        else
        {
            Assert.Contains(audit, r => r.End.Outcome == "refused");
        }
    }
}

/// <summary>MRTR over stateless Streamable HTTP (protocol 2026-07-28) against the real executable.</summary>
public sealed class ApprovalOverHttpTests
{
    [Theory]
    [InlineData("2026-07-28")]
    [InlineData("2025-11-25")]
    public async Task Copilot_CreateOverHttp_HumanApprovesInClient_RuntimeIsCreated(string protocol)
    {
        // The client channel is off over HTTP by default; this server allows it for non-destructive changes.
        var dataDir = TestPaths.NewDataDir();
        var config = Path.Combine(dataDir, "config.json");
        await File.WriteAllTextAsync(config, """{"client_approval_transports": ["http"]}""", TestContext.Current.CancellationToken);
        await using var server = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--autonomy", "copilot", "--policies", TestPolicies.AllowAll(), "--config", config);
        var prompts = 0;
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }), new McpClientOptions
            {
                ProtocolVersion = protocol,
                Handlers = new McpClientHandlers
                {
                    ElicitationHandler = (_, _) =>
                    {
                        Interlocked.Increment(ref prompts);
                        return ValueTask.FromResult(new ElicitResult
                        {
                            Action = "accept",
                            Content = new Dictionary<string, JsonElement> { ["approve"] = JsonSerializer.SerializeToElement(true) },
                        });
                    },
                },
            }, cancellationToken: TestContext.Current.CancellationToken);

        var result = await client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "h-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError != true, string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text)));
        Assert.Equal(1, prompts);
        Assert.Equal("succeeded", result.StructuredContent!.Value.GetProperty("status").GetString());
    }
}
