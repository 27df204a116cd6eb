namespace RuntimeAI.Host.Tests.Samples;

/// <summary>
/// samples/agent-csharp runs as a user would run it: against a real server over HTTP with an API
/// key; it stops a sandbox vcluster, which needs a human approver; a different person approves
/// with the CLI while the agent waits; the agent then executes, hears the change by subscription
/// and reads the audit trail.
/// </summary>
public sealed class AgentCSharpSampleTests
{
    private static string SampleBinary
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(TestPaths.RepoRoot, "samples", "agent-csharp", "bin", configuration, "net10.0", "runtimeai-agent-sample");
            return File.Exists(path) ? path : throw new FileNotFoundException($"build the solution (or samples/agent-csharp) first: {path} is missing");
        }
    }

    [Fact]
    public async Task AgentSample_StopVcluster_WaitsForAnotherHumansApprovalThenExecutesAndReadsTheAudit()
    {
        var run = await AgentSampleRun.RunAsync("sample-agent", SampleBinary, [], "--policies", TestPolicies.AllowAll());

        run.AssertApprovedByAnotherHumanAndExecuted();
        Assert.Matches(@"discovered \d+ tools", run.Output);
    }
}
