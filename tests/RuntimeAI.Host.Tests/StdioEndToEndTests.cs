using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Host.Tests;

/// <summary>The built executable over stdio, driven by the SDK's own stdio client.</summary>
public sealed class StdioEndToEndTests
{
    private static async Task<(McpClient Client, List<string> Stderr)> ConnectAsync(string dataDir, params string[] extra)
    {
        var stderr = new List<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", dataDir, .. extra],
            Name = "runtimeai",
            StandardErrorLines = line =>
            {
                lock (stderr)
                {
                    stderr.Add(line);
                }
            },
        });
        var client = await McpClient.CreateAsync(transport);
        return (client, stderr);
    }

    [Fact]
    public async Task ListTools_AdvisorLevel_ReturnsObserveToolsWithFullContract()
    {
        var (client, stderr) = await ConnectAsync(TestPaths.NewDataDir());
        await using var _ = client;

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains(tools, t => t.Name == "list_runtimes");
        Assert.Contains(tools, t => t.Name == "get_operation");
        foreach (var tool in tools.Select(t => t.ProtocolTool))
        {
            // The wire form leaves out what the MCP defaults already say (readOnlyHint false,
            // destructiveHint true, openWorldHint true): at the advisor level every tool must say
            // it is read-only or not destructive, and closed-world, or a client would take it for
            // a destructive open-world one.
            Assert.True(tool.Annotations?.ReadOnlyHint == true || tool.Annotations?.DestructiveHint == false, tool.Name);
            Assert.False(tool.Annotations?.OpenWorldHint ?? true, tool.Name);
            Assert.Null(tool.Title);
            Assert.NotNull(tool.OutputSchema);
            Assert.Equal("object", tool.InputSchema.GetProperty("type").GetString());
        }

        lock (stderr)
        {
            Assert.Contains(stderr, l => l.Contains("serving MCP on stdio", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task CallListRuntimes_SeededStore_ReturnsStructuredItemsAndText()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await InventorySeed.AddRuntimesAsync(dataDir, 3);
        var (client, _) = await ConnectAsync(dataDir);
        await using var __ = client;

        var result = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 10, ["tenant_id"] = "acme" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotEqual(true, result.IsError);
        var items = result.StructuredContent!.Value.GetProperty("items");
        Assert.Equal(3, items.GetArrayLength());
        Assert.Equal(seeded.Select(r => r.Id).Order(StringComparer.Ordinal), items.EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal(JsonValueKind.Null, result.StructuredContent!.Value.GetProperty("next_page_token").ValueKind);
        Assert.Contains("3 runtime(s)", result.Content.OfType<TextContentBlock>().Single().Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallGetRuntime_UnknownId_IsErrorNamingTheId()
    {
        var (client, _) = await ConnectAsync(TestPaths.NewDataDir());
        await using var __ = client;

        var result = await client.CallToolAsync("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = "rt_01ARZ3NDEKTSV4RRFFQ69G5FAV" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("rt_01ARZ3NDEKTSV4RRFFQ69G5FAV", result.Content.OfType<TextContentBlock>().Single().Text, StringComparison.Ordinal);
    }
}
