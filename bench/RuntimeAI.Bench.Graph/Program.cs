// The state and event graph at scale (issue 9 target: blast-radius query p99 under 10 ms at 100k
// objects). Builds the graph of one cluster from API-shaped JSON (as a list or watch delivers it:
// namespaces of Deployments → ReplicaSets → pods on 100 nodes, Services selecting them,
// ConfigMaps, Secrets and claims the pods read), then measures: build time and rate, managed memory
// per object, the watch-event apply rate (parse + index + change record), and the latency of the
// queries behind get_dependencies (downstream depth 3 from a ConfigMap, upstream from a pod,
// a node's blast radius) and what_changed (the newest changes of the window). A Stopwatch harness:
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Graph              (100,000 objects)
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Graph -- --smoke   (5,000 objects; CI)
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RuntimeAI.Core.Graph;

var smoke = args.Contains("--smoke");
var target = smoke ? 5_000 : 100_000;
const int PerNamespace = 200; // 5 deployments, 10 replicasets, 100 pods, 5 services, 30 configmaps, 30 secrets, 20 claims
const int Nodes = 100;
var namespaces = Math.Max(1, (target - Nodes) / PerNamespace);
var time = new ManualTime(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
var options = new GraphOptions { MaxObjects = 10_000_000, MaxChanges = 1_000_000 };

// The JSON an API would send, generated up front so the build measures the graph, not the generator.
var byKind = new Dictionary<string, List<string>>
{
    ["node"] = [], ["deployment"] = [], ["replicaset"] = [], ["pod"] = [], ["service"] = [], ["configmap"] = [], ["secret"] = [], ["persistentvolumeclaim"] = [],
};
var uid = 0;
string Uid() => $"uid-{uid++:D8}";
for (var n = 0; n < Nodes; n++)
{
    byKind["node"].Add(F("""{"metadata":{"name":"node-@0@","uid":"@1@","resourceVersion":"1","labels":{"kubernetes.io/hostname":"node-@2@"}},"status":{"conditions":[{"type":"Ready","status":"True"}]}}""", n, Uid(), n));
}

var podIndex = 0;
for (var i = 0; i < namespaces; i++)
{
    var ns = $"team-{i:D4}";
    for (var c = 0; c < 30; c++)
    {
        byKind["configmap"].Add(F("""{"metadata":{"name":"cfg-@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"data":{"k":"v"}}""", c, ns, Uid()));
        byKind["secret"].Add(F("""{"metadata":{"name":"sec-@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"data":{"k":"dg=="}}""", c, ns, Uid()));
    }

    for (var c = 0; c < 20; c++)
    {
        byKind["persistentvolumeclaim"].Add(F("""{"metadata":{"name":"data-@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"status":{"phase":"Bound"}}""", c, ns, Uid()));
    }

    for (var d = 0; d < 5; d++)
    {
        var app = $"app-{d}";
        var deployUid = Uid();
        var template = F("""{"containers":[{"name":"c","image":"registry.example/@0@:1.@1@","envFrom":[{"configMapRef":{"name":"cfg-@2@"}}],"env":[{"name":"P","valueFrom":{"secretKeyRef":{"name":"sec-@3@","key":"k"}}}]}],"volumes":[{"name":"v","configMap":{"name":"cfg-@4@"}},{"name":"s","secret":{"secretName":"sec-@5@"}}]}""", app, d, d * 6, d * 6, d * 6 + 1, d * 6 + 1);
        byKind["deployment"].Add(F("""{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1","generation":1,"labels":{"app":"@3@"}},"spec":{"replicas":20,"selector":{"matchLabels":{"app":"@4@"}},"template":{"metadata":{"labels":{"app":"@5@"}},"spec":@6@}}}""", app, ns, deployUid, app, app, app, template));
        byKind["service"].Add(F("""{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"spec":{"type":"ClusterIP","selector":{"app":"@3@"}}}""", app, ns, Uid(), app));
        for (var r = 0; r < 2; r++)
        {
            var rsUid = Uid();
            var rs = $"{app}-{r}abc{d}";
            byKind["replicaset"].Add(F("""{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1","labels":{"app":"@3@"},"ownerReferences":[{"uid":"@4@"}]},"spec":{"replicas":@5@,"selector":{"matchLabels":{"app":"@6@"}},"template":{"spec":@7@}}}""", rs, ns, rsUid, app, deployUid, (r == 0 ? 0 : 20), app, template));
            if (r == 0)
            {
                continue;
            }

            for (var p = 0; p < 20; p++)
            {
                var claim = p < 4 ? F(""",{"name":"d","persistentVolumeClaim":{"claimName":"data-@0@"}}""", d * 4 + p) : string.Empty;
                byKind["pod"].Add(F("""{"metadata":{"name":"@0@-@1@","namespace":"@2@","uid":"@3@","resourceVersion":"1","labels":{"app":"@4@","pod-template-hash":"abc@5@"},"ownerReferences":[{"uid":"@6@"}]},"spec":{"nodeName":"node-@7@","containers":[{"name":"c","image":"registry.example/@8@:1.@9@","envFrom":[{"configMapRef":{"name":"cfg-@10@"}}]}],"volumes":[{"name":"v","configMap":{"name":"cfg-@11@"}}@12@]},"status":{"phase":"Running"}}""", rs, p.ToString("D5", CultureInfo.InvariantCulture), ns, Uid(), app, d, rsUid, podIndex++ % Nodes, app, d, d * 6, d * 6 + 1, claim));
            }
        }
    }
}

var total = byKind.Values.Sum(v => v.Count);
Console.WriteLine($"graph bench{(smoke ? " (smoke)" : "")}: {total:N0} objects in {namespaces} namespaces and {Nodes} nodes; {Environment.ProcessorCount} cores, load {Load()}");

// Build: parse each object as the watcher does and list it into the graph, kind by kind.
var before = Managed();
var graph = new ClusterGraph("bench", options, time);
var build = Stopwatch.StartNew();
foreach (var (kind, items) in byKind)
{
    var objects = new List<GraphObject>(items.Count);
    foreach (var json in items)
    {
        using var doc = JsonDocument.Parse(json);
        objects.Add(GraphObject.FromJson(doc.RootElement, kind, graph.Pool)!);
    }

    graph.ReplaceKind(kind, objects);
}

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
    lines.Add(F("""{"type":"MODIFIED","object":{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"@3@","labels":{"app":"@4@","pod-template-hash":"x"},"ownerReferences":[{"uid":"@5@"}]},"spec":{"nodeName":"node-@6@","containers":[{"name":"c","image":"registry.example/@7@:2.@8@"}]},"status":{"phase":"@9@"}}}""", p.Name, p.Namespace, p.Uid, e + 10, app, p.Owners[0], e % Nodes, app, e, (e % 2 == 0 ? "Running" : "Pending")));
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

static string F(string template, params object?[] values)
{
    for (var i = 0; i < values.Length; i++)
    {
        template = template.Replace($"@{i}@", Convert.ToString(values[i], CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    return template;
}

static long Managed()
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    return GC.GetTotalMemory(forceFullCollection: true);
}

static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

/// <summary>A clock the bench moves by hand, so the window holds every applied event.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
