using System.Text.Json.Nodes;
using RuntimeAI.Core.Graph;
using RuntimeAI.Drivers.Kubernetes.Inside;

namespace RuntimeAI.Drivers.Kubernetes.Tests.Graph;

/// <summary>
/// The state and event graph kept by watches against KubeSim (a Kubernetes API simulator) through
/// KubernetesClient's HttpClient: every edge kind, changes made through the API, a watch broken
/// long enough to meet 410 Gone, and dropped connections.
/// </summary>
public sealed class GraphWatcherTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Graph_WorkloadWithConfigSecretClaimAndService_HasEveryEdgeKind()
    {
        await using var sim = await SimCluster.StartAsync();
        await SeedShopAsync(sim);
        await using var watcher = await WatchAsync(sim);

        var pod = await EventuallyAsync(watcher, g => g.Objects(o => o.Kind == "pod" && o.Namespace == "shop" && o.Refs.Any(r => r.Edge == EdgeKind.Node)).FirstOrDefault());
        var up = watcher.Graph.Traverse(pod.Key, GraphDirection.Upstream, 1);
        var rs = Assert.Single(up, h => h.Edge == EdgeKind.Owner);
        var deploy = Assert.Single(watcher.Graph.Traverse(rs.Key, GraphDirection.Upstream, 1), h => h.Edge == EdgeKind.Owner);
        var selectedBy = watcher.Graph.Traverse(pod.Key, GraphDirection.Downstream, 1);
        var configUsers = watcher.Graph.Traverse("configmap/shop/settings", GraphDirection.Downstream, 1).Select(h => h.Key).ToList();

        Assert.StartsWith("replicaset/shop/web-", rs.Key, StringComparison.Ordinal);
        Assert.Equal("deployment/shop/web", deploy.Key);
        Assert.Contains(up, h => h is { Edge: EdgeKind.ConfigMap, Key: "configmap/shop/settings", Missing: false });
        Assert.Contains(up, h => h is { Edge: EdgeKind.Secret, Key: "secret/shop/db-credentials", Missing: false });
        Assert.Contains(up, h => h is { Edge: EdgeKind.Volume, Key: "persistentvolumeclaim/shop/data", Missing: false });
        Assert.Contains(up, h => h.Edge == EdgeKind.Node && h.Key.StartsWith("node/kubesim-node-", StringComparison.Ordinal) && !h.Missing);
        Assert.Contains(selectedBy, h => h is { Edge: EdgeKind.Selects, Key: "service/shop/web" });
        Assert.Contains(selectedBy, h => h is { Edge: EdgeKind.Selects, Key: "poddisruptionbudget/shop/web" });
        Assert.Contains("deployment/shop/web", configUsers);
        Assert.Contains(pod.Key, configUsers);
    }

    [Fact]
    public async Task Graph_Depth_LimitsHopsAndDownstreamOfDeploymentReachesItsPodsAndService()
    {
        await using var sim = await SimCluster.StartAsync();
        await SeedShopAsync(sim);
        await using var watcher = await WatchAsync(sim);
        await EventuallyAsync(watcher, g => g.Objects(o => o.Kind == "pod" && o.Namespace == "shop").FirstOrDefault());

        var one = watcher.Graph.Traverse("deployment/shop/web", GraphDirection.Downstream, 1);
        var three = watcher.Graph.Traverse("deployment/shop/web", GraphDirection.Downstream, 3);

        Assert.All(one, h => Assert.Equal(1, h.Depth));
        Assert.Contains(one, h => h.Key.StartsWith("replicaset/shop/web-", StringComparison.Ordinal));
        Assert.DoesNotContain(one, h => h.Key.StartsWith("pod/", StringComparison.Ordinal));
        Assert.Contains(three, h => h.Depth == 2 && h.Key.StartsWith("pod/shop/web-", StringComparison.Ordinal));
        Assert.Contains(three, h => h is { Depth: 3, Key: "service/shop/web" });
    }

    [Fact]
    public async Task Graph_ChangeThroughTheApi_IsInTheWindowWithWhatChanged()
    {
        await using var sim = await SimCluster.StartAsync();
        await SeedShopAsync(sim);
        await using var watcher = await WatchAsync(sim);
        var before = TimeProvider.System.GetUtcNow();

        await sim.Cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/web",
            JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}"""), Ct, "application/strategic-merge-patch+json");

        var change = await EventuallyAsync(watcher, g => g.Changes(before, DateTimeOffset.MaxValue, c => c.Key == "deployment/shop/web").FirstOrDefault());
        Assert.Equal("modified", change.Type);
        Assert.Contains("image nginx:1.27 -> nginx:1.28", change.Fields);
        // The rollout follows: a new ReplicaSet appears in the window too.
        await EventuallyAsync(watcher, g => g.Changes(before, DateTimeOffset.MaxValue, c => c.Type == "added" && c.Key.StartsWith("replicaset/shop/web-", StringComparison.Ordinal)).FirstOrDefault());
    }

    [Fact]
    public async Task Watch_BrokenUntilHistoryCompacted_Gets410_RelistsAndConverges()
    {
        await using var sim = await SimCluster.StartAsync();
        await SeedShopAsync(sim);
        await using var watcher = await WatchAsync(sim);

        sim.Server.Faults.HoldWatches();
        await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/shop/configmaps", ConfigMap("while-away"), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/shop/configmaps/settings", null, Ct);
        sim.Server.CompactWatchHistory();
        sim.Server.Faults.ReleaseWatches();

        await EventuallyAsync(watcher, g => g.Get("configmap/shop/while-away"));
        await EventuallyAsync(watcher, g => g.Get("configmap/shop/settings") is null ? "gone" : null);
        Assert.True(watcher.Relists > 0, "the graph converged without relisting");
        // The relist reports what it found changed, like the watch would have.
        Assert.Contains(watcher.Graph.Changes(DateTimeOffset.MinValue, DateTimeOffset.MaxValue), c => c is { Type: "deleted", Key: "configmap/shop/settings" });
        // And the watch goes on from the new listing.
        await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/shop/configmaps", ConfigMap("after-relist"), Ct);
        await EventuallyAsync(watcher, g => g.Get("configmap/shop/after-relist"));
    }

    [Fact]
    public async Task Watch_DroppedConnection_ResumesFromItsResourceVersionWithoutRelisting()
    {
        await using var sim = await SimCluster.StartAsync();
        await SeedShopAsync(sim);
        await using var watcher = await WatchAsync(sim);
        var (relists, resumes) = (watcher.Relists, watcher.Resumes);

        // A drop only ends the watches open at that moment: one being set up just then (a watch
        // renewed after its timeout) is missed, so drop again until the watcher had to resume.
        for (var attempt = 0; attempt < 5 && watcher.Resumes == resumes; attempt++)
        {
            sim.Server.Faults.DropWatches();
            var name = $"after-drop-{attempt}";
            await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/shop/configmaps", ConfigMap(name), Ct);
            await EventuallyAsync(watcher, g => g.Get($"configmap/shop/{name}"));
        }

        Assert.True(watcher.Resumes > resumes, "no drop ever reached an open watch");
        Assert.Equal(relists, watcher.Relists);
    }

    [Fact]
    public async Task Graph_SecretData_IsNeverKept()
    {
        await using var sim = await SimCluster.StartAsync();
        await SeedShopAsync(sim);
        await using var watcher = await WatchAsync(sim);

        var secret = watcher.Graph.Get("secret/shop/db-credentials");

        Assert.NotNull(secret);
        var everything = string.Join('|', watcher.Graph.Objects().SelectMany(o => o.Labels.Select(l => l.Value).Concat(o.Images).Concat(o.Refs.Select(r => r.Key))));
        Assert.DoesNotContain("hunter2", everything, StringComparison.Ordinal);
    }

    internal static async Task SeedShopAsync(SimCluster sim)
    {
        await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces", JsonNode.Parse("""{"metadata":{"name":"shop"}}"""), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/shop/configmaps", ConfigMap("settings"), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/shop/secrets",
            JsonNode.Parse("""{"metadata":{"name":"db-credentials"},"stringData":{"password":"hunter2"}}"""), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/shop/persistentvolumeclaims",
            JsonNode.Parse("""{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"""), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/shop/deployments", JsonNode.Parse("""
            {"metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
             "template":{"metadata":{"labels":{"app":"web"}},"spec":{
               "containers":[{"name":"web","image":"nginx:1.27",
                 "envFrom":[{"configMapRef":{"name":"settings"}}],
                 "env":[{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db-credentials","key":"password"}}}],
                 "resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}],
               "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}]}}}}
            """), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/shop/services",
            JsonNode.Parse("""{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}"""), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Post, "/apis/policy/v1/namespaces/shop/poddisruptionbudgets",
            JsonNode.Parse("""{"metadata":{"name":"web"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}"""), Ct);
    }

    private static JsonNode ConfigMap(string name) => new JsonObject { ["metadata"] = new JsonObject { ["name"] = name }, ["data"] = new JsonObject { ["mode"] = "fast" } };

    private static async Task<GraphWatcher> WatchAsync(SimCluster sim)
    {
        var watcher = new GraphWatcher(
            new ClusterGraph("host cluster kubesim", new GraphOptions(), TimeProvider.System),
            new KubeClusterView(sim.Cluster, "host cluster kubesim", owns: false),
            TimeProvider.System);
        await watcher.StartAsync(Ct);
        await watcher.Synced.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        return watcher;
    }

    private static async Task<T> EventuallyAsync<T>(GraphWatcher watcher, Func<ClusterGraph, T?> probe)
        where T : class
    {
        T? found = null;
        await SimCluster.EventuallyAsync(() => Task.FromResult((found = probe(watcher.Graph)) is not null), $"the graph of {watcher.Graph.Name} (last error: {watcher.LastError ?? "none"})");
        return found!;
    }
}
