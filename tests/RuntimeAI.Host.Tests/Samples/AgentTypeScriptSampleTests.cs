using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace RuntimeAI.Host.Tests.Samples;

/// <summary>
/// samples/agent-typescript as a user runs it: <c>npm ci</c> from its lock file (the official
/// @modelcontextprotocol/sdk from the npm registry), <c>npm run build</c>, then <c>node</c> against a
/// real server over Streamable HTTP with an API key. It stops a sandbox vcluster, which needs a
/// human approver; a different person approves with the CLI while the agent waits.
/// </summary>
public sealed partial class AgentTypeScriptSampleTests
{
    private static readonly string s_sample = Path.Combine(TestPaths.RepoRoot, "samples", "agent-typescript");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':')
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    private static async Task RunToEndAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = s_sample, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(5), Ct);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }

    [Fact]
    public async Task AgentSample_NpmCiBuildAndRun_WaitsForAnotherHumansApprovalThenExecutesAndReadsTheAudit()
    {
        var npm = OnPath("npm");
        var node = OnPath("node");
        Assert.SkipWhen(npm is null || node is null, "npm and node are not on PATH; scripts/deps.sh installs them (apt package npm)");

        // A fresh clone has no node_modules: install exactly the lock file, then compile the TypeScript.
        await RunToEndAsync(npm!, "ci", "--no-audit", "--no-fund", "--loglevel=error");
        await RunToEndAsync(npm!, "run", "build");
        var script = Path.Combine(s_sample, "dist", "agent.js");
        Assert.True(File.Exists(script), $"npm run build did not write {script}");

        var dataDir = TestPaths.NewDataDir();
        var (agentCode, agentKey, agentErr) = await ServerProcess.RunAsync("keys", "create", "--name", "ts-agent", "--role", "operator", "--data-dir", dataDir);
        var (approverCode, approverKey, approverErr) = await ServerProcess.RunAsync("keys", "create", "--name", "ops-lead", "--role", "approver", "--human", "--data-dir", dataDir);
        Assert.True(agentCode == 0 && approverCode == 0, agentErr + approverErr);
        await using var server = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--api-keys", "--autonomy", "copilot");

        var output = new StringBuilder();
        var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var agent = new Process
        {
            StartInfo = new ProcessStartInfo(node!, [script, "--url", server.McpEndpoint!.ToString(), "--runtime", "dev", "--action", "stop", "--reasoning", "free the nodes overnight", "--approval-timeout", "120"])
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
            var exited = agent.WaitForExitAsync(Ct);
            if (await Task.WhenAny(pending.Task, exited).WaitAsync(TimeSpan.FromSeconds(90), Ct) != pending.Task)
            {
                Assert.Fail($"the agent ended before asking for approval (exit {agent.ExitCode}):\n{output}\n{stderr}");
            }

            var proposalId = await pending.Task;

            // The agent's own key cannot approve; the ops lead's can.
            var (selfCode, _, selfErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", agentKey.Trim());
            var (approveCode, _, approveErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", approverKey.Trim());
            await exited.WaitAsync(TimeSpan.FromSeconds(90), Ct);
            var text = output.ToString();

            Assert.NotEqual(0, selfCode);
            Assert.Contains("approver", selfErr, StringComparison.Ordinal);
            Assert.True(approveCode == 0, approveErr);
            Assert.True(agent.ExitCode == 0, $"agent exited {agent.ExitCode}\n{text}\n{stderr}");
            Assert.Matches(@"discovered \d+ tools \([1-9]\d* can change something\)", text);
            Assert.Matches(@"runtime dev = rt_\w+ \(running\)", text);
            Assert.Contains("simulation: would need a human approval", text, StringComparison.Ordinal);
            Assert.Contains($"proposal {proposalId} approved", text, StringComparison.Ordinal);
            Assert.Matches(@"operation op_\w+ succeeded", text);
            Assert.Matches(@"updated \([1-9]\d* notification\(s\)\); state now stopped", text);
            Assert.Matches(@"audit: \S+ stop_runtime pending_approval", text);
            Assert.Matches(@"audit: \S+ stop_runtime ok", text);

            // The server's own record agrees: the stop ran as the agent's key, approved by the ops lead.
            var (auditCode, audit, auditErr) = await ServerProcess.RunAsync("audit", "export", "--data-dir", dataDir);
            Assert.True(auditCode == 0, auditErr);
            Assert.Contains("key:ts-agent", audit, StringComparison.Ordinal);
            Assert.Contains("key:ops-lead", audit, StringComparison.Ordinal);
            Assert.Contains("free the nodes overnight", audit, StringComparison.Ordinal);
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
