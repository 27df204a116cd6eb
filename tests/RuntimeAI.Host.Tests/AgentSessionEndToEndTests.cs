using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// An agent-style session against the real executable over stdio with the SDK client, on the
/// sandbox (KubeSim, the Kubernetes API simulator): discover → simulate → pause a vcluster (a
/// destructive change: approved by a different person with an approver key, never the agent's own
/// client) → resume (non-destructive: the client's human approves by elicitation) → audit verify.
/// Each vCluster step is checked with the real kubectl against the same simulator, as a CLI user
/// would see it.
/// </summary>
public sealed class AgentSessionEndToEndTests
{
    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static async Task<JsonElement> CallOkAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(result.IsError != true, $"{tool} failed: {Text(result)}");
        return result.StructuredContent!.Value;
    }

    private static async Task<string> KubectlAsync(string kubeconfig, string home, params string[] args)
    {
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        Assert.SkipWhen(kubectl is null, "kubectl is not on PATH; install it (pkgs.k8s.io) or run scripts/kubectl-tier.sh, which downloads it");
        var start = new ProcessStartInfo(kubectl!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KUBECONFIG"] = kubeconfig;
        start.Environment["HOME"] = home;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return (await stdout).Trim();
    }

    [Fact]
    public async Task AgentSession_SandboxVcluster_SimulateApprovePauseResumeThenAuditVerifies()
    {
        var dataDir = TestPaths.NewDataDir();
        var home = Directory.CreateTempSubdirectory("runtimeai-kubectl-home-").FullName;
        var prompts = new List<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", dataDir, "--sandbox", "--autonomy", "copilot", "--policies", TestPolicies.AllowAll()],
            Name = "runtimeai",
            StandardErrorLines = _ => { },
        });
        var client = await McpClient.CreateAsync(transport, new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    lock (prompts)
                    {
                        prompts.Add(request!.Message);
                    }

                    return ValueTask.FromResult(new ElicitResult
                    {
                        Action = "accept",
                        Content = new Dictionary<string, JsonElement> { ["approve"] = JsonSerializer.SerializeToElement(true) },
                    });
                },
            },
        }, cancellationToken: TestContext.Current.CancellationToken);
        var kubeconfig = Path.Combine(dataDir, "sandbox", "kubesim.kubeconfig");
        await using (client)
        {
            // Discover.
            var vclusters = await CallOkAsync(client, "list_runtimes", new() { ["type"] = "vcluster" });
            var dev = vclusters.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString()!;
            for (var i = 0; i < 100 && (await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = dev })).GetProperty("state").GetString() != "running"; i++)
            {
                await Task.Delay(100, cancellationToken: TestContext.Current.CancellationToken);
            }

            Assert.Equal("1", await KubectlAsync(kubeconfig, home, "get", "statefulset", "dev", "-n", "vcluster-dev", "-o", "jsonpath={.status.readyReplicas}"));
            Assert.Contains("web-x-apps-x-dev", await KubectlAsync(kubeconfig, home, "get", "pods", "-n", "vcluster-dev", "-l", "vcluster.loft.sh/managed-by=dev", "-o", "name"), StringComparison.Ordinal);

            // Simulate.
            var simulated = await CallOkAsync(client, "simulate_action", new() { ["runtime_id"] = dev, ["action"] = new Dictionary<string, object?> { ["type"] = "stop" } });
            Assert.Equal("would need a human approval", simulated.GetProperty("verdict").GetString());
            var simulation = simulated.GetProperty("simulations")[0];
            Assert.False(simulation.GetProperty("blocked").GetBoolean());
            Assert.Equal(["pod apps/web"], simulation.GetProperty("blast_radius").GetProperty("workloads").EnumerateArray().Select(w => w.GetString()));

            // Pause: destructive, so a different person approves out of band (never the agent's client).
            var pending = await CallOkAsync(client, "stop_runtime", new() { ["runtime_id"] = dev, ["reasoning"] = "free the nodes overnight" });
            Assert.Equal("pending_approval", pending.GetProperty("status").GetString());
            Assert.Equal("approver", pending.GetProperty("approval_channel").GetString());
            Assert.DoesNotContain(prompts, p => p.Contains("stop_runtime", StringComparison.Ordinal));
            var proposalId = pending.GetProperty("proposal_id").GetString()!;
            var (keyCode, approverKey, keyErr) = await ServerProcess.RunAsync("keys", "create", "--name", "ops-lead", "--role", "approver", "--human", "--data-dir", dataDir);
            Assert.True(keyCode == 0, keyErr);
            var (approveCode, _, approveErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", approverKey.Trim());
            Assert.True(approveCode == 0, approveErr);
            var paused = await CallOkAsync(client, "stop_runtime", new() { ["runtime_id"] = dev, ["reasoning"] = "free the nodes overnight", ["proposal_id"] = proposalId });
            Assert.Equal("succeeded", paused.GetProperty("status").GetString());
            Assert.Equal("key:ops-lead", paused.GetProperty("actor").GetProperty("approver").GetString());
            Assert.Equal("0 true 1", await KubectlAsync(kubeconfig, home, "get", "statefulset", "dev", "-n", "vcluster-dev",
                "-o", @"jsonpath={.spec.replicas} {.metadata.annotations.loft\.sh/paused} {.metadata.annotations.loft\.sh/paused-replicas}"));
            Assert.Equal(string.Empty, await KubectlAsync(kubeconfig, home, "get", "pods", "-n", "vcluster-dev", "-o", "name"));
            Assert.Contains("service/dev", await KubectlAsync(kubeconfig, home, "get", "services", "-n", "vcluster-dev", "-o", "name"), StringComparison.Ordinal);
            Assert.Equal("stopped", (await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = dev })).GetProperty("state").GetString());

            // Resume: not destructive, so the human in the client may approve it (elicitation).
            var resumed = await CallOkAsync(client, "start_runtime", new() { ["runtime_id"] = dev, ["reasoning"] = "morning" });
            Assert.Equal("succeeded", resumed.GetProperty("status").GetString());
            Assert.Contains(prompts, p => p.Contains("start_runtime", StringComparison.Ordinal) && p.Contains("morning", StringComparison.Ordinal));
            Assert.Equal("1 1", await KubectlAsync(kubeconfig, home, "get", "statefulset", "dev", "-n", "vcluster-dev", "-o", "jsonpath={.spec.replicas} {.status.readyReplicas}"));
            Assert.Equal(string.Empty, await KubectlAsync(kubeconfig, home, "get", "statefulset", "dev", "-n", "vcluster-dev", "-o", @"jsonpath={.metadata.annotations.loft\.sh/paused}"));
            string synced = string.Empty;
            for (var i = 0; i < 100 && !synced.Contains("web-x-apps-x-dev", StringComparison.Ordinal); i++)
            {
                await Task.Delay(100, cancellationToken: TestContext.Current.CancellationToken);
                synced = await KubectlAsync(kubeconfig, home, "get", "pods", "-n", "vcluster-dev", "-l", "vcluster.loft.sh/managed-by=dev", "-o", "name");
            }

            Assert.Contains("web-x-apps-x-dev", synced, StringComparison.Ordinal);
            Assert.Equal("running", (await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = dev })).GetProperty("state").GetString());
        }

        // The audit trail of the whole session verifies.
        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        Assert.True(code == 0, stderr + stdout);
    }
}
