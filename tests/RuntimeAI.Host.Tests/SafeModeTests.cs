using System.Text.Json;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Safe mode through the MCP boundary: the server pointed at a libvirt URI nobody answers on
/// (connection refused), next to the sandbox. A runtime recorded on the dead backend is read-only.
/// </summary>
public sealed class SafeModeTests
{
    private const string DeadUri = "qemu+tcp://127.0.0.1:1/system";

    private static async Task<string> SeedRuntimeOnDeadBackendAsync(string dataDir)
    {
        using var db = SqliteDatabase.Open(dataDir);
        var id = new IdGenerator(TimeProvider.System).New("rt");
        await new SqliteRuntimeInventory(db).SaveRuntimeAsync(new Runtime
        {
            Id = id,
            Name = "db-1",
            Type = RuntimeType.Vm,
            State = RuntimeState.Running,
            Backend = new RuntimeBackendRef(BackendKind.VmBackend, $"libvirt:{DeadUri}#{Guid.NewGuid()}"),
            Spec = new RuntimeSpec { Size = "nano" },
            CreatedAt = TimeProvider.System.GetUtcNow(),
        }, "seed", CancellationToken.None);
        return id;
    }

    private static Task<InProcessSession> StartAsync(string dataDir)
    {
        // Policies allow the mutation, so what refuses it can only be safe mode.
        var policies = Path.Combine(dataDir, "policies");
        Directory.CreateDirectory(policies);
        File.WriteAllText(Path.Combine(policies, "allow.yaml"), """
            id: allow-lifecycle
            rules:
              - id: allow-lifecycle-actions
                kind: allow_action
                selector:
                  action_types: [start, stop, restart, snapshot, create]
                params:
                  autonomy_levels: [autonomous]
            """);
        var config = ServerConfig.Load(
            new ServerConfig.Flags { DataDir = dataDir, Autonomy = "autonomous", Sandbox = true, Libvirt = [DeadUri] },
            new Dictionary<string, string?> { ["RUNTIMEAI_POLICIES_DIR"] = policies });
        Assert.Empty(config.Errors);
        return InProcessSession.StartAsync(config.Options, CancellationToken.None);
    }

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    [Fact]
    public async Task GetRuntimeStatus_BackendStoppedAnswering_ShowsSafeModeWithTheRecordedState()
    {
        var dataDir = TestPaths.NewDataDir();
        var id = await SeedRuntimeOnDeadBackendAsync(dataDir);
        await using var session = await StartAsync(dataDir);

        var result = await session.Client.CallToolAsync("get_runtime_status", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError != true, Text(result));
        var status = result.StructuredContent!.Value;
        Assert.True(status.GetProperty("safe_mode").GetBoolean());
        Assert.Equal("running", status.GetProperty("state").GetString());
        Assert.Equal("unknown", status.GetProperty("health").GetString());
        var detail = status.GetProperty("safe_mode_detail").GetString()!;
        Assert.StartsWith($"safe mode: read-only — backend libvirt:{DeadUri} stopped answering its health probe at ", detail, StringComparison.Ordinal);
        Assert.Contains("Connection refused", detail, StringComparison.Ordinal);
        Assert.EndsWith("mutations are refused until it recovers", detail, StringComparison.Ordinal);
        Assert.Contains("safe mode: read-only", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRuntimeStatus_HealthyBackend_SafeModeFalse()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());
        // libvirt's test:///default driver ships one domain; discovery imports it at start.
        var list = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
        var sandboxed = list.StructuredContent!.Value.GetProperty("items").EnumerateArray().First().GetProperty("id").GetString();

        var result = await session.Client.CallToolAsync("get_runtime_status", new Dictionary<string, object?> { ["runtime_id"] = sandboxed }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError != true, Text(result));
        Assert.False(result.StructuredContent!.Value.GetProperty("safe_mode").GetBoolean());
        Assert.Equal(JsonValueKind.Null, result.StructuredContent!.Value.GetProperty("safe_mode_detail").ValueKind);
    }

    [Fact]
    public async Task StopRuntime_BackendStoppedAnswering_RefusedAsSafeMode()
    {
        var dataDir = TestPaths.NewDataDir();
        var id = await SeedRuntimeOnDeadBackendAsync(dataDir);
        await using var session = await StartAsync(dataDir);

        var result = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("safe mode: read-only", Text(result), StringComparison.Ordinal);
    }
}
