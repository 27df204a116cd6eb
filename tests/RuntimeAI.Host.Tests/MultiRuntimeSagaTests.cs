using System.Text.Json;
using ModelContextProtocol.Client;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;
using static RuntimeAI.Host.Tests.SagaToolTests;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// One saga over several backends, through the MCP boundary on the sandbox: a libvirt VM
/// (test:///default) and a vcluster on KubeSim (our Kubernetes API simulator). Each step runs,
/// is compensated and leaves its events on its own runtime; governance gates every runtime.
/// </summary>
public sealed class MultiRuntimeSagaTests
{
    private static Task<InProcessSession> StartAsync() =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = AllowAllPolicies(),
        }, CancellationToken.None);

    private static async Task<(string Vm, string Vcluster)> RuntimesAsync(McpClient client)
    {
        var created = await CallOkAsync(client, "create_runtime", new() { ["name"] = UniqueName(), ["type"] = "vm", ["spec"] = new Dictionary<string, object?> { ["size"] = "nano" } });
        var vm = created.GetProperty("runtime_id").GetString()!;
        var list = await CallOkAsync(client, "list_runtimes", new() { ["type"] = "vcluster", ["page_size"] = 10 });
        var dev = list.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString()!;
        // The sandbox's vcluster starts with the server; on a loaded machine that can take a while.
        var state = "";
        for (var i = 0; i < 600 && (state = (await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = dev })).GetProperty("state").GetString()) != "running"; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.True(state == "running", $"the sandbox vcluster dev is {state} after 60 s");
        return (vm, dev);
    }

    private static Dictionary<string, object?> On(string runtimeId, Dictionary<string, object?> action)
    {
        action["runtime_id"] = runtimeId;
        return action;
    }

    private static async Task<(string State, string Memory, int Snapshots)> StateAsync(McpClient client, string id)
    {
        var status = await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = id });
        var record = await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = id });
        var snapshots = await CallOkAsync(client, "list_snapshots", new() { ["runtime_id"] = id });
        return (status.GetProperty("state").GetString()!, record.GetProperty("spec").GetProperty("resources").GetProperty("memory").GetString()!,
            snapshots.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task ExecuteActions_VmAndVclusterLastStepFails_BothCompensatedInReverseEachOnItsOwnRuntime()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (vm, dev) = await RuntimesAsync(client);
        var vmBefore = await StateAsync(client, vm);
        var devBefore = await StateAsync(client, dev);

        var error = await CallErrorAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = vm,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "vm-keep" }),
                Action("scale", new() { ["size"] = "small" }),
                On(dev, Action("snapshot", new() { ["name"] = "vc-keep" })),
                On(dev, Action("scale", new() { ["size"] = "small" })),
                On(dev, Action("restore", new() { ["snapshot"] = "never-taken" })),
            },
        });

        foreach (var expected in new[] { " failed (operation ", "compensated in reverse order", "no snapshot 'never-taken'", "every runtime it touched is back where it was" })
        {
            Assert.True(error.Contains(expected, StringComparison.Ordinal), $"expected '{expected}' in: {error}");
        }

        var op = OperationIdIn(error);
        // Steps: 1 vm snapshot, 2 vm scale, 3 vc snapshot, 4 vc scale, 5 vc auto-snapshot, 6 vc restore (failed).
        var vmEvents = await SagaEventsAsync(client, vm);
        var devEvents = await SagaEventsAsync(client, dev);
        static List<JsonElement> Compensated(List<JsonElement> events, string op) =>
            events.Where(e => e.GetProperty("type").GetString() == "saga.compensated" && e.GetProperty("data").GetProperty("operation_id").GetString() == op).ToList();
        var vmUndone = Compensated(vmEvents, op);
        var devUndone = Compensated(devEvents, op);
        Assert.Equal([5, 4, 3], devUndone.Select(e => e.GetProperty("data").GetProperty("step").GetInt32()));
        Assert.Equal([2, 1], vmUndone.Select(e => e.GetProperty("data").GetProperty("step").GetInt32()));
        Assert.All(devUndone, e => Assert.Equal(dev, e.GetProperty("data").GetProperty("runtime_id").GetString()));
        Assert.True(devUndone.Max(e => e.GetProperty("ts").GetDateTimeOffset()) <= vmUndone.Min(e => e.GetProperty("ts").GetDateTimeOffset()),
            "the vcluster's later steps must be undone before the VM's earlier ones");
        Assert.Contains(devEvents, e => e.GetProperty("type").GetString() == "saga.step_failed" && e.GetProperty("data").GetProperty("step").GetInt32() == 6);
        Assert.Contains(vmEvents, e => e.GetProperty("type").GetString() == "saga.failed");
        Assert.Contains(devEvents, e => e.GetProperty("type").GetString() == "saga.failed");
        Assert.Equal(vmBefore, await StateAsync(client, vm));
        Assert.Equal(devBefore, await StateAsync(client, dev));
        var operation = await CallOkAsync(client, "get_operation", new() { ["operation_id"] = op });
        Assert.Equal("failed", operation.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ExecuteActions_TwoSagasOverTheSameRuntimesInOppositeOrder_BothFinish()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (vm, dev) = await RuntimesAsync(client);

        Task<JsonElement> Run(string first, string second, string tag) => CallOkAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = first,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = tag + "-a" }),
                On(second, Action("snapshot", new() { ["name"] = tag + "-b" })),
                Action("snapshot", new() { ["name"] = tag + "-c" }),
            },
        });
        var results = await Task.WhenAll(Enumerable.Range(0, 3).SelectMany(i => new[] { Run(vm, dev, $"x{i}"), Run(dev, vm, $"y{i}") }))
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal("succeeded", r.GetProperty("status").GetString()));
        Assert.Equal(9, (await StateAsync(client, vm)).Snapshots);
        Assert.Equal(9, (await StateAsync(client, dev)).Snapshots);
    }

    [Fact]
    public async Task ExecuteActions_DenyRuleOnTheVclustersLabels_RefusesTheWholeSagaBeforeAnythingRuns()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (vm, dev) = await RuntimesAsync(client);
        var labels = (await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = dev })).GetProperty("labels");
        var ns = labels.GetProperty("namespace").GetString()!;
        await CallOkAsync(client, "put_policy", new()
        {
            ["policy"] = JsonSerializer.Deserialize<JsonElement>(
                """{"id": "freeze-vc", "name": "Freeze the dev vcluster", "rules": [{"id": "deny-dev-scale", "kind": "deny_action", "selector": {"action_types": ["scale"], "labels": {"namespace": "NS"}}}]}"""
                    .Replace("NS", ns, StringComparison.Ordinal)),
        });
        var vmBefore = await StateAsync(client, vm);
        var devBefore = await StateAsync(client, dev);

        var error = await CallErrorAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = vm,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "vm-first" }),
                Action("scale", new() { ["size"] = "small" }),
                On(dev, Action("scale", new() { ["size"] = "small" })),
            },
        });

        Assert.Contains("denied by policy", error, StringComparison.Ordinal);
        Assert.Contains("deny-dev-scale", error, StringComparison.Ordinal);
        Assert.Equal(vmBefore, await StateAsync(client, vm));
        Assert.Equal(devBefore, await StateAsync(client, dev));
        Assert.DoesNotContain(await SagaEventsAsync(client, vm), e => e.GetProperty("type").GetString() == "saga.started");

        // The same saga without the vcluster step is allowed: the rule judged the vcluster, not the VM.
        var ok = await CallOkAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = vm,
            ["actions"] = new[] { Action("snapshot", new() { ["name"] = "vm-first" }), Action("scale", new() { ["size"] = "small" }) },
        });
        Assert.Equal("succeeded", ok.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ExecuteActions_StepOnARuntimeThatDoesNotExist_NotFoundAndNothingRuns()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (vm, _) = await RuntimesAsync(client);
        var before = await StateAsync(client, vm);

        var error = await CallErrorAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = vm,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "vm-first" }),
                On("rt_00000000000000000000000000", Action("start")),
            },
        });

        Assert.Contains("rt_00000000000000000000000000", error, StringComparison.Ordinal);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync(client, vm));
    }

    [Fact]
    public async Task RollbackOperation_OfASagaOverAVmAndAVcluster_UndoesEachStepOnItsOwnRuntime()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (vm, dev) = await RuntimesAsync(client);
        var vmBefore = await StateAsync(client, vm);
        var devBefore = await StateAsync(client, dev);
        var done = await CallOkAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = vm,
            ["actions"] = new[]
            {
                Action("scale", new() { ["size"] = "small" }),
                On(dev, Action("snapshot", new() { ["name"] = "vc-mark" })),
                On(dev, Action("scale", new() { ["size"] = "small" })),
            },
        });
        var op = done.GetProperty("operation_id").GetString()!;
        Assert.Equal(dev, done.GetProperty("result").GetProperty("steps")[1].GetProperty("runtime_id").GetString());
        Assert.NotEqual(vmBefore, await StateAsync(client, vm));
        Assert.NotEqual(devBefore, await StateAsync(client, dev));

        var rollback = await CallOkAsync(client, "rollback_operation", new() { ["operation_id"] = op });

        Assert.Equal("succeeded", rollback.GetProperty("status").GetString());
        Assert.Equal(vmBefore, await StateAsync(client, vm));
        Assert.Equal(devBefore, await StateAsync(client, dev));
        Assert.Contains(await SagaEventsAsync(client, dev), e => e.GetProperty("type").GetString() == "saga.rollback_step_succeeded");
        Assert.Contains(await SagaEventsAsync(client, vm), e => e.GetProperty("type").GetString() == "saga.rollback_step_succeeded");
    }

    [Fact]
    public async Task ExecuteActions_SameKeyWithAStepMovedToAnotherRuntime_IdempotencyConflict()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var (vm, dev) = await RuntimesAsync(client);
        await CallOkAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = vm, ["idempotency_key"] = "two-worlds-1",
            ["actions"] = new[] { Action("snapshot", new() { ["name"] = "k1" }), Action("snapshot", new() { ["name"] = "k2" }) },
        });

        var error = await CallErrorAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = vm, ["idempotency_key"] = "two-worlds-1",
            ["actions"] = new[] { Action("snapshot", new() { ["name"] = "k1" }), On(dev, Action("snapshot", new() { ["name"] = "k2" })) },
        });

        Assert.Contains("two-worlds-1", error, StringComparison.Ordinal);
        Assert.Contains("different request", error, StringComparison.Ordinal);
        Assert.Equal(0, (await StateAsync(client, dev)).Snapshots);
    }

    [Fact]
    public async Task ExecuteActions_StepOnAnotherTenantsRuntime_NotFoundAndNothingRuns()
    {
        var dataDir = TestPaths.NewDataDir();
        var ids = new IdGenerator(TimeProvider.System);
        var (acme, globex) = (ids.New("rt"), ids.New("rt"));
        using (var db = SqliteDatabase.Open(dataDir))
        {
            var inventory = new SqliteRuntimeInventory(db);
            foreach (var (id, tenant) in new[] { (acme, "acme"), (globex, "globex") })
            {
                await inventory.SaveRuntimeAsync(new Runtime
                {
                    Id = id, Name = $"{tenant}-web", Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = tenant,
                    Spec = new RuntimeSpec { Size = "small" }, CreatedAt = TimeProvider.System.GetUtcNow(),
                }, "seed", CancellationToken.None);
            }
        }

        await using var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, PoliciesDir = AllowAllPolicies(),
            LocalPrincipal = new Principal
            {
                Name = "key:acme-bot", Kind = PrincipalKind.Agent, Roles = new HashSet<Role> { Role.Operator }, Tenants = ["acme"],
                AuthenticatedBy = "api_key", Identities = ["key:acme-bot"],
            },
        }, CancellationToken.None);

        var error = await CallErrorAsync(session.Client, "execute_actions", new()
        {
            ["runtime_id"] = acme,
            ["actions"] = new[] { Action("snapshot", new() { ["name"] = "a1" }), On(globex, Action("stop", new() { ["force"] = true })) },
        });

        Assert.Contains($"runtime '{globex}' does not exist", error, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant", error, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await SagaEventsAsync(session.Client, acme));
    }
}
