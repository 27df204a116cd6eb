// The state and event graph at scale (issue 9 target: blast-radius query p99 under 10 ms at 100k
// objects). Builds the graph of one cluster from API-shaped JSON (as a list or watch delivers it:
// namespaces of Deployments → ReplicaSets → pods on 100 nodes, Services selecting them,
// ConfigMaps, Secrets and claims the pods read), then measures: build time and rate, managed memory
// per object, the watch-event apply rate (parse + index + change record), and the latency of the
// queries behind get_dependencies (downstream depth 3 from a ConfigMap, upstream from a pod,
// a node's blast radius) and what_changed (the newest changes of the window). A Stopwatch harness
// for memory, rates and p99 latencies, and BenchmarkDotNet for mean/P95/allocations per query:
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Graph              (100,000 objects)
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Graph -- --bdn     (BenchmarkDotNet, minutes)
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Graph -- --smoke   (5,000 objects, and each
//                                                       BenchmarkDotNet benchmark once; CI)
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using System.Text.Json;
using RuntimeAI.Core.Graph;

if (args.Contains("--bdn"))
{
    // In process: no generated project to build, so a busy shared machine does not time the build out.
    var config = DefaultConfig.Instance
        .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(15).WithToolchain(InProcessEmitToolchain.Instance))
        .AddColumn(StatisticColumn.Median, StatisticColumn.P95);
    BenchmarkRunner.Run<GraphQueryBenchmarks>(config, args.Where(a => a != "--bdn").ToArray());
    return 0;
}

var smoke = args.Contains("--smoke");
var target = smoke ? 5_000 : 100_000;
const int Nodes = GraphFixture.Nodes;
var time = new ManualTime(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
var options = new GraphOptions { MaxObjects = 10_000_000, MaxChanges = 1_000_000 };

// The JSON an API would send, generated up front so the build measures the graph, not the generator.
var byKind = GraphFixture.Generate(target, out var namespaces);
var total = byKind.Values.Sum(v => v.Count);
Console.WriteLine($"graph bench{(smoke ? " (smoke)" : "")}: {total:N0} objects in {namespaces} namespaces and {Nodes} nodes; {Environment.ProcessorCount} cores, load {Load()}");

// Build: parse each object as the watcher does and list it into the graph, kind by kind.
var before = Managed();
var build = Stopwatch.StartNew();
var graph = GraphFixture.Build(byKind, options, time);
build.Stop();
var generated = byKind;
byKind = null; // only the graph stays reachable for the memory reading
generated = null;
var after = Managed();
var changesAfterBuild = graph.ChangeCount;
Console.WriteLine($"build: {build.Elapsed.TotalMilliseconds:F0} ms ({total / build.Elapsed.TotalSeconds:N0} objects/s); managed memory {(after - before) / 1048576.0:F1} MiB, {(after - before) / (double)total:F0} bytes/object (with {changesAfterBuild:N0} change records of the initial listing)");

// Watch events: MODIFIED pods (image and phase change) as JSON lines, parsed and applied.
var pods = graph.Objects(o => o.Kind == "pod");
var events = smoke ? 5_000 : 50_000;
var lines = new List<string>(events);
for (var e = 0; e < events; e++)
{
    var p = pods[e % pods.Count];
    var app = p.Label("app");
    lines.Add(GraphFixture.F("""{"type":"MODIFIED","object":{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"@3@","labels":{"app":"@4@","pod-template-hash":"x"},"ownerReferences":[{"uid":"@5@"}]},"spec":{"nodeName":"node-@6@","containers":[{"name":"c","image":"registry.example/@7@:2.@8@"}]},"status":{"phase":"@9@"}}}""", p.Name, p.Namespace, p.Uid, e + 10, app, p.Owners[0], e % Nodes, app, e, (e % 2 == 0 ? "Running" : "Pending")));
}

var apply = Stopwatch.StartNew();
foreach (var line in lines)
{
    time.Advance(TimeSpan.FromMilliseconds(smoke ? 10 : 72)); // the full run spreads the events over the hour of the window
    using var doc = JsonDocument.Parse(line);
    var root = doc.RootElement;
    graph.Apply(root.GetProperty("type").GetString()!, GraphObject.FromJson(root.GetProperty("object"), "pod", graph.Pool)!);
}

apply.Stop();
Console.WriteLine($"watch apply: {events:N0} MODIFIED pod events in {apply.Elapsed.TotalMilliseconds:F0} ms ({events / apply.Elapsed.TotalSeconds:N0} events/s); window holds {graph.ChangeCount:N0} changes");

// Queries, each many times over different starting points.
var random = new Random(7);
var rounds = smoke ? 200 : 2_000;
var configMaps = graph.Objects(o => o.Kind == "configmap" && o.Name.EndsWith('0'));
var deployments = graph.Objects(o => o.Kind == "deployment");
var nodes = graph.Objects(o => o.Kind == "node");
pods = graph.Objects(o => o.Kind == "pod");
Report("get_dependencies configmap downstream depth 3", rounds, () => graph.Traverse(configMaps[random.Next(configMaps.Count)].Key, GraphDirection.Downstream, 3).Count);
Report("get_dependencies deployment downstream depth 3", rounds, () => graph.Traverse(deployments[random.Next(deployments.Count)].Key, GraphDirection.Downstream, 3).Count);
Report("get_dependencies pod upstream depth 2", rounds, () => graph.Traverse(pods[random.Next(pods.Count)].Key, GraphDirection.Upstream, 2).Count);
Report("blast radius of a node (downstream depth 2)", smoke ? 20 : 200, () => graph.Traverse(nodes[random.Next(nodes.Count)].Key, GraphDirection.Downstream, 2).Count);
var now = time.GetUtcNow();
Report("what_changed last 10 min, newest 2,000 (as the tool reads)", rounds, () => graph.Changes(now - TimeSpan.FromMinutes(10), now, limit: 2000).Count);
Report("what_changed whole window, newest 2,000 (as the tool reads)", rounds, () => graph.Changes(now - TimeSpan.FromHours(1), now, limit: 2000).Count);
Report("what_changed whole window, every change (as diff_runtime reads)", smoke ? 20 : 200, () => graph.Changes(now - TimeSpan.FromHours(1), now).Count);
GC.KeepAlive(generated);
if (smoke)
{
    var benchmarks = GraphQueryBenchmarks.Smoke();
    Console.WriteLine($"BenchmarkDotNet benchmarks, each once on 2,000 objects: {benchmarks}");
    return benchmarks.StartsWith("ok", StringComparison.Ordinal) ? 0 : 1;
}

return 0;

static void Report(string what, int rounds, Func<int> query)
{
    query(); // warm
    var samples = new double[rounds];
    var results = 0L;
    for (var i = 0; i < rounds; i++)
    {
        var sw = Stopwatch.StartNew();
        results += query();
        samples[i] = sw.Elapsed.TotalMilliseconds;
    }

    Array.Sort(samples);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{what}: p50 {samples[rounds / 2]:F3} ms, p99 {samples[(int)(rounds * 0.99)]:F3} ms, max {samples[^1]:F3} ms ({results / (double)rounds:F0} results on average, {rounds} runs)"));
}

static long Managed()
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    return GC.GetTotalMemory(forceFullCollection: true);
}

static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
