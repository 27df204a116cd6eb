// A vcluster pause/resume cycle through the RuntimeAI server (MCP client over stdio → pipeline →
// vCluster driver → KubernetesClient) against the same cycle made directly with KubernetesClient
// (the calls the driver makes: find the StatefulSet, patch loft.sh/paused + replicas, delete the
// synced pods, wait; then patch back and wait for readiness), both against one KubeSim (a
// Kubernetes API simulator) on loopback. Both wait with the same 500 ms poll interval, so the
// difference is what the server adds: schema firewall, policy, dry-run reads, audit records,
// SQLite writes, MCP framing. A Stopwatch harness: a cycle is tens of HTTP calls and two waits.
//   dotnet build src/RuntimeAI.Host -c Release
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Kubernetes -- [--iterations 10] [--exe path/to/runtimeai]
//   ... -- --smoke   (one cycle each way: checks the harness works; CI)
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.KubeSim;

var iterations = 10;
string? exe = null;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--iterations") iterations = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    if (args[i] == "--exe") exe = args[i + 1];
}

if (args.Contains("--smoke"))
{
    iterations = 1;
}

exe ??= Path.Combine(FindRoot(), "src", "RuntimeAI.Host", "bin", "Release", "net10.0", "runtimeai");
if (!File.Exists(exe))
{
    Console.Error.WriteLine($"build the server first: dotnet build src/RuntimeAI.Host -c Release ({exe} is missing)");
    return 2;
}

var poll = TimeSpan.FromMilliseconds(500);
await using var sim = await KubeSimServer.StartAsync(new KubeSimOptions
{
    RunControllersInBackground = true,
    ControllerInterval = TimeSpan.FromMilliseconds(20),
    PodStartDelay = TimeSpan.FromMilliseconds(20),
    SeedYaml = """
        vclusters:
          - name: direct
            namespace: vcluster-direct
          - name: served
            namespace: vcluster-served
        """,
}, CancellationToken.None);
var work = Directory.CreateTempSubdirectory("runtimeai-bench-k8s-").FullName;
var kubeconfig = Path.Combine(work, "kubeconfig");
await File.WriteAllTextAsync(kubeconfig, sim.CreateKubeconfigYaml("bench"));
var policies = Path.Combine(work, "policies");
Directory.CreateDirectory(policies);
await File.WriteAllTextAsync(Path.Combine(policies, "allow.yaml"), "id: bench-allow-all\nrules:\n  - id: allow-all\n    kind: allow_action\n");

using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig, "bench"));
await WaitAsync(async () => (await client.AppsV1.ReadNamespacedStatefulSetAsync("direct", "vcluster-direct")).Status?.ReadyReplicas == 1);
await WaitAsync(async () => (await client.AppsV1.ReadNamespacedStatefulSetAsync("served", "vcluster-served")).Status?.ReadyReplicas == 1);

async Task DirectCycleAsync()
{
    const string ns = "vcluster-direct";
    var sts = (await client.AppsV1.ListNamespacedStatefulSetAsync(ns, labelSelector: "app=vcluster,release=direct")).Items.Single();
    var replicas = sts.Spec.Replicas ?? 1;
    await client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(new JsonObject
    {
        ["metadata"] = new JsonObject
        {
            ["resourceVersion"] = sts.Metadata.ResourceVersion,
            ["annotations"] = new JsonObject { ["loft.sh/paused"] = "true", ["loft.sh/paused-replicas"] = replicas.ToString(CultureInfo.InvariantCulture) },
        },
        ["spec"] = new JsonObject { ["replicas"] = 0 },
    }.ToJsonString(), V1Patch.PatchType.MergePatch), "direct", ns);
    await client.CoreV1.DeleteCollectionNamespacedPodAsync(ns, labelSelector: "vcluster.loft.sh/managed-by=direct");
    await WaitAsync(async () => (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=vcluster,release=direct")).Items.Count == 0);
    sts = (await client.AppsV1.ListNamespacedStatefulSetAsync(ns, labelSelector: "app=vcluster,release=direct")).Items.Single();
    await client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(new JsonObject
    {
        ["metadata"] = new JsonObject
        {
            ["resourceVersion"] = sts.Metadata.ResourceVersion,
            ["annotations"] = new JsonObject { ["loft.sh/paused"] = null, ["loft.sh/paused-replicas"] = null },
        },
        ["spec"] = new JsonObject { ["replicas"] = replicas },
    }.ToJsonString(), V1Patch.PatchType.MergePatch), "direct", ns);
    await WaitAsync(async () => (await client.AppsV1.ReadNamespacedStatefulSetAsync("direct", ns)).Status?.ReadyReplicas == replicas);
}

var mcp = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
{
    Command = exe,
    Arguments = ["serve", "--data-dir", Path.Combine(work, "data"), "--kubeconfig", kubeconfig, "--context", "bench", "--autonomy", "autonomous", "--policies", policies],
    Name = "runtimeai",
    StandardErrorLines = _ => { },
}));
await using (mcp)
{
    var list = await mcp.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vcluster" });
    var served = list.StructuredContent!.Value.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "served").GetProperty("id").GetString()!;

    async Task ServedCycleAsync()
    {
        foreach (var tool in new[] { "stop_runtime", "start_runtime" })
        {
            var result = await mcp.CallToolAsync(tool, new Dictionary<string, object?> { ["runtime_id"] = served });
            if (result.IsError == true)
            {
                throw new InvalidOperationException($"{tool}: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text))}");
            }
        }
    }

    // Warm-up: JIT, connections, the server's first policy and audit writes.
    await DirectCycleAsync();
    await ServedCycleAsync();

    var direct = await MeasureAsync(iterations, DirectCycleAsync);
    var server = await MeasureAsync(iterations, ServedCycleAsync);
    Console.WriteLine($"vcluster pause/resume cycle against KubeSim, {iterations} iteration(s), poll interval {poll.TotalMilliseconds} ms (ms)");
    Console.WriteLine($"{"path",-62} {"mean",8} {"p50",8} {"min",8}");
    Print("KubernetesClient directly (the driver's calls)", direct);
    Print("through the server (MCP stdio: stop_runtime + start_runtime)", server);
    Console.WriteLine($"ratio server/direct (p50): {Percentile(server, 50) / Percentile(direct, 50):0.00}");
}

Directory.Delete(work, recursive: true);
return 0;

async Task WaitAsync(Func<Task<bool>> done)
{
    var deadline = Stopwatch.StartNew();
    while (!await done())
    {
        if (deadline.Elapsed > TimeSpan.FromSeconds(60))
        {
            throw new TimeoutException("the simulator did not converge in 60 s");
        }

        await Task.Delay(poll);
    }
}

static async Task<List<double>> MeasureAsync(int n, Func<Task> cycle)
{
    var ms = new List<double>();
    for (var i = 0; i < n; i++)
    {
        var sw = Stopwatch.StartNew();
        await cycle();
        ms.Add(sw.Elapsed.TotalMilliseconds);
    }

    return ms;
}

static double Percentile(List<double> values, int p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
}

static void Print(string name, List<double> ms) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-62} {ms.Average(),8:0.0} {Percentile(ms, 50),8:0.0} {ms.Min(),8:0.0}"));

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RuntimeAI.Mcp.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
