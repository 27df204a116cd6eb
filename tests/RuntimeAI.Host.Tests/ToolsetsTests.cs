using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace RuntimeAI.Host.Tests;

/// <summary>--toolsets / RUNTIMEAI_TOOLSETS / the toolsets config key, seen by the SDK's stdio client.</summary>
public sealed class ToolsetsTests
{
    private static readonly string[] s_observe =
    [
        "get_audit_trail", "get_events", "get_intent", "get_logs", "get_metrics", "get_operation", "get_proposal", "get_resource", "get_runtime",
        "get_runtime_status", "list_policies", "list_resources", "list_runtimes", "list_snapshots",
    ];

    private static readonly string[] s_vm =
    [
        "create_runtime", "delete_runtime", "execute_actions", "restart_runtime", "restore_snapshot", "rollback_operation",
        "scale_runtime", "snapshot_runtime", "start_runtime", "stop_runtime",
    ];

    private static async Task<McpClient> ConnectAsync(string dataDir, IReadOnlyList<string> extra, Dictionary<string, string?>? environment = null)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", dataDir, "--autonomy", "autonomous", .. extra],
            Name = "runtimeai",
            EnvironmentVariables = environment ?? [],
        });
        return await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
    }

    private static async Task<string[]> ToolNamesAsync(McpClient client) =>
        [.. (await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task ObserveAndVm_ListsExactlyTheirUnion_OtherToolsAreUnknown()
    {
        await using var client = await ConnectAsync(TestPaths.NewDataDir(), ["--toolsets", "observe,vm"]);

        var names = await ToolNamesAsync(client);

        Assert.Equal(s_observe.Concat(s_vm).Order(StringComparer.Ordinal), names);
        Assert.DoesNotContain("put_policy", names);
        Assert.DoesNotContain("simulate_action", names);
        var ex = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.CallToolAsync(
            "put_policy", new Dictionary<string, object?> { ["policy"] = JsonDocument.Parse("{}").RootElement },
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("Unknown tool 'put_policy'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VclusterFromTheEnvironment_LeavesOutWhatVclustersCannotDo()
    {
        await using var client = await ConnectAsync(TestPaths.NewDataDir(), [], new() { ["RUNTIMEAI_TOOLSETS"] = "vcluster" });

        var names = await ToolNamesAsync(client);

        Assert.Equal(
            new[]
            {
                "create_runtime", "delete_runtime", "execute_actions", "get_operation", "get_runtime", "get_runtime_status",
                "list_runtimes", "rollback_operation", "scale_runtime", "start_runtime", "stop_runtime",
            },
            names);
    }

    [Fact]
    public async Task ConfigKey_PoliciesOnly_AndNoToolsetsMeansEveryTool()
    {
        var dir = TestPaths.NewDataDir();
        var config = Path.Combine(dir, "config.json");
        // put_policy and delete_policy are for admins: make the stdio caller one.
        var admin = JsonSerializer.Serialize("stdio:" + Environment.UserName);
        await File.WriteAllTextAsync(config, $$"""{"toolsets": ["policies"], "admins": [{{admin}}]}""", TestContext.Current.CancellationToken);
        await using (var client = await ConnectAsync(dir, ["--config", config]))
        {
            Assert.Equal(["delete_policy", "list_policies", "put_policy"], await ToolNamesAsync(client));
        }

        // Without toolsets every tool is loaded: all 37 but the two admin-only ones for this non-admin caller.
        await using var all = await ConnectAsync(TestPaths.NewDataDir(), []);
        var names = await ToolNamesAsync(all);
        Assert.Equal(35, names.Length);
        Assert.Contains("list_policies", names);
        Assert.Contains("execute_actions", names);
        Assert.Contains("simulate_action", names);
    }

    [Fact]
    public async Task UnknownToolset_RefusesToStart_NamingTheValidOnes()
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync("serve", "--data-dir", TestPaths.NewDataDir(), "--toolsets", "observe,kubevirt");

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("toolset 'kubevirt' is not known", stderr, StringComparison.Ordinal);
        Assert.Contains("observe, analyse, recommend, execute, vm, vcluster, policies, all", stderr, StringComparison.Ordinal);
    }
}
