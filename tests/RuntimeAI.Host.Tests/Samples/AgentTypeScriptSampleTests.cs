using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RuntimeAI.Host.Tests.Samples;

/// <summary>
/// samples/agent-typescript as a user runs it: <c>npm ci</c> from its lock file (the official
/// @modelcontextprotocol/sdk from the npm registry), <c>npm run build</c>, then <c>node</c> against a
/// real server over Streamable HTTP with an API key. It stops a sandbox vcluster, which needs a
/// human approver; a different person approves with the CLI while the agent waits.
/// </summary>
public sealed class AgentTypeScriptSampleTests
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

        var run = await AgentSampleRun.RunAsync("ts-agent", node!, [script]);

        run.AssertApprovedByAnotherHumanAndExecuted();
        Assert.True(Regex.IsMatch(run.Output, @"discovered \d+ tools \([1-9]\d* can change something\)"), run.Output);
        Assert.True(Regex.IsMatch(run.Output, @"runtime dev = rt_\w+ \(running\)"), run.Output);

        // The server's own record agrees: the stop ran as the agent's key, approved by the ops lead.
        var (auditCode, audit, auditErr) = await ServerProcess.RunAsync("audit", "export", "--data-dir", run.DataDir);
        Assert.True(auditCode == 0, auditErr);
        Assert.Contains("key:ts-agent", audit, StringComparison.Ordinal);
        Assert.Contains("key:ops-lead", audit, StringComparison.Ordinal);
        Assert.Contains("free the nodes overnight", audit, StringComparison.Ordinal);
    }
}
