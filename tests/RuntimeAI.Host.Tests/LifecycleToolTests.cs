using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// The VM lifecycle through the MCP boundary on the sandbox backend (libvirt's in-process
/// test:///default driver): what an agent calls is what the inventory, events and backend show.
/// </summary>
public sealed class LifecycleToolTests
{
    private static Task<InProcessSession> StartAsync(string dataDir, AutonomyLevel autonomy = AutonomyLevel.Autonomous) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = autonomy, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() }, CancellationToken.None);

    private static async Task<JsonElement> CallOkAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(result.IsError != true, $"{tool} failed: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text))}");
        return result.StructuredContent!.Value;
    }

    private static async Task<string> CallErrorAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(result.IsError, $"{tool} should have failed");
        return result.Content.OfType<TextContentBlock>().Single().Text;
    }

    private static string UniqueName() => "t-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task FullLifecycle_CreateToDelete_StateEventsAndOperationsAgree()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir);
        var client = session.Client;

        var created = await CallOkAsync(client, "create_runtime", new()
        {
            ["name"] = UniqueName(), ["type"] = "vm", ["labels"] = new Dictionary<string, string> { ["env"] = "test" },
            ["spec"] = new Dictionary<string, object?> { ["size"] = "nano" },
        });
        Assert.Equal("succeeded", created.GetProperty("status").GetString());
        var id = created.GetProperty("runtime_id").GetString()!;

        var status = await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = id });
        Assert.Equal("running", status.GetProperty("state").GetString());
        Assert.True(status.GetProperty("sandbox").GetBoolean());

        await CallOkAsync(client, "snapshot_runtime", new() { ["runtime_id"] = id, ["name"] = "before-scale" });
        var snapshots = await CallOkAsync(client, "list_snapshots", new() { ["runtime_id"] = id });
        Assert.Contains(snapshots.GetProperty("items").EnumerateArray(), s => s.GetProperty("name").GetString() == "before-scale");

        var scaled = await CallOkAsync(client, "scale_runtime", new() { ["runtime_id"] = id, ["size"] = "micro" });
        Assert.Equal(1024, scaled.GetProperty("result").GetProperty("size").GetProperty("memory_mib").GetInt64());
        Assert.Equal(512, scaled.GetProperty("result").GetProperty("previous_size").GetProperty("memory_mib").GetInt64());

        var stopped = await CallOkAsync(client, "stop_runtime", new() { ["runtime_id"] = id, ["force"] = true });
        Assert.Equal("running", stopped.GetProperty("result").GetProperty("previous_state").GetString());
        var record = await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = id });
        Assert.Equal("stopped", record.GetProperty("state").GetString());
        Assert.Equal("micro", record.GetProperty("spec").GetProperty("size").GetString());

        await CallOkAsync(client, "start_runtime", new() { ["runtime_id"] = id });
        await CallOkAsync(client, "restore_snapshot", new() { ["runtime_id"] = id, ["snapshot"] = "before-scale" });

        var operation = await CallOkAsync(client, "get_operation", new() { ["operation_id"] = created.GetProperty("operation_id").GetString() });
        Assert.Equal("create", operation.GetProperty("action").GetString());

        await CallOkAsync(client, "delete_runtime", new() { ["runtime_id"] = id });
        record = await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = id });
        Assert.Equal("deleted", record.GetProperty("state").GetString());

        var events = await CallOkAsync(client, "get_events", new() { ["runtime_id"] = id, ["type_prefix"] = "lifecycle.", ["page_size"] = 50 });
        var types = events.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        foreach (var expected in new[] { "lifecycle.created", "lifecycle.snapshot_taken", "lifecycle.scaled", "lifecycle.stopped", "lifecycle.started", "lifecycle.restored", "lifecycle.deleted" })
        {
            Assert.Contains(expected, types);
        }
    }

    [Fact]
    public async Task Advisor_ExecuteToolsHiddenAndRefusedWithAlternatives()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), AutonomyLevel.Advisor);

        var tools = await session.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var refusal = await CallErrorAsync(session.Client, "create_runtime", new() { ["name"] = UniqueName(), ["type"] = "vm" });

        Assert.DoesNotContain(tools, t => t.Name is "create_runtime" or "stop_runtime" or "delete_runtime");
        Assert.Contains(tools, t => t.Name == "get_runtime_status");
        Assert.Contains("advisor", refusal, StringComparison.Ordinal);
        Assert.Contains("--autonomy", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadRequests_AreToolErrorsNamingTheCause()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());
        var client = session.Client;
        var created = await CallOkAsync(client, "create_runtime", new() { ["name"] = UniqueName(), ["type"] = "vm" });
        var id = created.GetProperty("runtime_id").GetString()!;
        await CallOkAsync(client, "stop_runtime", new() { ["runtime_id"] = id, ["force"] = true });

        var unknown = await CallErrorAsync(client, "start_runtime", new() { ["runtime_id"] = "rt_01ARZ3NDEKTSV4RRFFQ69G5FAV" });
        var stopTwice = await CallErrorAsync(client, "stop_runtime", new() { ["runtime_id"] = id });
        var noSnapshot = await CallErrorAsync(client, "restore_snapshot", new() { ["runtime_id"] = id, ["snapshot"] = "never-taken" });
        var noVcluster = await CallErrorAsync(client, "create_runtime", new() { ["name"] = UniqueName(), ["type"] = "vcluster", ["backend"] = "vcluster:nowhere" });
        var tooBig = await CallErrorAsync(client, "scale_runtime", new() { ["runtime_id"] = id, ["memory_mib"] = 262144, ["vcpus"] = 64 });

        Assert.Contains("rt_01ARZ3NDEKTSV4RRFFQ69G5FAV", unknown, StringComparison.Ordinal);
        Assert.Contains("stop", stopTwice, StringComparison.Ordinal);
        Assert.Contains("never-taken", noSnapshot, StringComparison.Ordinal);
        Assert.Contains("backend 'vcluster:nowhere' does not serve runtimes of type 'vcluster'; use one of: vcluster:kubesim", noVcluster, StringComparison.Ordinal);
        Assert.NotEmpty(tooBig);
        var status = await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = id });
        Assert.Equal("stopped", status.GetProperty("state").GetString());
    }

    [Fact]
    public async Task RestartsBackToBack_TheRecordFollowsTheDomainNotLateEvents()
    {
        // libvirt delivers a restart's "stopped" event after the restart has returned; recorded as
        // state, it left a running VM "stopped" in the inventory and refused the next restart.
        const int Restarts = 8;
        await using var session = await StartAsync(TestPaths.NewDataDir());
        var client = session.Client;
        var id = (await CallOkAsync(client, "create_runtime", new() { ["name"] = UniqueName(), ["type"] = "vm" })).GetProperty("runtime_id").GetString()!;

        for (var i = 0; i < Restarts; i++)
        {
            var restarted = await CallOkAsync(client, "restart_runtime", new() { ["runtime_id"] = id });
            Assert.Equal("succeeded", restarted.GetProperty("status").GetString());
        }

        // Wait until the backend's events of the restarts are recorded, then read the record (the
        // create's own may come before its record exists, and is then not kept).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var started = 0;
        while (DateTime.UtcNow < deadline)
        {
            var events = await CallOkAsync(client, "get_events", new() { ["runtime_id"] = id, ["type_prefix"] = "backend.lifecycle.started", ["page_size"] = 50 });
            started = events.GetProperty("items").GetArrayLength();
            if (started >= Restarts)
            {
                break;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.InRange(started, Restarts, Restarts + 1);
        var record = await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = id });
        Assert.Equal("running", record.GetProperty("state").GetString());
        await CallOkAsync(client, "restart_runtime", new() { ["runtime_id"] = id });
    }

    [Fact]
    public async Task GetMetrics_RunningVm_ReportsCpuUsagePercent()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());
        var created = await CallOkAsync(session.Client, "create_runtime", new() { ["name"] = UniqueName(), ["type"] = "vm" });

        var metrics = await CallOkAsync(session.Client, "get_metrics", new()
        {
            ["runtime_id"] = created.GetProperty("runtime_id").GetString(), ["window_seconds"] = 1, ["metrics"] = new[] { "cpu_usage" },
        });

        var cpu = metrics.GetProperty("metrics").GetProperty("cpu_usage");
        Assert.Equal("percent", cpu.GetProperty("unit").GetString());
        Assert.InRange(cpu.GetProperty("value").GetDouble(), 0, 100);
    }
}

/// <summary>Runtimes whose backend no longer has them are reported, not left failing every call.</summary>
public sealed class VanishedRuntimeTests
{
    [Fact]
    public async Task SandboxRestartedEmpty_RuntimeMarkedErrorWithEvent_DeleteRemovesTheRecord()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await InventorySeed.AddRuntimesAsync(dataDir, 1);
        using (var db = RuntimeAI.Storage.Sqlite.SqliteDatabase.Open(dataDir))
        {
            // A runtime recorded on the sandbox backend whose VM no longer exists there.
            await new RuntimeAI.Storage.Sqlite.SqliteRuntimeInventory(db).SaveRuntimeAsync(seeded[0] with
            {
                Backend = new RuntimeAI.Core.Runtimes.RuntimeBackendRef(RuntimeAI.Core.Runtimes.BackendKind.VmBackend, "libvirt:test:///default#00000000-0000-0000-0000-00000000beef"),
            }, "test", CancellationToken.None);
        }

        await using var session = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() }, CancellationToken.None);
        var record = await session.Client.CallToolAsync("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = seeded[0].Id }, cancellationToken: TestContext.Current.CancellationToken);
        var events = await session.Client.CallToolAsync("get_events", new Dictionary<string, object?> { ["runtime_id"] = seeded[0].Id }, cancellationToken: TestContext.Current.CancellationToken);
        var deleted = await session.Client.CallToolAsync("delete_runtime", new Dictionary<string, object?> { ["runtime_id"] = seeded[0].Id }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("error", record.StructuredContent!.Value.GetProperty("state").GetString());
        Assert.Equal("inventory.vanished", events.StructuredContent!.Value.GetProperty("items")[0].GetProperty("type").GetString());
        Assert.Equal("succeeded", deleted.StructuredContent!.Value.GetProperty("status").GetString());
    }
}
