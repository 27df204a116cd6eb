using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// The sandbox's two worlds through MCP: libvirt's test:///default VMs beside KubeSim (the
/// Kubernetes API simulator) with its vclusters and KubeVirt VMs.
/// </summary>
public sealed class KubernetesSandboxTests
{
    private static async Task<JsonElement> CallOkAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(result.IsError != true, $"{tool} failed: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text))}");
        return result.StructuredContent!.Value;
    }

    [Fact]
    public async Task ListRuntimes_Sandbox_ShowsVmsOfBothBackendsAndVclusters()
    {
        await using var session = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Advisor, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() },
            CancellationToken.None);

        var page = await CallOkAsync(session.Client, "list_runtimes", new() { ["page_size"] = 100 });
        var rows = page.GetProperty("items").EnumerateArray()
            .Select(r => (Name: r.GetProperty("name").GetString(), Type: r.GetProperty("type").GetString(), Backend: r.GetProperty("backend").GetProperty("ref").GetString()!))
            .ToList();

        Assert.Contains(rows, r => r.Type == "vm" && r.Backend.StartsWith("libvirt:test:///default#", StringComparison.Ordinal));
        Assert.Contains(rows, r => r is { Name: "db-vm", Type: "vm", Backend: "kubevirt:kubesim#vms/db-vm" });
        Assert.Contains(rows, r => r is { Name: "batch-vm", Type: "vm", Backend: "kubevirt:kubesim#vms/batch-vm" });
        Assert.Contains(rows, r => r is { Name: "dev", Type: "vcluster", Backend: "vcluster:kubesim#vcluster-dev/dev" });
        Assert.Contains(rows, r => r is { Name: "staging", Type: "vcluster", Backend: "vcluster:kubesim#vcluster-staging/staging" });
    }

    [Fact]
    public async Task GetRuntimeStatus_SandboxVcluster_ReportsKubernetesDetails()
    {
        await using var session = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Advisor, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() },
            CancellationToken.None);
        var page = await CallOkAsync(session.Client, "list_runtimes", new() { ["type"] = "vcluster", ["page_size"] = 10 });
        var dev = page.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString();

        JsonElement status = default;
        for (var i = 0; i < 100; i++)
        {
            status = await CallOkAsync(session.Client, "get_runtime_status", new() { ["runtime_id"] = dev });
            if (status.GetProperty("state").GetString() == "running" && status.GetProperty("details").TryGetProperty("pods", out _))
            {
                break;
            }

            await Task.Delay(100, cancellationToken: TestContext.Current.CancellationToken);
        }

        Assert.Equal("running", status.GetProperty("state").GetString());
        Assert.Equal("vcluster:kubesim", status.GetProperty("backend").GetString());
        Assert.True(status.GetProperty("sandbox").GetBoolean());
        Assert.Equal("1", status.GetProperty("details").GetProperty("pods").GetString());
        Assert.Equal("1/1", status.GetProperty("details").GetProperty("control_plane_ready").GetString());
    }

    [Fact]
    public async Task Serve_Sandbox_SaysOnStderrThatKubernetesIsASimulator()
    {
        var stderr = new List<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", TestPaths.NewDataDir(), "--sandbox"],
            Name = "runtimeai",
            StandardErrorLines = line =>
            {
                lock (stderr)
                {
                    stderr.Add(line);
                }
            },
        });
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotEmpty(tools);
        lock (stderr)
        {
            Assert.Contains(stderr, l => l.Contains("SANDBOX backend: KubeSim at http://127.0.0.1:", StringComparison.Ordinal)
                                         && l.Contains("a Kubernetes API simulator, not a cluster", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Kubeconfig_ClusterGivenByFile_IsABackendOfItsOwnBesideNoSandbox()
    {
        await using var cluster = await RuntimeAI.KubeSim.KubeSimServer.StartAsync(new RuntimeAI.KubeSim.KubeSimOptions { SeedYaml = SandboxWorld.Seed }, CancellationToken.None);
        var dataDir = TestPaths.NewDataDir();
        Directory.CreateDirectory(dataDir);
        var kubeconfig = Path.Combine(dataDir, "lab.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, cluster.CreateKubeconfigYaml("lab"), cancellationToken: TestContext.Current.CancellationToken);
        var options = new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = AutonomyLevel.Advisor, PoliciesDir = TestPolicies.AllowAll() };
        options.Kubeconfigs.Add(kubeconfig + "#lab");
        await using var session = await InProcessSession.StartAsync(options, CancellationToken.None);

        var page = await CallOkAsync(session.Client, "list_runtimes", new() { ["page_size"] = 100 });
        var refs = page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("backend").GetProperty("ref").GetString()!).Order().ToList();
        var db = page.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "db-vm").GetProperty("id").GetString();
        var status = await CallOkAsync(session.Client, "get_runtime_status", new() { ["runtime_id"] = db });

        Assert.Equal(["kubevirt:lab#vms/batch-vm", "kubevirt:lab#vms/db-vm", "vcluster:lab#vcluster-dev/dev", "vcluster:lab#vcluster-staging/staging"], refs);
        Assert.Equal("kubevirt:lab", status.GetProperty("backend").GetString());
        Assert.False(status.GetProperty("sandbox").GetBoolean());
    }
}
