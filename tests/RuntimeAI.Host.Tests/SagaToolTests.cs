using System.Text.Json;
using System.Text.RegularExpressions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Transactional execution (execute_actions, rollback_operation) through the MCP boundary on the
/// sandbox backend (libvirt's in-process test:///default driver): what the client sees, and what
/// the runtime, its snapshots and its events show afterwards.
/// </summary>
public sealed partial class SagaToolTests
{
    private static Task<InProcessSession> StartAsync() =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = AllowAllPolicies(),
        }, CancellationToken.None);

    /// <summary>A policy directory that allows every action, so these tests see the executor, not the policy stage.</summary>
    internal static string AllowAllPolicies()
    {
        var dir = TestPaths.NewDataDir();
        File.WriteAllText(Path.Combine(dir, "allow-all.yaml"), """
            id: saga-tests-allow-all
            name: Allow every action (saga tests)
            rules:
              - id: allow-all
                kind: allow_action
            """);
        return dir;
    }

    internal static async Task<JsonElement> CallOkAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(result.IsError != true, $"{tool} failed: {Text(result)}");
        return result.StructuredContent!.Value;
    }

    internal static async Task<string> CallErrorAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(result.IsError, $"{tool} should have failed: {Text(result)}");
        return Text(result);
    }

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    internal static string UniqueName() => "saga-" + Guid.NewGuid().ToString("N")[..10];

    internal static Dictionary<string, object?> Action(string type, Dictionary<string, object?>? parameters = null)
    {
        var action = new Dictionary<string, object?> { ["type"] = type };
        if (parameters is not null)
        {
            action["params"] = parameters;
        }

        return action;
    }

    private static async Task<(string Id, string Name)> CreateAsync(McpClient client)
    {
        var name = UniqueName();
        var created = await CallOkAsync(client, "create_runtime", new() { ["name"] = name, ["type"] = "vm", ["spec"] = new Dictionary<string, object?> { ["size"] = "nano" } });
        return (created.GetProperty("runtime_id").GetString()!, name);
    }

    private static async Task<List<string>> SnapshotNamesAsync(McpClient client, string id)
    {
        var snapshots = await CallOkAsync(client, "list_snapshots", new() { ["runtime_id"] = id });
        return snapshots.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();
    }

    /// <summary>Saga events of a runtime, oldest first.</summary>
    internal static async Task<List<JsonElement>> SagaEventsAsync(McpClient client, string id)
    {
        var events = await CallOkAsync(client, "get_events", new() { ["runtime_id"] = id, ["type_prefix"] = "saga.", ["page_size"] = 200 });
        return events.GetProperty("items").EnumerateArray().Reverse().ToList();
    }

    private static async Task<(string State, string? Size, long MemoryMiB)> RuntimeAsync(McpClient client, string id)
    {
        var record = await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = id });
        var spec = record.GetProperty("spec");
        var memory = spec.GetProperty("resources").GetProperty("memory").GetString()!;
        return (record.GetProperty("state").GetString()!, spec.TryGetProperty("size", out var s) ? s.GetString() : null,
            long.Parse(memory.Replace("Mi", string.Empty, StringComparison.Ordinal).Replace("Gi", "000", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture));
    }

    internal static string OperationIdIn(string text) => OperationId().Match(text) is { Success: true } m ? m.Value : throw new Xunit.Sdk.XunitException($"no operation id in: {text}");

    [GeneratedRegex("op_[0-9A-HJKMNP-TV-Z]{26}")]
    private static partial Regex OperationId();

    [Fact]
    public async Task ExecuteActions_AllStepsSucceed_OneOperationWithAutoSnapshotBeforeTheRestart()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);

        var result = await CallOkAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = id,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "s1" }),
                Action("scale", new() { ["size"] = "micro" }),
                Action("restart"),
            },
        });

        var op = result.GetProperty("operation_id").GetString()!;
        Assert.Equal("succeeded", result.GetProperty("status").GetString());
        Assert.Equal("execute_actions", result.GetProperty("action").GetString());
        var steps = result.GetProperty("result").GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["snapshot 's1'", "scale to size=micro", $"snapshot 'auto-before-{op}-3'", "restart"],
            steps.Select(s => s.GetProperty("action").GetString()));
        Assert.All(steps, s => Assert.Equal("succeeded", s.GetProperty("status").GetString()));
        Assert.Equal("scale to vcpus=1 memory_mib=512", steps[1].GetProperty("compensation").GetString());
        var (_, size, _) = await RuntimeAsync(client, id);
        var status = await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = id });
        Assert.Equal(("running", "micro"), (status.GetProperty("state").GetString(), size));
        Assert.Contains($"auto-before-{op}-3", await SnapshotNamesAsync(client, id));
        var types = (await SagaEventsAsync(client, id)).Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("saga.started", types[0]);
        Assert.Equal(4, types.Count(t => t == "saga.step_succeeded"));
        Assert.Equal("saga.succeeded", types[^1]);
    }

    [Fact]
    public async Task ExecuteActions_LastStepFails_CompletedStepsCompensatedInReverseAndRuntimeRestored()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);

        var error = await CallErrorAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = id,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "keep-me" }),
                Action("scale", new() { ["size"] = "small" }),
                Action("stop", new() { ["force"] = true }),
                Action("restore", new() { ["snapshot"] = "never-taken" }),
            },
        });

        var op = OperationIdIn(error);
        Assert.Contains("never-taken", error, StringComparison.Ordinal);
        Assert.Contains("compensated in reverse order", error, StringComparison.Ordinal);
        var operation = await CallOkAsync(client, "get_operation", new() { ["operation_id"] = op });
        Assert.Equal("failed", operation.GetProperty("status").GetString());
        var (state, size, memory) = await RuntimeAsync(client, id);
        Assert.Equal(("running", "nano", 512L), (state, size, memory));
        var snapshots = await SnapshotNamesAsync(client, id);
        Assert.DoesNotContain("keep-me", snapshots);
        Assert.DoesNotContain(snapshots, s => s.StartsWith("auto-before-", StringComparison.Ordinal));

        var events = await SagaEventsAsync(client, id);
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "saga.step_failed");
        var compensatedSteps = events.Where(e => e.GetProperty("type").GetString() == "saga.compensated")
            .Select(e => e.GetProperty("data").GetProperty("step").GetInt32()).ToList();
        // Steps: 1 snapshot, 2 scale, 3 auto-snapshot, 4 stop, 5 auto-snapshot, 6 restore (failed).
        Assert.Equal([5, 4, 3, 2, 1], compensatedSteps);
        Assert.Equal("saga.failed", events[^1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task ExecuteActions_CompensationKeepsFailing_OperationStuckWithInstructionsForAHuman()
    {
        Assert.SkipUnless(RuntimeAI.Core.Operations.Failpoints.Compiled,
            "this build has no failpoints; build with -p:RuntimeAiFailpoints=true (Debug builds have them)");
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, name) = await CreateAsync(client);
        // Test hook (inert unless RUNTIMEAI_TEST_HOOKS=1): every compensation on this one runtime fails.
        Environment.SetEnvironmentVariable("RUNTIMEAI_TEST_HOOKS", "1");
        Environment.SetEnvironmentVariable("RUNTIMEAI_TEST_FAIL_COMPENSATION", name);
        string error;
        try
        {
            error = await CallErrorAsync(client, "execute_actions", new()
            {
                ["runtime_id"] = id,
                ["actions"] = new[] { Action("snapshot", new() { ["name"] = "first" }), Action("scale", new() { ["size"] = "micro" }), Action("restore", new() { ["snapshot"] = "never-taken" }) },
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable("RUNTIMEAI_TEST_FAIL_COMPENSATION", null);
        }

        var op = OperationIdIn(error);
        Assert.Contains("STUCK", error, StringComparison.Ordinal);
        Assert.Contains("a human must act", error, StringComparison.Ordinal);
        // The failed undo (step 3, the auto-snapshot) and then, in order, what is still to undo.
        Assert.Contains($"scale_runtime runtime_id={id} vcpus=1 memory_mib=512", error, StringComparison.Ordinal);
        Assert.Contains("delete snapshot 'first'", error, StringComparison.Ordinal);
        var operation = await CallOkAsync(client, "get_operation", new() { ["operation_id"] = op });
        Assert.Equal("stuck", operation.GetProperty("status").GetString());
        var types = (await SagaEventsAsync(client, id)).Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(3, types.Count(t => t == "saga.compensation_retry"));
        Assert.Contains("saga.compensation_failed", types);
        Assert.Equal("saga.stuck", types[^1]);
        // Nothing older than the failed undo was touched: the human still has every snapshot.
        Assert.Contains("first", await SnapshotNamesAsync(client, id));
    }

    [Fact]
    public async Task ExecuteActions_SameKeySamePayload_ReturnsFirstOperationWithoutRunningAgain()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);
        var args = new Dictionary<string, object?>
        {
            ["runtime_id"] = id, ["idempotency_key"] = "retry-1",
            ["actions"] = new[] { Action("snapshot", new() { ["name"] = "once" }), Action("scale", new() { ["vcpus"] = 2, ["memory_mib"] = 1024 }) },
        };

        var first = await CallOkAsync(client, "execute_actions", args);
        var second = await CallOkAsync(client, "execute_actions", args);

        Assert.Equal(first.GetProperty("operation_id").GetString(), second.GetProperty("operation_id").GetString());
        Assert.False(first.GetProperty("replayed").GetBoolean());
        Assert.True(second.GetProperty("replayed").GetBoolean());
        var types = (await SagaEventsAsync(client, id)).Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Single(types, t => t == "saga.started");
    }

    [Fact]
    public async Task ExecuteActions_SameKeyDifferentPayload_ToolErrorNamingTheKey()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);
        await CallOkAsync(client, "execute_actions", new() { ["runtime_id"] = id, ["idempotency_key"] = "k-42", ["actions"] = new[] { Action("snapshot", new() { ["name"] = "a" }) } });

        var error = await CallErrorAsync(client, "execute_actions", new() { ["runtime_id"] = id, ["idempotency_key"] = "k-42", ["actions"] = new[] { Action("snapshot", new() { ["name"] = "b" }) } });

        Assert.Contains("idempotency_key 'k-42'", error, StringComparison.Ordinal);
        Assert.Contains("different request", error, StringComparison.Ordinal);
        Assert.DoesNotContain("b", await SnapshotNamesAsync(client, id));
    }

    [Fact]
    public async Task RollbackOperation_SucceededSaga_UndoneInReverseOnceOnly()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);
        var saga = await CallOkAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = id,
            ["actions"] = new[] { Action("scale", new() { ["size"] = "micro" }), Action("snapshot", new() { ["name"] = "r1" }), Action("stop", new() { ["force"] = true }) },
        });
        var op = saga.GetProperty("operation_id").GetString()!;

        var rollback = await CallOkAsync(client, "rollback_operation", new() { ["operation_id"] = op });
        var again = await CallErrorAsync(client, "rollback_operation", new() { ["operation_id"] = op });

        Assert.Equal("rollback_operation", rollback.GetProperty("action").GetString());
        Assert.NotEqual(op, rollback.GetProperty("operation_id").GetString());
        var (state, size, _) = await RuntimeAsync(client, id);
        Assert.Equal(("running", "nano"), (state, size));
        Assert.Empty(await SnapshotNamesAsync(client, id));
        Assert.Contains("already rolled back", again, StringComparison.Ordinal);
        var original = await CallOkAsync(client, "get_operation", new() { ["operation_id"] = op });
        Assert.Equal(rollback.GetProperty("operation_id").GetString(), original.GetProperty("result").GetProperty("rolled_back_by").GetString());
    }

    [Fact]
    public async Task RollbackOperation_SingleLifecycleOperations_UndoneFromTheirCompensationData()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);
        var scaled = await CallOkAsync(client, "scale_runtime", new() { ["runtime_id"] = id, ["size"] = "small" });
        var restored = await CallOkAsync(client, "snapshot_runtime", new() { ["runtime_id"] = id, ["name"] = "x" });
        var restore = await CallOkAsync(client, "restore_snapshot", new() { ["runtime_id"] = id, ["snapshot"] = "x" });

        await CallOkAsync(client, "rollback_operation", new() { ["operation_id"] = scaled.GetProperty("operation_id").GetString() });
        await CallOkAsync(client, "rollback_operation", new() { ["operation_id"] = restored.GetProperty("operation_id").GetString() });
        var notReversible = await CallErrorAsync(client, "rollback_operation", new() { ["operation_id"] = restore.GetProperty("operation_id").GetString() });

        var (_, size, memory) = await RuntimeAsync(client, id);
        Assert.Equal(("nano", 512L), (size, memory));
        Assert.DoesNotContain("x", await SnapshotNamesAsync(client, id));
        Assert.Contains("did not record what would undo it", notReversible, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteActions_TwoConcurrentOnOneRuntime_StepsNeverInterleave()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);
        Dictionary<string, object?> Args(string tag) => new()
        {
            ["runtime_id"] = id,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = tag }), Action("scale", new() { ["size"] = "micro" }),
                Action("restart"), Action("scale", new() { ["size"] = "nano" }),
            },
        };

        var results = await Task.WhenAll(CallOkAsync(client, "execute_actions", Args("a")), CallOkAsync(client, "execute_actions", Args("b")));

        Assert.All(results, r => Assert.Equal("succeeded", r.GetProperty("status").GetString()));
        var order = (await SagaEventsAsync(client, id)).Select(e => e.GetProperty("data").GetProperty("operation_id").GetString()).ToList();
        var blocks = order.Where((o, i) => i == 0 || order[i - 1] != o).ToList();
        Assert.Equal(2, blocks.Distinct().Count());
        Assert.Equal(2, blocks.Count);
    }

    [Fact]
    public async Task CallMadeWhileASagaRuns_IsJudgedAgainstTheStateTheSagaLeaves()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);
        var actions = Enumerable.Range(0, 12).Select(i => Action("scale", new() { ["size"] = i % 2 == 0 ? "micro" : "nano" }))
            .Append(Action("stop")).ToArray();

        // The saga ends with the runtime stopped; a start sent while it runs is valid for that end
        // state (and would be refused as "it is running" if judged mid-saga).
        var saga = CallOkAsync(client, "execute_actions", new() { ["runtime_id"] = id, ["actions"] = actions });
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await SagaEventsAsync(client, id)).Count == 0 && !saga.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var started = await CallOkAsync(client, "start_runtime", new() { ["runtime_id"] = id });
        await saga;

        Assert.Equal("succeeded", started.GetProperty("status").GetString());
        var all = await CallOkAsync(client, "get_events", new() { ["runtime_id"] = id, ["page_size"] = 200 });
        var types = all.GetProperty("items").EnumerateArray().Reverse().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.True(types.LastIndexOf("lifecycle.started") > types.IndexOf("saga.succeeded"), string.Join(", ", types));
        Assert.Equal("running", (await RuntimeAsync(client, id)).State);
    }

    [Fact]
    public async Task ExecuteActions_SingleActionToolRacingASaga_NeverLandsBetweenItsSteps()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (id, _) = await CreateAsync(client);
        var actions = Enumerable.Range(0, 20).Select(i => Action("scale", new() { ["size"] = i % 2 == 0 ? "micro" : "nano" })).ToArray();

        // Both calls race; whatever the interleaving, the single action must land wholly before the
        // saga or wholly after it, never between its steps (timing decides which, not the verdict).
        var saga = CallOkAsync(client, "execute_actions", new() { ["runtime_id"] = id, ["actions"] = actions });
        var single = CallOkAsync(client, "snapshot_runtime", new() { ["runtime_id"] = id, ["name"] = "mid-saga" });
        await Task.WhenAll(saga, single);

        var all = await CallOkAsync(client, "get_events", new() { ["runtime_id"] = id, ["page_size"] = 200 });
        var types = all.GetProperty("items").EnumerateArray().Reverse().Select(e => e.GetProperty("type").GetString()).ToList();
        var snapshot = types.IndexOf("lifecycle.snapshot_taken");
        Assert.True(snapshot >= 0, string.Join(", ", types));
        Assert.True(snapshot < types.IndexOf("saga.started") || snapshot > types.IndexOf("saga.succeeded"), string.Join(", ", types));
    }
}
