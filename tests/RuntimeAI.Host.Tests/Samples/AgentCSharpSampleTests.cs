using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace RuntimeAI.Host.Tests.Samples;

/// <summary>
/// samples/agent-csharp runs as a user would run it: against a real server over HTTP with an API
/// key; it stops a sandbox vcluster, which needs a human approver; a different person approves
/// with the CLI while the agent waits; the agent then executes, hears the change by subscription
/// and reads the audit trail.
/// </summary>
public sealed partial class AgentCSharpSampleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

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
        var dataDir = TestPaths.NewDataDir();
        var (agentCode, agentKey, agentErr) = await ServerProcess.RunAsync("keys", "create", "--name", "sample-agent", "--role", "operator", "--data-dir", dataDir);
        var (approverCode, approverKey, approverErr) = await ServerProcess.RunAsync("keys", "create", "--name", "ops-lead", "--role", "approver", "--human", "--data-dir", dataDir);
        Assert.True(agentCode == 0 && approverCode == 0, agentErr + approverErr);
        await using var server = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--api-keys", "--autonomy", "copilot", "--policies", TestPolicies.AllowAll());

        var output = new StringBuilder();
        var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var agent = new Process
        {
            StartInfo = new ProcessStartInfo(SampleBinary, ["--url", server.McpEndpoint!.ToString(), "--runtime", "dev", "--action", "stop", "--reasoning", "free the nodes overnight", "--approval-timeout", "120"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["RUNTIMEAI_TOKEN"] = agentKey.Trim() },
            },
        };
        agent.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (PendingLine().Match(e.Data) is { Success: true } m)
            {
                pending.TrySetResult(m.Groups[1].Value);
            }
        };
        var stderr = new StringBuilder();
        agent.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        agent.Start();
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        try
        {
            var proposalId = await pending.Task.WaitAsync(TimeSpan.FromSeconds(90), Ct);

            // The agent's own key cannot approve; the ops lead's can.
            var (selfCode, _, selfErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", agentKey.Trim());
            var (approveCode, _, approveErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", approverKey.Trim());
            await agent.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(90), Ct);
            var text = output.ToString();

            Assert.NotEqual(0, selfCode);
            Assert.Contains("approver", selfErr, StringComparison.Ordinal);
            Assert.True(approveCode == 0, approveErr);
            Assert.True(agent.ExitCode == 0, $"agent exited {agent.ExitCode}\n{text}\n{stderr}");
            Assert.Matches(@"discovered \d+ tools", text);
            Assert.Contains("simulation: would need a human approval", text, StringComparison.Ordinal);
            Assert.Contains($"proposal {proposalId} approved", text, StringComparison.Ordinal);
            Assert.Matches(@"operation op_\w+ succeeded", text);
            Assert.Matches(@"updated \([1-9]\d* notification\(s\)\); state now stopped", text);
            Assert.Matches(@"audit: \S+ stop_runtime pending_approval", text);
            Assert.Matches(@"audit: \S+ stop_runtime ok", text);
        }
        finally
        {
            if (!agent.HasExited)
            {
                agent.Kill(entireProcessTree: true);
            }
        }
    }

    [GeneratedRegex(@"^pending approval: (prp_\w+) via approver")]
    private static partial Regex PendingLine();
}
