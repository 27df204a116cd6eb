using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace RuntimeAI.Host.Tests.Samples;

/// <summary>
/// One run of an agent sample (C#, TypeScript) as its README describes it: a data dir with an
/// operator key for the agent and an approver key for a human, a real server over HTTP at copilot,
/// the agent stopping the sandbox vcluster <c>dev</c>; when it prints its pending proposal, the
/// agent's own key tries to approve (and must fail), then the approver's key approves.
/// </summary>
internal sealed partial record AgentSampleRun(
    string DataDir,
    string ProposalId,
    int SelfApproveCode,
    string SelfApproveErr,
    int ApproveCode,
    string ApproveErr,
    int ExitCode,
    string Output,
    string Stderr)
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/>, then the sample's own arguments.</summary>
    public static async Task<AgentSampleRun> RunAsync(string agentKeyName, string file, string[] args, params string[] serverArgs)
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDir = TestPaths.NewDataDir();
        var (agentCode, agentKey, agentErr) = await ServerProcess.RunAsync("keys", "create", "--name", agentKeyName, "--role", "operator", "--data-dir", dataDir);
        var (approverCode, approverKey, approverErr) = await ServerProcess.RunAsync("keys", "create", "--name", "ops-lead", "--role", "approver", "--human", "--data-dir", dataDir);
        Assert.True(agentCode == 0 && approverCode == 0, agentErr + approverErr);
        await using var server = await ServerProcess.StartHttpAsync(dataDir, ["--sandbox", "--api-keys", "--autonomy", "copilot", .. serverArgs]);

        var output = new StringBuilder();
        var stderr = new StringBuilder();
        var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var agent = new Process
        {
            StartInfo = new ProcessStartInfo(file, [.. args, "--url", server.McpEndpoint!.ToString(), "--runtime", "dev", "--action", "stop", "--reasoning", "free the nodes overnight", "--approval-timeout", "120"])
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
        agent.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        agent.Start();
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        try
        {
            var exited = agent.WaitForExitAsync(ct);
            if (await Task.WhenAny(pending.Task, exited).WaitAsync(TimeSpan.FromSeconds(90), ct) != pending.Task)
            {
                Assert.Fail($"the agent ended before asking for approval (exit {agent.ExitCode}):\n{output}\n{stderr}");
            }

            var proposalId = await pending.Task;
            var (selfCode, _, selfErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", agentKey.Trim());
            var (approveCode, _, approveErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", approverKey.Trim());
            await exited.WaitAsync(TimeSpan.FromSeconds(90), ct);
            return new AgentSampleRun(dataDir, proposalId, selfCode, selfErr, approveCode, approveErr, agent.ExitCode, output.ToString(), stderr.ToString());
        }
        finally
        {
            if (!agent.HasExited)
            {
                agent.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>What every agent sample must show: the refused self-approval, the approval, the execution and its audit.</summary>
    public void AssertApprovedByAnotherHumanAndExecuted()
    {
        Assert.NotEqual(0, SelfApproveCode);
        Assert.Contains("approver", SelfApproveErr, StringComparison.Ordinal);
        Assert.True(ApproveCode == 0, ApproveErr);
        Assert.True(ExitCode == 0, $"agent exited {ExitCode}\n{Output}\n{Stderr}");
        Assert.Contains("simulation: would need a human approval", Output, StringComparison.Ordinal);
        Assert.Contains($"proposal {ProposalId} approved", Output, StringComparison.Ordinal);
        Assert.Matches(@"operation op_\w+ succeeded", Output);
        Assert.Matches(@"updated \([1-9]\d* notification\(s\)\); state now stopped", Output);
        Assert.Matches(@"audit: \S+ stop_runtime pending_approval", Output);
        Assert.Matches(@"audit: \S+ stop_runtime ok", Output);
    }

    [GeneratedRegex(@"^pending approval: (prp_\w+) via approver")]
    private static partial Regex PendingLine();
}
