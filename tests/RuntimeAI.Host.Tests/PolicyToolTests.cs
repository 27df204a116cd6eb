using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host.Tests;

/// <summary>list_policies, put_policy and delete_policy through the real MCP boundary.</summary>
public sealed class PolicyToolTests
{
    private static string SamplePolicies => Path.Combine(TestPaths.RepoRoot, "samples", "policies");

    private static Task<InProcessSession> StartAsync(string dataDir, string? policiesDir = null, AutonomyLevel autonomy = AutonomyLevel.Copilot) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = dataDir, PoliciesDir = policiesDir, Autonomy = autonomy }, CancellationToken.None);

    private static Dictionary<string, object?> Args(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!.ToDictionary(p => p.Key, p => (object?)p.Value);

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static async Task<JsonElement> OkAsync(McpClient client, string tool, string args)
    {
        var result = await client.CallToolAsync(tool, Args(args));
        Assert.True(result.IsError != true, $"{tool} failed: {Text(result)}");
        return result.StructuredContent!.Value;
    }

    private static async Task<string> ErrorAsync(McpClient client, string tool, string args)
    {
        var result = await client.CallToolAsync(tool, Args(args));
        Assert.True(result.IsError, $"{tool} should have failed: {Text(result)}");
        return Text(result);
    }

    private static string[] Ids(JsonElement list) =>
        list.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToArray();

    private const string DenyScratchDelete = """
        {"policy": {"id": "scratch", "name": "Scratch rules", "rules": [
          {"id": "deny-scratch-delete", "kind": "deny_action", "selector": {"action_types": ["delete"], "labels": {"tier": "scratch"}}}]}}
        """;

    [Fact]
    public async Task ListPolicies_WithPoliciesDir_ShowsFilePoliciesWithTheirFiles()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), SamplePolicies, AutonomyLevel.Advisor);

        var list = await OkAsync(session.Client, "list_policies", "{}");

        Assert.Equal(["baseline", "keep-private", "vcluster-delete-trial", "prod-safety", "acme-capacity"], Ids(list));
        var prod = list.GetProperty("policies").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "prod-safety");
        Assert.Equal("file", prod.GetProperty("origin").GetString());
        Assert.Equal("prod-safety.yaml", prod.GetProperty("file").GetString());
        Assert.Contains(prod.GetProperty("rules").EnumerateArray(), r => r.GetProperty("id").GetString() == "deny-prod-delete" && r.GetProperty("kind").GetString() == "deny_action");
    }

    [Fact]
    public async Task PutListDelete_StoredPolicy_RoundTripsAndSurvivesRestart()
    {
        var dataDir = TestPaths.NewDataDir();
        await using (var session = await StartAsync(dataDir, SamplePolicies))
        {
            var put = await OkAsync(session.Client, "put_policy", DenyScratchDelete);
            Assert.True(put.GetProperty("created").GetBoolean());
            Assert.Equal("store", put.GetProperty("policy").GetProperty("origin").GetString());
            Assert.Equal("human:" + Environment.UserName, put.GetProperty("policy").GetProperty("updated_by").GetString());

            var again = await OkAsync(session.Client, "put_policy", DenyScratchDelete.Replace("Scratch rules", "Scratch rules v2", StringComparison.Ordinal));
            Assert.False(again.GetProperty("created").GetBoolean());
        }

        await using (var session = await StartAsync(dataDir, SamplePolicies))
        {
            var one = await OkAsync(session.Client, "list_policies", """{"policy_id": "scratch"}""");
            var policy = Assert.Single(one.GetProperty("policies").EnumerateArray());
            Assert.Equal("Scratch rules v2", policy.GetProperty("name").GetString());
            Assert.Equal("deny-scratch-delete", policy.GetProperty("document").GetProperty("rules")[0].GetProperty("id").GetString());

            var deleted = await OkAsync(session.Client, "delete_policy", """{"policy_id": "scratch"}""");
            Assert.Equal("scratch", deleted.GetProperty("deleted").GetString());
            Assert.DoesNotContain("scratch", Ids(await OkAsync(session.Client, "list_policies", "{}")));
            Assert.Contains("there is no policy 'scratch'", await ErrorAsync(session.Client, "delete_policy", """{"policy_id": "scratch"}"""), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PutPolicy_InvalidPolicy_ListsEveryErrorWithItsPathAndStoresNothing()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir());

        var text = await ErrorAsync(session.Client, "put_policy", """
            {"policy": {"id": "bad", "mode": "loud", "rules": [
              {"id": "r1", "kind": "deny_everything"},
              {"id": "r2", "kind": "budget_guardrail", "params": {"window": "soon", "max_mutations_per_window": 5}}]}}
            """);

        Assert.Contains("3 problems", text, StringComparison.Ordinal);
        Assert.Contains("/mode", text, StringComparison.Ordinal);
        Assert.Contains("/rules/0/kind", text, StringComparison.Ordinal);
        Assert.Contains("/rules/1/params/window", text, StringComparison.Ordinal);
        Assert.Empty(Ids(await OkAsync(session.Client, "list_policies", "{}")));
    }

    [Fact]
    public async Task PutPolicy_RuleIdUsedByAFilePolicy_IsRefusedNamingTheFile()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), SamplePolicies);

        var text = await ErrorAsync(session.Client, "put_policy", """
            {"policy": {"id": "mine", "rules": [{"id": "deny-prod-delete", "kind": "deny_action"}]}}
            """);

        Assert.Contains("'deny-prod-delete' is already used in prod-safety.yaml", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAndDelete_FilePolicyId_AreRefusedNamingTheFile()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), SamplePolicies);

        var put = await ErrorAsync(session.Client, "put_policy", """
            {"policy": {"id": "prod-safety", "rules": [{"id": "nothing-to-see", "kind": "allow_action"}]}}
            """);
        var delete = await ErrorAsync(session.Client, "delete_policy", """{"policy_id": "prod-safety"}""");

        Assert.Contains("prod-safety.yaml", put, StringComparison.Ordinal);
        Assert.Contains("read-only", put, StringComparison.Ordinal);
        Assert.Contains("prod-safety.yaml", delete, StringComparison.Ordinal);
        Assert.Contains("read-only", delete, StringComparison.Ordinal);
        Assert.Contains("prod-safety", Ids(await OkAsync(session.Client, "list_policies", "{}")));
    }

    [Fact]
    public async Task AdvisorLevel_PolicyAdminToolsAreHiddenAndListPoliciesIsNot()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), autonomy: AutonomyLevel.Advisor);

        var tools = (await session.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name).ToArray();

        Assert.Contains("list_policies", tools);
        Assert.DoesNotContain("put_policy", tools);
        Assert.DoesNotContain("delete_policy", tools);
    }

    [Fact]
    public async Task OverHttp_NonAdmin_IsRefusedAndAnAdminMayPut()
    {
        var dataDir = TestPaths.NewDataDir();
        var principal = "http:" + Environment.UserName;
        await using (var server = await ServerProcess.StartHttpAsync(dataDir, "--autonomy", "copilot"))
        {
            await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint! }), cancellationToken: TestContext.Current.CancellationToken);

            var text = await ErrorAsync(client, "put_policy", DenyScratchDelete);
            var delete = await ErrorAsync(client, "delete_policy", """{"policy_id": "scratch"}""");

            Assert.Contains($"'put_policy' needs the admin role; you are '{principal}' with roles operator", text, StringComparison.Ordinal);
            Assert.Contains("needs the admin role", delete, StringComparison.Ordinal);
            Assert.Empty(Ids(await OkAsync(client, "list_policies", "{}")));
        }

        var config = Path.Combine(dataDir, "config.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new Dictionary<string, string[]> { ["admins"] = [principal] }), TestContext.Current.CancellationToken);
        await using (var server = await ServerProcess.StartHttpAsync(dataDir, "--autonomy", "copilot", "--config", config))
        {
            await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint! }), cancellationToken: TestContext.Current.CancellationToken);

            var put = await OkAsync(client, "put_policy", DenyScratchDelete);

            Assert.Equal(principal, put.GetProperty("policy").GetProperty("updated_by").GetString());
            Assert.Equal(["scratch"], Ids(await OkAsync(client, "list_policies", "{}")));
        }
    }

    [Fact]
    public async Task PutThenDelete_DenyRule_GatesTheVeryNextExecuteCall()
    {
        var allowAll = TestPaths.NewDataDir();
        await File.WriteAllTextAsync(Path.Combine(allowAll, "allow.yaml"), "id: allow\nrules:\n  - id: allow-everything\n    kind: allow_action\n", TestContext.Current.CancellationToken);
        await using var session = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = TestPaths.NewDataDir(), PoliciesDir = allowAll, Autonomy = AutonomyLevel.Autonomous, Sandbox = true },
            CancellationToken.None);
        var created = await OkAsync(session.Client, "create_runtime", """{"name": "scratch-vm", "type": "vm", "labels": {"tier": "scratch"}}""");
        var id = created.GetProperty("runtime_id").GetString()!;
        await OkAsync(session.Client, "put_policy", DenyScratchDelete);

        var denied = await ErrorAsync(session.Client, "delete_runtime", $$"""{"runtime_id": "{{id}}"}""");

        Assert.Contains("denied by policy", denied, StringComparison.Ordinal);
        Assert.Contains("deny-scratch-delete", denied, StringComparison.Ordinal);

        await OkAsync(session.Client, "delete_policy", """{"policy_id": "scratch"}""");
        await OkAsync(session.Client, "delete_runtime", $$"""{"runtime_id": "{{id}}"}""");
    }
}
