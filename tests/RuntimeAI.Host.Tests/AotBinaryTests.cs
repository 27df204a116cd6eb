using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// The NativeAOT binary that scripts/publish.sh produces, driven over stdio by the SDK's client.
/// Opt-in (an AOT publish takes minutes): <c>scripts/publish.sh --check</c> sets
/// RUNTIMEAI_AOT_BINARY and runs these; otherwise they are skipped with the reason.
/// </summary>
public sealed class AotBinaryTests
{
    private static string RequireBinary()
    {
        var path = Environment.GetEnvironmentVariable("RUNTIMEAI_AOT_BINARY");
        Assert.SkipWhen(string.IsNullOrEmpty(path), "RUNTIMEAI_AOT_BINARY is not set: run scripts/publish.sh --check to publish the NativeAOT binary and test it.");
        Assert.True(File.Exists(path), $"RUNTIMEAI_AOT_BINARY points at {path}, which does not exist; run scripts/publish.sh first.");
        return path!;
    }

    private static Task<McpClient> ConnectAsync(string binary, params string[] extra) => McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
    {
        Command = binary,
        Arguments = ["serve", "--data-dir", TestPaths.NewDataDir(), .. extra],
        Name = "runtimeai-aot",
        StandardErrorLines = _ => { },
    }), cancellationToken: TestContext.Current.CancellationToken);

    [Fact]
    public async Task Initialize_AotBinary_AnswersAsRuntimeAiAndListsTools()
    {
        var binary = RequireBinary();
        await using var client = await ConnectAsync(binary);

        Assert.Equal("runtimeai", client.ServerInfo?.Name);
        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(tools, t => t.Name == "list_runtimes");
        var listed = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(true, listed.IsError);
        Assert.NotNull(listed.StructuredContent);
    }

    [Fact]
    public async Task CallTool_AotBinaryBadArguments_SchemaFirewallNamesEachProblem()
    {
        var binary = RequireBinary();
        await using var client = await ConnectAsync(binary);

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync(
            "list_runtimes", new Dictionary<string, object?> { ["page_size"] = 500, ["bogus"] = 1 }, cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        Assert.Contains("/page_size: 500 is greater than the maximum 200", refused.Message, StringComparison.Ordinal);
        Assert.Contains("/bogus: the property 'bogus' is not allowed", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VclusterStopStartCreateDelete_AotBinary_ThroughTheKubernetesDriver()
    {
        // The Kubernetes driver's typed operations serialize through their own source-generated
        // context: only the NativeAOT binary proves every model they send and read is in it.
        var binary = RequireBinary();
        var policies = Directory.CreateTempSubdirectory("runtimeai-aot-policies-").FullName;
        await File.WriteAllTextAsync(Path.Combine(policies, "allow.yaml"), """
            id: aot-check
            rules:
              - id: allow-lifecycle
                kind: allow_action
                selector:
                  action_types: [create, start, stop, delete]
                params:
                  reason: the AOT binary test drives a vcluster's lifecycle
            """, TestContext.Current.CancellationToken);
        await using var client = await ConnectAsync(binary, "--autonomy", "autonomous", "--policies", policies);
        var ct = TestContext.Current.CancellationToken;

        async Task<System.Text.Json.JsonElement> CallAsync(string tool, Dictionary<string, object?> args)
        {
            var result = await client.CallToolAsync(tool, args, cancellationToken: ct);
            Assert.True(result.IsError != true, $"{tool}: {System.Text.Json.JsonSerializer.Serialize(result.StructuredContent)}");
            return result.StructuredContent!.Value;
        }

        var listed = await CallAsync("list_runtimes", new() { ["type"] = "vcluster" });
        var dev = listed.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString();
        Assert.Equal("succeeded", (await CallAsync("stop_runtime", new() { ["runtime_id"] = dev, ["reasoning"] = "AOT check" })).GetProperty("status").GetString());
        Assert.Equal("succeeded", (await CallAsync("start_runtime", new() { ["runtime_id"] = dev, ["reasoning"] = "AOT check" })).GetProperty("status").GetString());
        var created = await CallAsync("create_runtime", new() { ["name"] = "aot", ["type"] = "vcluster", ["spec"] = new Dictionary<string, object?> { ["size"] = "small" }, ["reasoning"] = "AOT check" });
        Assert.Equal("succeeded", created.GetProperty("status").GetString());
        var deleted = await CallAsync("delete_runtime", new() { ["runtime_id"] = created.GetProperty("runtime_id").GetString(), ["reasoning"] = "AOT check" });
        Assert.Equal("succeeded", deleted.GetProperty("status").GetString());
    }
}
