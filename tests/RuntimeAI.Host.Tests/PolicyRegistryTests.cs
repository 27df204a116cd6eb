using System.Text.Json.Nodes;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Policies;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>The registry over the real SQLite store: changes are visible to the very next decision.</summary>
public sealed class PolicyRegistryTests
{
    private static string SamplePolicies => Path.Combine(TestPaths.RepoRoot, "samples", "policies");

    private static readonly PolicyInput s_deleteScratch = new()
    {
        Action = ActionType.Delete,
        Autonomy = AutonomyLevel.Autonomous,
        Runtime = new PolicyRuntimeFacts { Id = "rt_1", Labels = new Dictionary<string, string> { ["tier"] = "scratch" } },
    };

    private static JsonNode DenyScratchDelete(string ruleId = "deny-scratch-delete") => JsonNode.Parse("""
        {"id": "scratch", "rules": [{"id": "RULE", "kind": "deny_action", "selector": {"action_types": ["delete"], "labels": {"tier": "scratch"}}}]}
        """.Replace("RULE", ruleId, StringComparison.Ordinal))!;

    [Fact]
    public async Task Current_AfterPutAndDelete_DecidesWithTheNewSetImmediately()
    {
        using var db = SqliteDatabase.Open(TestPaths.NewDataDir());
        var registry = SqlitePolicyStore.LoadRegistry(db, SamplePolicies, TimeProvider.System);
        var before = registry.Current;
        Assert.DoesNotContain("deny-scratch-delete", before.Evaluate(s_deleteScratch).RuleIds);

        var put = await registry.PutAsync(DenyScratchDelete(), "tester", CancellationToken.None);

        Assert.True(put.Ok, string.Join('\n', put.Errors));
        var decision = registry.Current.Evaluate(s_deleteScratch);
        Assert.Equal(PolicyEffect.Deny, decision.Effect);
        Assert.Equal(["deny-scratch-delete"], decision.RuleIds);
        // The evaluator handed out before the change is immutable: a call in flight keeps its set.
        Assert.DoesNotContain("deny-scratch-delete", before.Evaluate(s_deleteScratch).RuleIds);

        var delete = await registry.DeleteAsync("scratch", CancellationToken.None);

        Assert.True(delete.Ok);
        Assert.DoesNotContain("deny-scratch-delete", registry.Current.Evaluate(s_deleteScratch).RuleIds);
        Assert.Empty(new SqlitePolicyStore(db, TimeProvider.System).List());
    }

    [Fact]
    public async Task Put_InvalidOrClashing_LeavesCurrentAndStoreUnchanged()
    {
        using var db = SqliteDatabase.Open(TestPaths.NewDataDir());
        var registry = SqlitePolicyStore.LoadRegistry(db, SamplePolicies, TimeProvider.System);
        var before = registry.Current;

        var clash = await registry.PutAsync(DenyScratchDelete("deny-prod-delete"), "tester", CancellationToken.None);
        var invalid = await registry.PutAsync(JsonNode.Parse("""{"id": "x", "rules": "none"}"""), "tester", CancellationToken.None);

        Assert.False(clash.Ok);
        Assert.False(invalid.Ok);
        Assert.Same(before, registry.Current);
        Assert.Empty(new SqlitePolicyStore(db, TimeProvider.System).List());
    }

    [Fact]
    public async Task Load_StoredPolicyClashingWithANewFile_RefusesWithEveryError()
    {
        var dataDir = TestPaths.NewDataDir();
        using (var db = SqliteDatabase.Open(dataDir))
        {
            var stored = SqlitePolicyStore.LoadRegistry(db, null, TimeProvider.System);
            Assert.True((await stored.PutAsync(DenyScratchDelete("deny-prod-delete"), "tester", CancellationToken.None)).Ok);
        }

        using var again = SqliteDatabase.Open(dataDir);
        var ex = Assert.Throws<StoreException>(() => SqlitePolicyStore.LoadRegistry(again, SamplePolicies, TimeProvider.System));

        Assert.Contains("stored policy 'scratch'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'deny-prod-delete' is already used in prod-safety.yaml", ex.Message, StringComparison.Ordinal);
    }
}
