using System.Text.Json;
using BenchmarkDotNet.Attributes;
using RuntimeAI.Core.Graph;

/// <summary>
/// The graph's queries and watch-event apply under BenchmarkDotNet (mean, P95, allocations per
/// operation), on the same synthetic cluster as the Stopwatch harness, which keeps the p99 figures.
/// </summary>
[MemoryDiagnoser]
public class GraphQueryBenchmarks
{
    private ClusterGraph _graph = null!;
    private ManualTime _time = null!;
    private string[] _nodes = [];
    private string[] _configMaps = [];
    private string[] _events = [];
    private int _next;

    /// <summary>Objects in the graph.</summary>
    [Params(100_000)]
    public int Objects { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _time = new ManualTime(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        _graph = GraphFixture.Build(GraphFixture.Generate(Objects, out _), new GraphOptions { MaxObjects = 10_000_000, MaxChanges = 1_000_000 }, _time);
        _nodes = _graph.Objects(o => o.Kind == "node").Select(o => o.Key).ToArray();
        // ConfigMaps some workload reads (the others have no dependents to walk).
        _configMaps = _graph.Objects(o => o.Kind == "configmap").Select(o => o.Key)
            .Where(k => _graph.Traverse(k, GraphDirection.Downstream, 1).Count > 0).ToArray();
        var pods = _graph.Objects(o => o.Kind == "pod");
        _events = pods.Take(1000).Select((p, e) => GraphFixture.F(
            """{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"@3@","labels":{"app":"@4@"},"ownerReferences":[{"uid":"@5@"}]},"spec":{"nodeName":"node-@6@","containers":[{"name":"c","image":"registry.example/@4@:2.@7@"}]},"status":{"phase":"Running"}}""",
            p.Name, p.Namespace, p.Uid, "@rv@", p.Label("app"), p.Owners[0], e % GraphFixture.Nodes, e)).ToArray();
    }

    [Benchmark(Description = "blast radius of a node (downstream depth 2)")]
    public int NodeBlastRadius() => _graph.Traverse(_nodes[Next(_nodes.Length)], GraphDirection.Downstream, 2).Count;

    [Benchmark(Description = "drain plan of a node (pods, owners, budgets)")]
    public int NodeDrain() => DrainPlan.Of(_graph, _nodes[Next(_nodes.Length)]).Evicted.Count;

    [Benchmark(Description = "configmap downstream depth 3")]
    public int ConfigMapDownstream() => _graph.Traverse(_configMaps[Next(_configMaps.Length)], GraphDirection.Downstream, 3).Count;

    [Benchmark(Description = "watch event: parse and apply a MODIFIED pod")]
    public int ApplyWatchEvent()
    {
        var n = _next++;
        _time.Advance(TimeSpan.FromMilliseconds(10));
        using var doc = JsonDocument.Parse(_events[n % _events.Length].Replace("@rv@", (n + 10).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        _graph.Apply("MODIFIED", GraphObject.FromJson(doc.RootElement, "pod", _graph.Pool)!);
        return _graph.ChangeCount;
    }

    /// <summary>Each benchmark once on a small graph, checking each answers something (CI's smoke run).</summary>
    public static string Smoke()
    {
        var bench = new GraphQueryBenchmarks { Objects = 2_000 };
        bench.Setup();
        var answers = new[] { bench.NodeBlastRadius(), bench.NodeDrain(), bench.ConfigMapDownstream(), bench.ApplyWatchEvent() };
        return answers.All(a => a > 0) ? $"ok ({string.Join(", ", answers)})" : $"FAILED: a benchmark answered nothing ({string.Join(", ", answers)})";
    }

    private int Next(int length) => _next++ % length;
}
