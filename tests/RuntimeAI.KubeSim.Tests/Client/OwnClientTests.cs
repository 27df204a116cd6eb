using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.Kubernetes.Client;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Model;
using RuntimeAI.Kubernetes.Watch;

namespace RuntimeAI.KubeSim.Tests.Client;

/// <summary>The project's own Kubernetes client (src/RuntimeAI.Kubernetes) against the simulator, operation by operation.</summary>
public sealed class OwnClientTests
{
    private static KubeApiClient ClientFor(string kubeconfigYaml, KubeApiClientOptions? options = null) =>
        new(KubeConfigLoader.Resolve(KubeConfigLoader.Parse(kubeconfigYaml)), options ?? new KubeApiClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(10) });

    private static async Task<(SimHost Sim, KubeApiClient Client)> StartAsync()
    {
        var sim = await SimHost.StartAsync();
        return (sim, ClientFor(sim.Server.CreateKubeconfigYaml()));
    }

    private static KubeObject ConfigMap(string name, string value = "1", string? label = null)
    {
        var cm = KubeObject.Create("v1", "ConfigMap", name, "default");
        cm.Json["data"] = new JsonObject { ["k"] = value };
        if (label is not null)
        {
            cm.SetLabel("group", label);
        }

        return cm;
    }

    [Fact]
    public async Task VersionAndDiscovery_KubeconfigFromSimulator_Resolve()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;

        var version = await client.GetVersionAsync(TestContext.Current.CancellationToken);
        var vm = await client.ResolveAsync("kubevirt.io/v1", "VirtualMachine", TestContext.Current.CancellationToken);
        var deploy = await client.ResolveAsync("apps/v1", "deployments", TestContext.Current.CancellationToken);

        Assert.Equal("v1.32.0+kubesim", version["gitVersion"]!.GetValue<string>());
        Assert.Equal("virtualmachines", vm.Plural);
        Assert.True(vm.Namespaced);
        Assert.Equal("Deployment", deploy.Kind);
    }

    [Fact]
    public async Task CreateGetReplaceDelete_ConfigMap_RoundTripsWithConflictOnStaleVersion()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;

        var created = await client.CreateAsync(ConfigMap("a"), cancellationToken: TestContext.Current.CancellationToken);
        var fetched = await client.GetAsync(KubeResourceTypes.ConfigMaps, "a", "default", TestContext.Current.CancellationToken);
        fetched.Json["data"]!["k"] = "2";
        var replaced = await client.ReplaceAsync(fetched, cancellationToken: TestContext.Current.CancellationToken);
        created.Json["data"]!["k"] = "3";

        await Assert.ThrowsAsync<KubeConflictException>(() => client.ReplaceAsync(created, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("2", replaced.Json["data"]!["k"]!.GetValue<string>());
        await client.DeleteAsync(KubeResourceTypes.ConfigMaps, "a", "default", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Null(await client.TryGetAsync(KubeResourceTypes.ConfigMaps, "a", "default", TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<KubeNotFoundException>(() => client.GetAsync(KubeResourceTypes.ConfigMaps, "a", "default", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task UpdateAsync_ConcurrentWriter_RetriesOnConflict()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await client.CreateAsync(ConfigMap("a"), cancellationToken: TestContext.Current.CancellationToken);
        var interfered = false;

        var updated = await client.UpdateAsync(KubeResourceTypes.ConfigMaps, "a", obj =>
        {
            if (!interfered)
            {
                interfered = true;
                sim.PatchAsync("api/v1/namespaces/default/configmaps/a", """{"data":{"other":"x"}}""", "application/merge-patch+json").GetAwaiter().GetResult();
            }

            obj.Json["data"]!["k"] = "mine";
            return true;
        }, "default", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("mine", updated.Json["data"]!["k"]!.GetValue<string>());
        Assert.Equal("x", updated.Json["data"]!["other"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListWithSelectorsAndPaging_ListAll_ReturnsEveryMatch()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        for (var i = 0; i < 7; i++)
        {
            await client.CreateAsync(ConfigMap($"cm{i}", label: i % 2 == 0 ? "even" : "odd"), cancellationToken: TestContext.Current.CancellationToken);
        }

        var page = await client.ListAsync(KubeResourceTypes.ConfigMaps, "default", new KubeListOptions { LabelSelector = "group=even", Limit = 2 }, TestContext.Current.CancellationToken);
        var all = new List<string>();
        await foreach (var o in client.ListAllAsync(KubeResourceTypes.ConfigMaps, "default", new KubeListOptions { LabelSelector = "group in (even,odd)", Limit = 3 }, TestContext.Current.CancellationToken))
        {
            all.Add(o.Name!);
        }

        var byField = await client.ListAsync(KubeResourceTypes.ConfigMaps, "default", new KubeListOptions { FieldSelector = "metadata.name=cm3" }, TestContext.Current.CancellationToken);

        Assert.Equal(2, page.Items.Count);
        Assert.NotNull(page.Continue);
        Assert.Equal(2, page.RemainingItemCount);
        Assert.Equal(7, all.Count);
        Assert.Equal("cm3", byField.Items.Single().Name);
    }

    [Fact]
    public async Task ListTable_Pods_ReturnsServerColumns()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var table = await client.ListTableAsync(KubeResourceTypes.Pods, "default", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(new[] { "Name", "Ready", "Status", "Restarts", "Age" }, table.ColumnDefinitions.Take(5).Select(c => c.Name));
        Assert.Single(table.Rows);
    }

    [Fact]
    public async Task Patches_MergeJsonStrategicAndApply_AllTakeEffect()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));

        await client.PatchAsync(KubeResourceTypes.Deployments, "web", KubePatchType.Merge, JsonNode.Parse("""{"metadata":{"labels":{"a":"1"}}}""")!, "default", cancellationToken: TestContext.Current.CancellationToken);
        await client.PatchAsync(KubeResourceTypes.Deployments, "web", KubePatchType.Json, JsonNode.Parse("""[{"op":"replace","path":"/spec/replicas","value":2}]""")!, "default", cancellationToken: TestContext.Current.CancellationToken);
        var strategic = await client.PatchAsync(KubeResourceTypes.Deployments, "web", KubePatchType.StrategicMerge, JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}""")!, "default", cancellationToken: TestContext.Current.CancellationToken);
        var applied = KubeObject.Create("v1", "ConfigMap", "applied", "default");
        applied.Json["data"] = new JsonObject { ["x"] = "y" };
        var result = await client.ApplyAsync(applied, new KubeApplyOptions { FieldManager = "runtimeai-tests" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("1", strategic.Labels["a"]);
        Assert.Equal(2, strategic.Spec!["replicas"]!.GetValue<int>());
        Assert.Equal("nginx:1.28", strategic.Spec["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
        Assert.Equal("y", result.Json["data"]!["x"]!.GetValue<string>());
    }

    [Fact]
    public async Task DryRun_CreateAndDelete_PersistNothing()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await client.CreateAsync(ConfigMap("keep"), cancellationToken: TestContext.Current.CancellationToken);

        await client.CreateAsync(ConfigMap("dry"), new KubeWriteOptions { DryRun = true }, cancellationToken: TestContext.Current.CancellationToken);
        await client.DeleteAsync(KubeResourceTypes.ConfigMaps, "keep", "default", new KubeDeleteOptions { DryRun = true }, TestContext.Current.CancellationToken);

        Assert.Null(await client.TryGetAsync(KubeResourceTypes.ConfigMaps, "dry", "default", TestContext.Current.CancellationToken));
        Assert.NotNull(await client.TryGetAsync(KubeResourceTypes.ConfigMaps, "keep", "default", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Delete_OrphanAndBackground_HonourPropagation()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("a", 1));
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("b", 1));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        await client.DeleteAsync(KubeResourceTypes.Deployments, "a", "default", new KubeDeleteOptions { PropagationPolicy = KubePropagationPolicy.Orphan }, TestContext.Current.CancellationToken);
        await client.DeleteAsync(KubeResourceTypes.Deployments, "b", "default", new KubeDeleteOptions { PropagationPolicy = KubePropagationPolicy.Background }, TestContext.Current.CancellationToken);

        var sets = await client.ListAsync(KubeResourceTypes.ReplicaSets, "default", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Single(sets.Items);
        Assert.StartsWith("a-", sets.Items[0].Name);
    }

    [Fact]
    public async Task Scale_GetAndSet_ChangesReplicas()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));

        var before = await client.GetScaleAsync(KubeResourceTypes.Deployments, "web", "default", TestContext.Current.CancellationToken);
        var after = await client.ScaleAsync(KubeResourceTypes.Deployments, "web", 4, "default", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, before.Spec!.Replicas);
        Assert.Equal(4, after.Spec!.Replicas);
    }

    [Fact]
    public async Task Evict_BudgetViolated_ThrowsTooManyRequests()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));
        await sim.CreateAsync("apis/policy/v1/namespaces/default/poddisruptionbudgets", """{"metadata":{"name":"pdb"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        var pod = (await client.ListAsync(KubeResourceTypes.Pods, "default", cancellationToken: TestContext.Current.CancellationToken)).Items.Single().Name!;

        await Assert.ThrowsAsync<KubeTooManyRequestsException>(() => client.EvictAsync(pod, "default", cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Logs_GetAndFollow_ReturnSyntheticLines()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(10));

        var logs = await client.GetLogsAsync("p1", "default", new KubePodLogOptions { TailLines = 1 }, TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var followed = new List<string>();
        var follow = Task.Run(async () =>
        {
            await foreach (var line in client.FollowLogsAsync("p1", "default", cancellationToken: cts.Token))
            {
                followed.Add(line);
                if (followed.Count >= 5)
                {
                    break;
                }
            }
        }, TestContext.Current.CancellationToken);
        while (!follow.IsCompleted && !cts.IsCancellationRequested)
        {
            sim.Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(30, TestContext.Current.CancellationToken);
        }

        await follow;
        Assert.Single(logs.TrimEnd().Split('\n'));
        Assert.Equal(5, followed.Count);
    }

    [Fact]
    public async Task KubeVirtSubresources_StopAndStart_ThroughSendSubresource()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/kubevirt.io/v1/namespaces/default/virtualmachines",
            """{"metadata":{"name":"vm1"},"spec":{"runStrategy":"Always","instancetype":{"name":"u1.small"},"template":{"spec":{"domain":{"devices":{}}}}}}""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        await client.SendSubresourceAsync(HttpMethod.Put, KubeResourceTypes.VirtualMachineSubresources, "vm1", "stop", new JsonObject(), "default", cancellationToken: TestContext.Current.CancellationToken);
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        var stopped = await client.GetAsync(KubeResourceTypes.VirtualMachines, "vm1", "default", TestContext.Current.CancellationToken);
        var conflict = await Assert.ThrowsAsync<KubeConflictException>(() =>
            client.SendSubresourceAsync(HttpMethod.Put, KubeResourceTypes.VirtualMachineSubresources, "vm1", "stop", new JsonObject(), "default", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("Stopped", stopped.Status!["printableStatus"]!.GetValue<string>());
        Assert.Contains("VM is not running", conflict.Message);
    }

    [Fact]
    public async Task Watch_ChangesThenCompaction_ResumesAndRelistsOnGone()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await client.CreateAsync(ConfigMap("a"), cancellationToken: TestContext.Current.CancellationToken);
        var list = await client.ListAsync(KubeResourceTypes.ConfigMaps, "default", cancellationToken: TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<WatchEvent>();
        var enumerator = client.WatchAsync(KubeResourceTypes.ConfigMaps, "default", new KubeWatchOptions { ResourceVersion = list.ResourceVersion }, cts.Token).GetAsyncEnumerator(cts.Token);

        var next = enumerator.MoveNextAsync().AsTask();
        await client.CreateAsync(ConfigMap("b"), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(await next);
        events.Add(enumerator.Current);

        // Drop the stream and compact history: the client must reconnect, get 410, re-list and report the difference.
        await client.CreateAsync(ConfigMap("c"), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(await enumerator.MoveNextAsync());
        events.Add(enumerator.Current);
        sim.Server.CompactWatchHistory();
        sim.Server.Faults.DropWatches();
        await client.DeleteAsync(KubeResourceTypes.ConfigMaps, "a", "default", cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(await enumerator.MoveNextAsync());
        events.Add(enumerator.Current);
        await enumerator.DisposeAsync();

        Assert.Equal((WatchEventType.Added, "b"), (events[0].Type, events[0].Object.Name));
        Assert.Equal((WatchEventType.Added, "c"), (events[1].Type, events[1].Object.Name));
        Assert.Equal(WatchEventType.Deleted, events[2].Type);
        Assert.Equal("a", events[2].Object.Name);
    }

    [Fact]
    public async Task Retries_InjectedServiceUnavailable_ClientRetriesAndSucceeds()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        sim.Server.Faults.FailRequests(503, pathContains: "/configmaps", method: "GET", times: 2);
        await client.CreateAsync(ConfigMap("a"), cancellationToken: TestContext.Current.CancellationToken);

        var got = await client.GetAsync(KubeResourceTypes.ConfigMaps, "a", "default", TestContext.Current.CancellationToken);

        Assert.Equal("a", got.Name);
    }

    [Fact]
    public async Task VirtualCluster_SecretKubeconfig_ClientTalksToNestedApi()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await client.CreateAsync(KubeObject.Create("v1", "Namespace", "team-a"), cancellationToken: TestContext.Current.CancellationToken);
        var sts = KubeObject.Parse(RuntimeAI.KubeSim.Seeding.SeedLoader.VirtualClusterStatefulSet("dev", "team-a").ToJsonString());
        sts.Json["apiVersion"] = "apps/v1";
        sts.Json["kind"] = "StatefulSet";
        await client.CreateAsync(sts, cancellationToken: TestContext.Current.CancellationToken);
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var secret = await client.GetAsync(KubeResourceTypes.Secrets, "vc-dev", "team-a", TestContext.Current.CancellationToken);
        var kubeconfig = Encoding.UTF8.GetString(Convert.FromBase64String(secret.Json["data"]!["config"]!.GetValue<string>()));
        using var inner = ClientFor(kubeconfig);
        await inner.CreateAsync(ConfigMap("inside"), cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotNull(await inner.TryGetAsync(KubeResourceTypes.ConfigMaps, "inside", "default", TestContext.Current.CancellationToken));
        Assert.Null(await client.TryGetAsync(KubeResourceTypes.ConfigMaps, "inside", "default", TestContext.Current.CancellationToken));
    }
}
