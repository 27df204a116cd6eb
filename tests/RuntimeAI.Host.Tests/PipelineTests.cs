using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>The pipeline through the real MCP boundary (client and server joined by pipes).</summary>
public sealed class PipelineTests
{
    private static Task<InProcessSession> StartAsync(string dataDir, AutonomyLevel autonomy = AutonomyLevel.Advisor) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = autonomy }, CancellationToken.None);

    // A tenant only this test has: other tests leave domains of their tenants in the shared sandbox.
    private static string UniqueTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<IReadOnlyList<AuditRecord>> AuditAsync(string dataDir)
    {
        using var db = SqliteDatabase.Open(dataDir);
        return await new SqliteAuditLog(db, new CanonicalAuditHasher()).QueryAsync(new AuditQuery { PageSize = 1000 }, CancellationToken.None);
    }

    [Fact]
    public async Task CallTool_SeveralSchemaViolations_InvalidParamsListsEveryOneWithPointer()
    {
        var dataDir = TestPaths.NewDataDir();
        await using (var session = await StartAsync(dataDir))
        {
            var ex = await Assert.ThrowsAsync<McpProtocolException>(() => session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 500, ["type"] = "mainframe", ["colour"] = "red", ["labels"] = new Dictionary<string, object?> { ["env"] = 3 } }, cancellationToken: TestContext.Current.CancellationToken).AsTask());

            Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
            Assert.Contains("4 problems", ex.Message, StringComparison.Ordinal);
            Assert.Contains("/page_size", ex.Message, StringComparison.Ordinal);
            Assert.Contains("/type", ex.Message, StringComparison.Ordinal);
            Assert.Contains("/colour", ex.Message, StringComparison.Ordinal);
            Assert.Contains("/labels/env", ex.Message, StringComparison.Ordinal);
        }

        var audit = await AuditAsync(dataDir);
        var record = Assert.Single(audit);
        Assert.Equal("invalid_params", record.End.Outcome);
        Assert.Equal("list_runtimes", record.Begin.Tool);
    }

    [Fact]
    public async Task CallTool_WrongTypes_RejectedBeforeTheToolRuns()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => session.Client.CallToolAsync("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = 42 }, cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("/runtime_id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_MissingRequired_NamesTheProperty()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => session.Client.CallToolAsync("get_operation", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.Contains("operation_id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_UnknownTool_FailsClosedAndIsAudited()
    {
        var dataDir = TestPaths.NewDataDir();
        await using (var session = await StartAsync(dataDir))
        {
            var ex = await Assert.ThrowsAsync<McpProtocolException>(() => session.Client.CallToolAsync("format_disk", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken).AsTask());
            Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
            Assert.Contains("Unknown tool 'format_disk'", ex.Message, StringComparison.Ordinal);
        }

        var record = Assert.Single(await AuditAsync(dataDir));
        Assert.Equal("format_disk", record.Begin.Tool);
        Assert.Equal("invalid_params", record.End.Outcome);
    }

    [Fact]
    public async Task CallTool_Success_AuditRecordCarriesReasoningAndChains()
    {
        var dataDir = TestPaths.NewDataDir();
        await using (var session = await StartAsync(dataDir))
        {
            await session.Client.CallToolAsync(new CallToolRequestParams
            {
                Name = "list_runtimes",
                Arguments = new Dictionary<string, JsonElement>(),
                Meta = new System.Text.Json.Nodes.JsonObject { ["io.runtimeai/reasoning"] = "checking what exists before a change" },
            }, TestContext.Current.CancellationToken);
            await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["reasoning"] = "second look" }, cancellationToken: TestContext.Current.CancellationToken);
        }

        var audit = await AuditAsync(dataDir);
        Assert.Equal(2, audit.Count);
        Assert.Equal("checking what exists before a change", audit[0].Begin.Reasoning);
        Assert.Equal("second look", audit[1].Begin.Reasoning);
        Assert.Equal("ok", audit[0].End.Outcome);
        Assert.Equal("in-process", audit[0].Begin.Transport);
        Assert.Equal("runtimeai-cli/" + McpServerSetup.Version, audit[0].Begin.Client);
        Assert.Equal(AuditHashes.Genesis, audit[0].PrevHash);
        Assert.Equal(audit[0].Hash, audit[1].PrevHash);
        Assert.Equal(audit[1].Hash, new CanonicalAuditHasher().ComputeHash(audit[1]));
    }

    [Fact]
    public async Task Reasoning_WithPlantedSecret_IsRedactedInTheAuditTrail()
    {
        var dataDir = TestPaths.NewDataDir();
        const string token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        await using (var session = await StartAsync(dataDir))
        {
            await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["reasoning"] = $"used the token {token} to look" }, cancellationToken: TestContext.Current.CancellationToken);
        }

        var record = Assert.Single(await AuditAsync(dataDir));
        Assert.DoesNotContain(token, record.Begin.Reasoning, StringComparison.Ordinal);
        Assert.DoesNotContain(token, record.Begin.Arguments!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("used the token", record.Begin.Reasoning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListRuntimes_Paging_WalksEveryItemOnceInStableOrder()
    {
        var dataDir = TestPaths.NewDataDir();
        var tenant = UniqueTenant();
        var seeded = await InventorySeed.AddRuntimesAsync(dataDir, 5, tenant: tenant);
        await using var session = await StartAsync(dataDir);

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var args = new Dictionary<string, object?> { ["page_size"] = 2, ["tenant_id"] = tenant };
            if (token is not null)
            {
                args["page_token"] = token;
            }

            var result = await session.Client.CallToolAsync("list_runtimes", args, cancellationToken: TestContext.Current.CancellationToken);
            var content = result.StructuredContent!.Value;
            seen.AddRange(content.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            token = content.GetProperty("next_page_token").GetString();
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(seeded.Select(r => r.Id).Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task ListRuntimes_Filters_MatchLabelsTypeAndState()
    {
        var dataDir = TestPaths.NewDataDir();
        var tenant = UniqueTenant();
        var seeded = await InventorySeed.AddRuntimesAsync(dataDir, 6, tenant: tenant);
        await using var session = await StartAsync(dataDir);

        var prod = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["tenant_id"] = tenant, ["labels"] = new Dictionary<string, string> { ["env"] = "prod" } }, cancellationToken: TestContext.Current.CancellationToken);
        var runningVms = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["tenant_id"] = tenant, ["type"] = "vm", ["state"] = "running" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(
            seeded.Where(r => r.Labels["env"] == "prod").Select(r => r.Id).Order(StringComparer.Ordinal),
            prod.StructuredContent!.Value.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal(
            seeded.Where(r => r.Type == Core.Runtimes.RuntimeType.Vm && r.State == Core.Runtimes.RuntimeState.Running).Select(r => r.Id).Order(StringComparer.Ordinal),
            runningVms.StructuredContent!.Value.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task ListRuntimes_TokenFromOtherFilters_IsErrorThatSaysWhy()
    {
        var dataDir = TestPaths.NewDataDir();
        await InventorySeed.AddRuntimesAsync(dataDir, 3);
        await using var session = await StartAsync(dataDir);
        var first = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 1 }, cancellationToken: TestContext.Current.CancellationToken);
        var token = first.StructuredContent!.Value.GetProperty("next_page_token").GetString();

        var other = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 1, ["type"] = "vm", ["page_token"] = token }, cancellationToken: TestContext.Current.CancellationToken);
        var garbage = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_token"] = "not-a-token" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(other.IsError);
        Assert.Contains("different filters", other.Content.OfType<TextContentBlock>().Single().Text, StringComparison.Ordinal);
        Assert.True(garbage.IsError);
    }

    [Fact]
    public async Task StructuredResults_ConformToTheirPublishedOutputSchema()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await InventorySeed.AddRuntimesAsync(dataDir, 2);
        await using var session = await StartAsync(dataDir);
        var tools = (await session.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).ToDictionary(t => t.Name, t => t.ProtocolTool);

        var calls = new (string Tool, Dictionary<string, object?> Args)[]
        {
            ("list_runtimes", new() { ["page_size"] = 1 }),
            ("get_runtime", new() { ["runtime_id"] = seeded[0].Id }),
            ("get_events", new()),
        };
        foreach (var (tool, args) in calls)
        {
            var result = await session.Client.CallToolAsync(tool, args, cancellationToken: TestContext.Current.CancellationToken);
            var violations = RuntimeAI.Core.Schema.JsonSchemaValidator.Validate(tools[tool].OutputSchema!.Value, result.StructuredContent!.Value);
            Assert.True(violations.Count == 0, $"{tool}: " + string.Join("; ", violations.Select(v => v.Message)));
        }
    }
}
