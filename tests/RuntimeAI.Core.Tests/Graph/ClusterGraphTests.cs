using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Graph;
using RuntimeAI.Core.Inside;

namespace RuntimeAI.Core.Tests.Graph;

/// <summary>The graph's window, state rebuild, caps and the registry's lazy start and idle stop, on a fake clock.</summary>
public sealed class ClusterGraphTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Changes_OlderThanTheWindow_AreForgotten()
    {
        var graph = new ClusterGraph("c", new GraphOptions { ChangeWindow = TimeSpan.FromMinutes(10) }, _time);
        graph.Apply("ADDED", Deployment("old", "1", replicas: 1));
        _time.Advance(TimeSpan.FromMinutes(11));
        graph.Apply("ADDED", Deployment("new", "2", replicas: 1));

        var changes = graph.Changes(DateTimeOffset.MinValue, DateTimeOffset.MaxValue);

        Assert.Equal(["deployment/ns/new"], changes.Select(c => c.Key));
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromMinutes(10), graph.WindowStart);
    }

    [Fact]
    public void Changes_OverTheCountCap_DropTheOldestAndLimitReadsTheNewest()
    {
        var graph = new ClusterGraph("c", new GraphOptions { MaxChanges = 100 }, _time);
        for (var i = 0; i < 150; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            graph.Apply("ADDED", Deployment($"d{i}", "1", replicas: 1));
        }

        var all = graph.Changes(DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        var newest = graph.Changes(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, limit: 3);

        Assert.Equal(100, all.Count);
        Assert.Equal("deployment/ns/d149", all[0].Key);
        Assert.Equal(["deployment/ns/d149", "deployment/ns/d148", "deployment/ns/d147"], newest.Select(c => c.Key));
    }

    [Fact]
    public void StateAt_RebuildsTheObjectAsItWasBeforeLaterChanges()
    {
        var graph = new ClusterGraph("c", new GraphOptions(), _time);
        graph.Apply("ADDED", Deployment("web", "1", replicas: 1));
        _time.Advance(TimeSpan.FromMinutes(1));
        var between = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(1));
        graph.Apply("MODIFIED", Deployment("web", "2", replicas: 3));
        graph.Apply("ADDED", Deployment("later", "3", replicas: 1));

        var then = graph.StateAt(between, _ => true);

        Assert.Equal(1, then["deployment/ns/web"]!.Replicas);
        Assert.Null(then["deployment/ns/later"]);
        Assert.Equal(3, graph.Get("deployment/ns/web")!.Replicas);
        Assert.Equal(["replicas 1 -> 3"], graph.Changes(between, DateTimeOffset.MaxValue, c => c.Type == "modified").Single().Fields);
    }

    [Fact]
    public void ReplaceKind_RecordsWhatTheRelistFoundGoneOrChanged_AndSameVersionIsNoChange()
    {
        var graph = new ClusterGraph("c", new GraphOptions(), _time);
        graph.ReplaceKind("deployment", [Deployment("a", "1", 1), Deployment("b", "1", 1)]);
        var mark = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(1));

        graph.ReplaceKind("deployment", [Deployment("a", "1", 1), Deployment("c", "5", 2)]);

        var changes = graph.Changes(mark.AddTicks(1), DateTimeOffset.MaxValue).Select(c => $"{c.Type} {c.Key}").Order().ToList();
        Assert.Equal(["added deployment/ns/c", "deleted deployment/ns/b"], changes);
        Assert.Equal(2, graph.Count);
    }

    [Fact]
    public void Apply_BeyondMaxObjects_LeavesNewObjectsOutAndSaysCapped()
    {
        var graph = new ClusterGraph("c", new GraphOptions { MaxObjects = 100 }, _time);
        for (var i = 0; i < 120; i++)
        {
            graph.Apply("ADDED", Deployment($"d{i}", "1", 1));
        }

        graph.Apply("MODIFIED", Deployment("d0", "2", 5));

        Assert.Equal(100, graph.Count);
        Assert.True(graph.Capped);
        Assert.Equal(5, graph.Get("deployment/ns/d0")!.Replicas);
    }

    [Fact]
    public async Task Registry_StartsOnFirstQuestion_StopsIdleClusters_AndEvictsTheLeastRecentlyAsked()
    {
        await using var registry = new GraphRegistry(new GraphOptions { IdleAfter = TimeSpan.FromMinutes(5), MaxClusters = 2 }, _time);
        var opened = new List<string>();
        Func<CancellationToken, Task<IClusterView>> Open(string name) => _ =>
        {
            opened.Add(name);
            return Task.FromResult<IClusterView>(new EmptyCluster(name));
        };

        Assert.Empty(registry.Watched);
        var a = await registry.GetAsync("a", "a", Open("a"), TestContext.Current.CancellationToken);
        await registry.GetAsync("a", "a", Open("a"), TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromMinutes(1));
        await registry.GetAsync("b", "b", Open("b"), TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromMinutes(1));
        await registry.GetAsync("c", "c", Open("c"), TestContext.Current.CancellationToken);
        var afterEviction = registry.Watched.Order().ToList();
        _time.Advance(TimeSpan.FromMinutes(4.5));
        await registry.SweepAsync();

        Assert.True(a.Synced);
        Assert.Equal(["a", "b", "c"], opened);
        Assert.Equal(["b", "c"], afterEviction);
        Assert.Equal(["c"], registry.Watched);
    }

    private static GraphObject Deployment(string name, string rv, int replicas) =>
        GraphObject.FromJson(JsonSerializer.SerializeToElement(new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "ns", ["uid"] = "uid-" + name, ["resourceVersion"] = rv },
            ["spec"] = new JsonObject { ["replicas"] = replicas },
        }), "deployment", new StringPool())!;

    /// <summary>A cluster with no objects whose watches wait until stopped.</summary>
    private sealed class EmptyCluster(string name) : IClusterView, IClusterWatchSource
    {
        public string Name => name;

        public bool IsSandbox => true;

        public Task<ResourceKind> ResolveKindAsync(string kind, CancellationToken cancellationToken) =>
            kind == "configmaps" ? Task.FromResult(new ResourceKind("", "v1", "configmaps", "ConfigMap", true))
                : throw new Drivers.RuntimeDriverException("no such kind") { Code = "unknown_kind" };

        public Task<WatchListing> ListForWatchAsync(ResourceKind kind, CancellationToken cancellationToken) =>
            Task.FromResult(new WatchListing([], "1"));

        public async IAsyncEnumerable<ClusterWatchEvent> WatchAsync(ResourceKind kind, string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }

        public Task<ResourceTable> ListAsync(ResourceListQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<(ResourceKind Kind, JsonObject Object)> GetAsync(string kind, string name, string? ns, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<string> ReadLogsAsync(LogQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<ClusterEvent>> ListEventsAsync(ResourceKind? kind, string? name, string? ns, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<PodUsage>> ReadPodUsageAsync(string? ns, string? podPrefix, CancellationToken cancellationToken) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
