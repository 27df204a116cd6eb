using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Tests.Controllers;

public sealed class WorkloadControllerTests
{
    private static async Task<JsonArray> PodsAsync(SimHost sim, string ns = "default") =>
        (await sim.GetObjectAsync($"api/v1/namespaces/{ns}/pods"))["items"]!.AsArray();

    [Fact]
    public async Task Deployment_Created_ReplicaSetAndPodsBecomeReadyAfterDelay()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 3));

        await sim.SettleAsync();
        var pending = await PodsAsync(sim);
        Assert.Equal(3, pending.Count);
        Assert.All(pending, p => Assert.Equal("Pending", p!["status"]!["phase"]!.GetValue<string>()));
        Assert.All(pending, p => Assert.Equal("ContainerCreating", p!["status"]!["containerStatuses"]![0]!["state"]!["waiting"]!["reason"]!.GetValue<string>()));

        sim.Time.Advance(TimeSpan.FromSeconds(2));
        await sim.SettleAsync();

        var running = await PodsAsync(sim);
        Assert.All(running, p => Assert.Equal("Running", p!["status"]!["phase"]!.GetValue<string>()));
        Assert.All(running, p => Assert.StartsWith("10.244.", p!["status"]!["podIP"]!.GetValue<string>()));
        var rs = (await sim.GetObjectAsync("apis/apps/v1/namespaces/default/replicasets"))["items"]![0]!;
        Assert.StartsWith("web-", rs["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(3, rs["status"]!["readyReplicas"]!.GetValue<int>());
        var d = await sim.GetObjectAsync("apis/apps/v1/namespaces/default/deployments/web");
        Assert.Equal(3, d["status"]!["availableReplicas"]!.GetValue<int>());
        Assert.Equal(1, d["status"]!["observedGeneration"]!.GetValue<int>());
        Assert.Contains(d["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Available" && c["status"]!.GetValue<string>() == "True");
    }

    [Fact]
    public async Task Deployment_TemplateChanged_NewReplicaSetTakesOverAndOldScalesToZero()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 2));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        await sim.PatchAsync("apis/apps/v1/namespaces/default/deployments/web", """{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}""", "application/strategic-merge-patch+json");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var sets = (await sim.GetObjectAsync("apis/apps/v1/namespaces/default/replicasets"))["items"]!.AsArray();
        Assert.Equal(2, sets.Count);
        Assert.Contains(sets, s => s!["spec"]!["replicas"]!.GetValue<int>() == 0 && s["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>() == "1");
        Assert.Contains(sets, s => s!["spec"]!["replicas"]!.GetValue<int>() == 2 && s["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>() == "2");
        var pods = await PodsAsync(sim);
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.Equal("nginx:1.28", p!["spec"]!["containers"]![0]!["image"]!.GetValue<string>()));
        var events = (await sim.GetObjectAsync("api/v1/namespaces/default/events?fieldSelector=reason%3DScalingReplicaSet"))["items"]!.AsArray();
        Assert.Contains(events, e => e!["message"]!.GetValue<string>().StartsWith("Scaled down replica set", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StatefulSet_OrderedReady_CreatesPodsOneAtATimeWithStableNames()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/statefulsets", """
            {"metadata":{"name":"db"},"spec":{"replicas":3,"serviceName":"db","selector":{"matchLabels":{"app":"db"}},
             "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"pg","image":"postgres:16"}]}},
             "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"5Gi"}}}}]}}
            """);

        await sim.SettleAsync();
        Assert.Equal(new[] { "db-0" }, (await PodsAsync(sim)).Select(p => p!["metadata"]!["name"]!.GetValue<string>()));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(2, (await PodsAsync(sim)).Count);
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));

        var names = (await PodsAsync(sim)).Select(p => p!["metadata"]!["name"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(new[] { "db-0", "db-1", "db-2" }, names);
        var claims = (await sim.GetObjectAsync("api/v1/namespaces/default/persistentvolumeclaims"))["items"]!.AsArray();
        Assert.Equal(3, claims.Count);
        Assert.All(claims, c => Assert.Equal("Bound", c!["status"]!["phase"]!.GetValue<string>()));
        var sts = await sim.GetObjectAsync("apis/apps/v1/namespaces/default/statefulsets/db");
        Assert.Equal(3, sts["status"]!["readyReplicas"]!.GetValue<int>());

        await sim.PatchAsync("apis/apps/v1/namespaces/default/statefulsets/db/scale", """{"spec":{"replicas":1}}""", "application/merge-patch+json");
        await sim.SettleAsync();
        Assert.Equal(new[] { "db-0" }, (await PodsAsync(sim)).Select(p => p!["metadata"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Scheduler_NoNodeFits_PodStaysPendingUnschedulable()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("huge", cpu: "64"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var pod = await sim.GetObjectAsync("api/v1/namespaces/default/pods/huge");
        var condition = pod["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "PodScheduled")!;

        Assert.Equal("Pending", pod["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("Unschedulable", condition["reason"]!.GetValue<string>());
        Assert.StartsWith("0/3 nodes are available: 3 Insufficient cpu.", condition["message"]!.GetValue<string>());
        var events = (await sim.GetObjectAsync("api/v1/namespaces/default/events?fieldSelector=reason%3DFailedScheduling"))["items"]!.AsArray();
        Assert.Single(events);
    }

    [Fact]
    public async Task Nodes_DefaultWorld_HaveCapacityAllocatableAndReadyCondition()
    {
        await using var sim = await SimHost.StartAsync();

        var node = await sim.GetObjectAsync("api/v1/nodes/kubesim-node-1");

        Assert.Equal("8", node["status"]!["capacity"]!["cpu"]!.GetValue<string>());
        Assert.Equal("32Gi", node["status"]!["capacity"]!["memory"]!.GetValue<string>());
        Assert.Equal("7900m", node["status"]!["allocatable"]!["cpu"]!.GetValue<string>());
        Assert.Equal("32256Mi", node["status"]!["allocatable"]!["memory"]!.GetValue<string>());
        Assert.Contains(node["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Ready" && c["status"]!.GetValue<string>() == "True");
    }

    [Fact]
    public async Task Service_WithSelector_EndpointsListReadyPodIps()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 2));
        var svc = await sim.CreateAsync("api/v1/namespaces/default/services", """{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var ep = await sim.GetObjectAsync("api/v1/namespaces/default/endpoints/web");

        Assert.StartsWith("10.96.", svc["spec"]!["clusterIP"]!.GetValue<string>());
        Assert.Equal(2, ep["subsets"]![0]!["addresses"]!.AsArray().Count);
        Assert.Equal(8080, ep["subsets"]![0]!["ports"]![0]!["port"]!.GetValue<int>());
    }

    [Fact]
    public async Task Logs_Container_GrowsWithSimulatedTimeAndHonoursTail()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/pods", """{"metadata":{"name":"app"},"spec":{"containers":[{"name":"a","image":"example/app:1"},{"name":"b","image":"redis:7"}]}}""");
        var (waiting, _) = await sim.GetAsync("api/v1/namespaces/default/pods/app/log?container=a");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(20));

        var (noContainer, error) = await sim.GetAsync("api/v1/namespaces/default/pods/app/log");
        var (_, a) = await sim.GetAsync("api/v1/namespaces/default/pods/app/log?container=a");
        var (_, tail) = await sim.GetAsync("api/v1/namespaces/default/pods/app/log?container=b&tailLines=2&timestamps=true");

        Assert.Equal(400, waiting);
        Assert.Equal(400, noContainer);
        Assert.Contains("a container name must be specified for pod app, choose one of: [a b]", error!["message"]!.GetValue<string>());
        var lines = a!.GetValue<string>().TrimEnd().Split('\n');
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("{\"level\":\"info\",\"msg\":\"starting a\"", lines[0]);
        var tailLines = tail!.GetValue<string>().TrimEnd().Split('\n');
        Assert.Equal(2, tailLines.Length);
        Assert.Matches("^2026-01-15T09:00:\\d\\d\\.0000000Z 1:M \\* \\d+ changes in 60 seconds", tailLines[1]);
    }

    [Fact]
    public async Task Metrics_PodsAndNodes_MoveOverTimeAndRepeatForSameSeed()
    {
        async Task<(string Cpu1, string Cpu2, string Node)> SampleAsync()
        {
            await using var sim = await SimHost.StartAsync();
            await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1", cpu: "1"));
            await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
            var first = await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p1");
            await sim.AdvanceAsync(TimeSpan.FromMinutes(17));
            var second = await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p1");
            var nodes = await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/nodes");
            return (first["containers"]![0]!["usage"]!["cpu"]!.GetValue<string>(), second["containers"]![0]!["usage"]!["cpu"]!.GetValue<string>(),
                nodes["items"]![0]!["usage"]!["cpu"]!.GetValue<string>());
        }

        var run1 = await SampleAsync();
        var run2 = await SampleAsync();

        Assert.Equal(run1, run2);
        Assert.NotEqual(run1.Cpu1, run1.Cpu2);
        Assert.EndsWith("n", run1.Cpu1);
    }

    [Fact]
    public async Task BackgroundControllers_RealClock_PodRunsWithoutManualSteps()
    {
        await using var server = await KubeSimServer.StartAsync(new KubeSimOptions { PodStartDelay = TimeSpan.FromMilliseconds(100) }, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var content = new StringContent(SimHost.Pod("p1"), System.Text.Encoding.UTF8, "application/json");
        (await http.PostAsync("api/v1/namespaces/default/pods", content, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        string? phase = null;
        for (var i = 0; i < 100 && phase != "Running"; i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            phase = JsonNode.Parse(await http.GetStringAsync("api/v1/namespaces/default/pods/p1", TestContext.Current.CancellationToken))!["status"]!["phase"]!.GetValue<string>();
        }

        Assert.Equal("Running", phase);
    }
}

public sealed class RolloutHistoryTests
{
    [Fact]
    public async Task Rollback_ToOlderTemplate_ReusesItsReplicaSetAsNewestRevision()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        var first = (await sim.GetObjectAsync("apis/apps/v1/namespaces/default/replicasets"))["items"]![0]!["metadata"]!["name"]!.GetValue<string>();
        await sim.PatchAsync("apis/apps/v1/namespaces/default/deployments/web", """{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}""", "application/strategic-merge-patch+json");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        // Field order differs from the original (as after kubectl rollout undo): the template hash must not.
        await sim.PatchAsync("apis/apps/v1/namespaces/default/deployments/web", """{"spec":{"template":{"spec":{"containers":[{"image":"nginx:1.27","name":"main"}]}}}}""", "application/strategic-merge-patch+json");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var sets = (await sim.GetObjectAsync("apis/apps/v1/namespaces/default/replicasets"))["items"]!.AsArray();
        Assert.Equal(2, sets.Count);
        var reused = sets.Single(s => s!["metadata"]!["name"]!.GetValue<string>() == first)!;
        Assert.Equal(1, reused["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("3", reused["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>());
    }
}

public sealed class QuiescenceTests
{
    [Fact]
    public async Task RunControllersOnce_PersistentFailure_SettlesWithoutFurtherWrites()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/resourcequotas", """{"metadata":{"name":"q"},"spec":{"hard":{"pods":"1"}}}""");
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 3));
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("huge", cpu: "64"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var before = (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["metadata"]!["resourceVersion"]!.GetValue<string>();
        await sim.SettleAsync();
        var after = (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["metadata"]!["resourceVersion"]!.GetValue<string>();

        Assert.Equal(before, after);
        var failed = (await sim.GetObjectAsync("api/v1/namespaces/default/events?fieldSelector=reason%3DFailedCreate"))["items"]!.AsArray().Single()!;
        Assert.True(failed["count"]!.GetValue<int>() <= 2);
    }
}
