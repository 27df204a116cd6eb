using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Signals;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Signals, analysis and intents through the MCP SDK client on the sandbox (libvirt's in-process
/// test:///default driver and KubeSim, a Kubernetes API simulator): history seeded into the real
/// SQLite store, then plans and intents at each autonomy level, governed like direct calls.
/// </summary>
public sealed class IntentToolTests
{
    private static Task<InProcessSession> StartAsync(string dataDir, AutonomyLevel autonomy, TimeSpan? signalInterval = null, string? policies = null) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = autonomy, Sandbox = true, PoliciesDir = policies ?? TestPolicies.AllowAll(),
            LocalPrincipal = TestPrincipals.Agent, SignalInterval = signalInterval ?? TimeSpan.Zero,
        }, CancellationToken.None);

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static async Task<JsonElement> OkAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError != true, $"{tool} failed: {Text(result)}");
        return result.StructuredContent!.Value;
    }

    private static async Task<string> CreateVmAsync(McpClient client, Dictionary<string, string>? labels = null, string size = "small")
    {
        var created = await OkAsync(client, "create_runtime", new()
        {
            ["name"] = "i-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm", ["labels"] = labels ?? new(),
            ["spec"] = new Dictionary<string, object?> { ["size"] = size },
        });
        return created.GetProperty("runtime_id").GetString()!;
    }

    /// <summary>Writes a series into the store the collector writes to: one point a minute, ending now.</summary>
    private static async Task SeedAsync(string dataDir, string runtimeId, string metric, int minutes, Func<int, double> value)
    {
        using var db = SqliteDatabase.Open(dataDir);
        var now = TimeProvider.System.GetUtcNow();
        await new SqliteSignalStore(db).AppendAsync(
            [.. Enumerable.Range(0, minutes).Select(i => new SignalSample(runtimeId, metric, now.AddMinutes(i - minutes), value(i)))], CancellationToken.None);
    }

    private static async Task<string> StateAsync(McpClient client, string id) =>
        (await OkAsync(client, "get_runtime_status", new() { ["runtime_id"] = id })).GetProperty("state").GetString()!;

    [Fact]
    public async Task PlanActions_IdleVm_StopCitingStoredSamples_ExpectedEffect_NothingChanges()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateVmAsync(session.Client, size: "large");
        await SeedAsync(dataDir, id, SignalNames.CpuUsage, 30, i => 1 + i % 3 * 0.5);

        var plan = await OkAsync(session.Client, "plan_actions", new() { ["runtime_id"] = id, ["goal"] = "reduce cost", ["policy_mode"] = "balanced" });

        Assert.Equal("planned", plan.GetProperty("status").GetString());
        var action = Assert.Single(plan.GetProperty("actions").EnumerateArray());
        Assert.Equal("stop", action.GetProperty("type").GetString());
        Assert.Equal(id, action.GetProperty("runtime_id").GetString());
        var evidence = plan.GetProperty("steps")[0].GetProperty("evidence").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(evidence, e => e.StartsWith("cpu_usage: 30 points, mean 1.5", StringComparison.Ordinal));
        var effect = plan.GetProperty("expected_effect");
        Assert.Equal(2, effect.GetProperty("vcpus_freed").GetDouble());
        Assert.Equal(8192, effect.GetProperty("memory_mib_freed").GetDouble());
        Assert.True(effect.GetProperty("cost_delta_monthly").GetDouble() < 0);
        Assert.Equal("conclusion", plan.GetProperty("explanation_trace").EnumerateArray().Last().GetProperty("step").GetString());
        Assert.Equal("running", await StateAsync(session.Client, id));
    }

    [Fact]
    public async Task PlanActions_NoHistoryOrAGoalNobodyServes_InconclusiveSayingWhatIsMissing()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateVmAsync(session.Client);

        var weak = await OkAsync(session.Client, "plan_actions", new() { ["runtime_id"] = id, ["goal"] = "reduce_cost" });
        var unserved = await OkAsync(session.Client, "plan_actions", new() { ["runtime_id"] = id, ["goal"] = "write a poem about clouds" });

        Assert.Equal("inconclusive", weak.GetProperty("status").GetString());
        Assert.Contains("cpu_usage has 0 point(s)", weak.GetProperty("missing")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, weak.GetProperty("actions").GetArrayLength());
        Assert.Equal("inconclusive", unserved.GetProperty("status").GetString());
        Assert.Contains("names nothing the planner serves", unserved.GetProperty("missing")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitIntent_Advisor_StopsAtPlanned_NothingRuns_GetIntentShowsThePlan()
    {
        var dataDir = TestPaths.NewDataDir();
        // Created through a session at autonomous that stays open (the sandbox hypervisor lives in this process).
        await using var setup = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateVmAsync(setup.Client);

        await SeedAsync(dataDir, id, SignalNames.CpuUsage, 20, _ => 0.5);
        await using var advisor = await StartAsync(dataDir, AutonomyLevel.Advisor);

        var intent = await OkAsync(advisor.Client, "submit_intent", new() { ["runtime_id"] = id, ["goal"] = "reduce cost while keeping latency < 50ms", ["policy_mode"] = "balanced" });
        Assert.True(intent.GetProperty("status").GetString() == "planned", intent.GetRawText());

        Assert.Equal("planned", intent.GetProperty("status").GetString());
        Assert.Equal("stop", Assert.Single(intent.GetProperty("planned_actions").EnumerateArray()).GetProperty("type").GetString());
        Assert.False(intent.TryGetProperty("operation_id", out _));
        Assert.Equal("running", await StateAsync(advisor.Client, id));
        var record = await OkAsync(advisor.Client, "get_intent", new() { ["intent_id"] = intent.GetProperty("intent_id").GetString() });
        Assert.Equal("planned", record.GetProperty("status").GetString());
        var trace = record.GetProperty("plan").GetProperty("explanation_trace").EnumerateArray().Select(t => t.GetProperty("detail").GetString()!).ToList();
        Assert.Contains(trace, t => t.Contains("latency_ms < 50", StringComparison.Ordinal));
        Assert.Contains("advisor", record.GetProperty("result").GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitIntent_Copilot_WholePlanIsOneProposal_ApprovedThenRunsOnce()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var setup = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateVmAsync(setup.Client, new() { ["availability"] = "high" }, "medium");

        await SeedAsync(dataDir, id, SignalNames.CpuUsage, 20, _ => 0.8);
        await using var copilot = await StartAsync(dataDir, AutonomyLevel.Copilot);

        var intent = await OkAsync(copilot.Client, "submit_intent", new() { ["runtime_id"] = id, ["goal"] = "reduce_cost", ["policy_mode"] = "balanced" });

        Assert.Equal("pending_approval", intent.GetProperty("status").GetString());
        var types = intent.GetProperty("planned_actions").EnumerateArray().Select(a => a.GetProperty("type").GetString()).ToList();
        Assert.Equal(["snapshot", "scale"], types);
        var proposalId = intent.GetProperty("proposal_id").GetString()!;
        var proposal = await OkAsync(copilot.Client, "get_proposal", new() { ["proposal_id"] = proposalId });
        Assert.Equal("execute_actions", proposal.GetProperty("tool").GetString());
        Assert.Equal(2, proposal.GetProperty("actions").GetArrayLength());

        var (code, _, stderr) = await ServerProcess.RunAsync("approve", proposalId, "--reason", "shrink ok", "--data-dir", dataDir);
        Assert.True(code == 0, stderr);
        var intentId = intent.GetProperty("intent_id").GetString()!;
        var done = await OkAsync(copilot.Client, "submit_intent", new() { ["intent_id"] = intentId, ["proposal_id"] = proposalId });

        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        var runtime = await OkAsync(copilot.Client, "get_runtime", new() { ["runtime_id"] = id });
        Assert.Equal("small", runtime.GetProperty("spec").GetProperty("size").GetString());
        var again = await copilot.Client.CallToolAsync("submit_intent", new Dictionary<string, object?> { ["intent_id"] = intentId, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(again.IsError);
    }

    [Fact]
    public async Task SubmitIntent_Autonomous_RunsOneSaga_AuditedWithTheIntent()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateVmAsync(session.Client);
        await SeedAsync(dataDir, id, SignalNames.CpuUsage, 20, _ => 0.2);

        var intent = await OkAsync(session.Client, "submit_intent", new() { ["runtime_id"] = id, ["goal"] = "cut our spend", ["policy_mode"] = "aggressive" });

        Assert.Equal("succeeded", intent.GetProperty("status").GetString());
        var op = intent.GetProperty("operation_id").GetString()!;
        var operation = await OkAsync(session.Client, "get_operation", new() { ["operation_id"] = op });
        Assert.Equal("execute_actions", operation.GetProperty("action").GetString());
        Assert.Equal("succeeded", operation.GetProperty("status").GetString());
        Assert.Equal("stopped", await StateAsync(session.Client, id));
        var record = await OkAsync(session.Client, "get_intent", new() { ["intent_id"] = intent.GetProperty("intent_id").GetString() });
        Assert.Equal("stop", record.GetProperty("result").GetProperty("executed_actions")[0].GetProperty("action").GetProperty("type").GetString());
        var audit = await OkAsync(session.Client, "get_audit_trail", new() { ["tool"] = "execute_actions" });
        // The plan ran as an execute_actions call with its own audit record, like a direct call.
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), r => r.GetProperty("operation_id").GetString() == op && r.GetProperty("outcome").GetString() == "ok");
    }

    [Fact]
    public async Task SubmitIntent_Autonomous_DenyRuleDropsTheStep_NothingRuns()
    {
        var dataDir = TestPaths.NewDataDir();
        var policies = TestPolicies.With("""
            id: no-stop
            name: Never stop
            rules:
              - id: deny-stop
                kind: deny_action
                selector: {action_types: [stop]}
              - id: allow-rest
                kind: allow_action
            """);
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous, policies: policies);
        var id = await CreateVmAsync(session.Client);
        await SeedAsync(dataDir, id, SignalNames.CpuUsage, 20, _ => 0.2);

        var intent = await OkAsync(session.Client, "submit_intent", new() { ["runtime_id"] = id, ["goal"] = "reduce_cost", ["policy_mode"] = "aggressive" });

        Assert.NotEqual("succeeded", intent.GetProperty("status").GetString() == "succeeded" && intent.GetProperty("planned_actions").GetArrayLength() > 0 ? "succeeded" : "x");
        Assert.DoesNotContain(intent.GetProperty("planned_actions").EnumerateArray(), a => a.GetProperty("type").GetString() == "stop");
        Assert.Contains(intent.GetProperty("plan").GetProperty("explanation_trace").EnumerateArray(),
            t => t.GetProperty("detail").GetString()!.Contains("deny-stop", StringComparison.Ordinal));
        Assert.Equal("running", await StateAsync(session.Client, id));
    }

    [Fact]
    public async Task Analyse_SeededRampSpikeAndCrashLoop_ForecastAnomaliesAndEvidence()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var id = await CreateVmAsync(session.Client);
        // Memory climbs 0.5 %/min from 40 %: 100 % in about 120 minutes from the start, 60 from now.
        await SeedAsync(dataDir, id, SignalNames.MemoryUsage, 60, i => 40 + 0.5 * i);
        // CPU: two days of a quiet 10 ± 1 %, then a spike to 90 % a few minutes ago.
        await SeedAsync(dataDir, id, SignalNames.CpuUsage, 60 * 47, i => i == 60 * 47 - 5 ? 90 : 10 + (i % 3 - 1));
        await SeedAsync(dataDir, id, SignalNames.Up, 20, i => i % 4 < 2 ? 1 : 0);

        var forecast = await OkAsync(session.Client, "forecast_capacity", new() { ["runtime_id"] = id, ["metric"] = "memory_usage" });
        var anomalies = await OkAsync(session.Client, "detect_anomalies", new() { ["runtime_id"] = id, ["window"] = "30m" });
        var metrics = await OkAsync(session.Client, "get_metrics", new() { ["runtime_id"] = id, ["metrics"] = new[] { "memory_usage" }, ["window"] = "2h", ["step"] = "1m" });

        Assert.Equal("ok", forecast.GetProperty("status").GetString());
        Assert.True(forecast.GetProperty("warning").GetBoolean());
        var minutes = (DateTimeOffset.Parse(forecast.GetProperty("exhaustion_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture) - TimeProvider.System.GetUtcNow()).TotalMinutes;
        Assert.InRange(minutes, 50, 70);
        var kinds = anomalies.GetProperty("items").EnumerateArray().Select(a => (a.GetProperty("kind").GetString(), a.GetProperty("metric").GetString())).ToList();
        Assert.Contains(("flapping", "up"), kinds);
        Assert.Contains(("deviation", "cpu_usage"), kinds);
        Assert.Single(kinds, k => k == ("deviation", "cpu_usage"));
        var spike = anomalies.GetProperty("items").EnumerateArray().First(a => a.GetProperty("metric").GetString() == "cpu_usage");
        Assert.StartsWith("cpu_usage=90 at ", spike.GetProperty("evidence")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(60, metrics.GetProperty("metrics").GetProperty("memory_usage").GetProperty("count").GetInt32());
        Assert.Equal("history", metrics.GetProperty("source").GetString());
    }

    [Fact]
    public async Task SubmitIntent_Autonomous_SecondRuntimeFails_SagaCompensatesTheFirst()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous);
        var team = new Dictionary<string, string> { ["team"] = "t-" + Guid.NewGuid().ToString("N")[..6] };
        var id = await CreateVmAsync(session.Client, team);
        // A second runtime the inventory records as running but no backend holds: its step fails.
        var ghost = (await InventorySeed.AddRuntimesAsync(dataDir, 1, _ => team))[0].Id;
        await SeedAsync(dataDir, id, SignalNames.CpuUsage, 20, _ => 0.2);
        await SeedAsync(dataDir, ghost, SignalNames.CpuUsage, 20, _ => 0.2);

        var result = await session.Client.CallToolAsync("submit_intent", new Dictionary<string, object?>
        {
            ["selector"] = team, ["goal"] = "reduce_cost", ["policy_mode"] = "balanced",
        }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError != true, Text(result));
        var intent = result.StructuredContent!.Value;
        Assert.Equal(2, intent.GetProperty("planned_actions").GetArrayLength());
        Assert.Equal("failed", intent.GetProperty("status").GetString());
        Assert.Equal("running", await StateAsync(session.Client, id));
        var record = await OkAsync(session.Client, "get_intent", new() { ["intent_id"] = intent.GetProperty("intent_id").GetString() });
        Assert.Equal("failed", record.GetProperty("status").GetString());
        Assert.NotNull(record.GetProperty("finished_at").GetString());
        Assert.Contains("compensated", record.GetProperty("result").GetProperty("summary").GetString(), StringComparison.Ordinal);
        var operation = await OkAsync(session.Client, "get_operation", new() { ["operation_id"] = record.GetProperty("operation_id").GetString() });
        Assert.Equal("failed", operation.GetProperty("status").GetString());
        // The first runtime was stopped by the saga, then started again by its compensation.
        var events = await OkAsync(session.Client, "get_events", new() { ["runtime_id"] = id, ["type_prefix"] = "saga.", ["page_size"] = 100 });
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("type").GetString()!.Contains("compensat", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Collector_SamplesTheSandboxRuntimes_GetMetricsReadsTheHistory()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, AutonomyLevel.Autonomous, TimeSpan.FromMilliseconds(200));
        var id = await CreateVmAsync(session.Client);
        var vclusters = await OkAsync(session.Client, "list_runtimes", new() { ["type"] = "vcluster" });
        var vcluster = vclusters.GetProperty("items").EnumerateArray().First(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString()!;

        JsonElement vm = default, vc = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            vm = await OkAsync(session.Client, "get_metrics", new() { ["runtime_id"] = id, ["metrics"] = new[] { "up", "vcpus", "cpu_usage" }, ["window"] = "10m", ["step"] = "raw" });
            vc = await OkAsync(session.Client, "get_metrics", new() { ["runtime_id"] = vcluster, ["metrics"] = new[] { "up" }, ["window"] = "10m", ["step"] = "raw" });
            if (vm.GetProperty("metrics").GetProperty("up").GetProperty("count").GetInt32() >= 3 && vc.GetProperty("metrics").GetProperty("up").GetProperty("count").GetInt32() >= 2)
            {
                break;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        var m = vm.GetProperty("metrics");
        Assert.True(m.GetProperty("up").GetProperty("count").GetInt32() >= 3, m.GetRawText());
        Assert.Equal(1, m.GetProperty("up").GetProperty("min").GetDouble());
        Assert.Equal(1, m.GetProperty("vcpus").GetProperty("max").GetDouble());
        Assert.True(vc.GetProperty("metrics").GetProperty("up").GetProperty("count").GetInt32() >= 2, vc.GetRawText());
    }
}
