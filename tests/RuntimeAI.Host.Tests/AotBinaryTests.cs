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

    private static Task<McpClient> ConnectAsync(string binary) => McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
    {
        Command = binary,
        Arguments = ["serve", "--data-dir", TestPaths.NewDataDir()],
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
}
