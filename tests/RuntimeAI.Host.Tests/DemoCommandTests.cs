namespace RuntimeAI.Host.Tests;

/// <summary><c>runtimeai demo</c> walks an intent from goal to audited execution on the sandbox.</summary>
public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_PrintsEveryStage_TheIntentRunsAndTheAuditChainVerifies()
    {
        var output = new StringWriter();

        var code = await DemoCommand.RunAsync(TestPaths.NewDataDir(), output, TestContext.Current.CancellationToken);

        var text = output.ToString();
        Assert.Equal(0, code);
        foreach (var stage in new[] { "== 1. a runtime", "== 2. signals the server keeps", "== 3. goal:", "== 4. submit_intent", "== 5. the operation", "== 6. the audit trail" })
        {
            Assert.Contains(stage, text, StringComparison.Ordinal);
        }

        Assert.Contains("KubeSim (a Kubernetes API simulator", text, StringComparison.Ordinal);
        Assert.Contains("[conclusion] 1 step(s)", text, StringComparison.Ordinal);
        Assert.Matches(@"intent int_\w{26}: succeeded", text);
        Assert.Contains("demo-idle-vm is now size large, stopped", text, StringComparison.Ordinal);
        Assert.Contains("execute_actions → ok", text, StringComparison.Ordinal);
    }
}
