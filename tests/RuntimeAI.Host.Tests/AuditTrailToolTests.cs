using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Audit;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>get_audit_trail through the MCP boundary: an agent reads its own history, and only its own.</summary>
public sealed class AuditTrailToolTests
{
    private static Task<InProcessSession> StartAsync(string dataDir) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = dataDir }, CancellationToken.None);

    /// <summary>Records calls of another principal the way the pipeline does.</summary>
    private static async Task AddForeignRecordsAsync(string dataDir, int count)
    {
        using var db = SqliteDatabase.Open(dataDir);
        var log = new SqliteAuditLog(db, new CanonicalAuditHasher());
        for (var i = 0; i < count; i++)
        {
            var callId = $"call_foreign_{i}";
            await log.BeginAsync(new AuditBegin
            {
                CallId = callId, Ts = TimeProvider.System.GetUtcNow(), Tool = "list_runtimes", Principal = "http:alice", Transport = "http",
            }, CancellationToken.None);
            await log.EndAsync(new AuditEnd { CallId = callId, Ts = TimeProvider.System.GetUtcNow(), Outcome = "ok", Detail = "alice's secret plans" }, CancellationToken.None);
        }
    }

    private static async Task<JsonElement> TrailAsync(McpClient client, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync("get_audit_trail", args);
        Assert.True(result.IsError != true, string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text)));
        return result.StructuredContent!.Value;
    }

    [Fact]
    public async Task GetAuditTrail_MixedPrincipals_ReturnsOnlyTheCallersRecords()
    {
        var dataDir = TestPaths.NewDataDir();
        await AddForeignRecordsAsync(dataDir, 2);
        await using var session = await StartAsync(dataDir);
        await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
        await session.Client.CallToolAsync("get_events", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);

        var trail = await TrailAsync(session.Client, []);

        var items = trail.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["list_runtimes", "get_events"], items.Select(i => i.GetProperty("tool").GetString()));
        Assert.Equal([3L, 4L], items.Select(i => i.GetProperty("seq").GetInt64()));
        Assert.All(items, i => Assert.Equal("ok", i.GetProperty("outcome").GetString()));
        Assert.DoesNotContain("alice", trail.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, trail.GetProperty("next_page_token").ValueKind);
    }

    [Fact]
    public async Task GetAuditTrail_ToolFilterAndRefusals_ShowOutcomeAndDetail()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());
        await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
        await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = "rt_01ARZ3NDEKTSV4RRFFQ69G5FAV" }, cancellationToken: TestContext.Current.CancellationToken);

        var trail = await TrailAsync(session.Client, new() { ["tool"] = "stop_runtime" });

        var item = Assert.Single(trail.GetProperty("items").EnumerateArray());
        // Refused by the advisor gate or by a later stage (unknown runtime): either way not ok, and why.
        Assert.Contains(item.GetProperty("outcome").GetString(), new[] { "refused", "error" });
        Assert.Equal("rt_01ARZ3NDEKTSV4RRFFQ69G5FAV", item.GetProperty("runtime_id").GetString());
        Assert.False(string.IsNullOrWhiteSpace(item.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task GetAuditTrail_Paging_WalksEveryRecordOnceAndTokensAreBoundToFilters()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());
        for (var i = 0; i < 5; i++)
        {
            await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
        }

        var seen = new List<long>();
        string? token = null;
        string? firstToken = null;
        do
        {
            var args = new Dictionary<string, object?> { ["page_size"] = 2, ["tool"] = "list_runtimes" };
            if (token is not null)
            {
                args["page_token"] = token;
            }

            var page = await TrailAsync(session.Client, args);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("seq").GetInt64()));
            token = page.GetProperty("next_page_token").GetString();
            firstToken ??= token;
        }
        while (token is not null);

        Assert.Equal([1L, 2L, 3L, 4L, 5L], seen);
        var wrongFilter = await session.Client.CallToolAsync("get_audit_trail", new Dictionary<string, object?> { ["page_token"] = firstToken, ["page_size"] = 2 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(wrongFilter.IsError);
        Assert.Contains("different filters", wrongFilter.Content.OfType<TextContentBlock>().Single().Text, StringComparison.Ordinal);
        var forged = await session.Client.CallToolAsync("get_audit_trail", new Dictionary<string, object?> { ["page_token"] = "not-a-token" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(forged.IsError);
    }

    [Fact]
    public async Task GetAuditTrail_PageSizeOver200_InvalidParams()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() =>
            session.Client.CallToolAsync("get_audit_trail", new Dictionary<string, object?> { ["page_size"] = 201 }, cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("/page_size", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAuditTrail_SinceInTheFuture_Empty()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());
        await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);

        var trail = await TrailAsync(session.Client, new() { ["since"] = "2099-01-01T00:00:00Z" });

        Assert.Equal(0, trail.GetProperty("items").GetArrayLength());
    }
}
