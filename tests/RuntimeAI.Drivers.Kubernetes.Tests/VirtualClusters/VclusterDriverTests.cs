using k8s;
using k8s.Models;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.VirtualClusters;

namespace RuntimeAI.Drivers.Kubernetes.Tests.VirtualClusters;

public sealed class VclusterDriverTests
{
    private const string Seed = """
        vclusters:
          - name: dev
            namespace: vcluster-dev
            namespaces: [apps]
        """;

    private static RuntimeCreateRequest Request(string name, string size) => new()
    {
        Name = name,
        Type = RuntimeType.Vcluster,
        Labels = new Dictionary<string, string> { ["team"] = "a" },
        Spec = new RuntimeSpec { Size = size },
    };

    [Fact]
    public async Task DiscoverAsync_SeededVcluster_IsRunningWithItsReference()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);

        await SimCluster.EventuallyAsync(async () => (await driver.DiscoverAsync(default)).SingleOrDefault()?.State == RuntimeState.Running, "dev to run");
        var dev = (await driver.DiscoverAsync(TestContext.Current.CancellationToken)).Single();

        Assert.Equal("vcluster:kubesim#vcluster-dev/dev", dev.BackendRef);
        Assert.Equal("dev", dev.Name);
        Assert.Equal("vcluster-dev", dev.Labels["namespace"]);
    }

    [Fact]
    public async Task CreateAsync_Small_RendersTheChartObjectsAndRuns()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);

        var created = await driver.CreateAsync("rt_1", Request("team-a", "small"), TestContext.Current.CancellationToken);

        var k = sim.Client;
        var sts = await k.AppsV1.ReadNamespacedStatefulSetAsync("team-a", "vcluster-team-a", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("vcluster:kubesim#vcluster-team-a/team-a", created.BackendRef);
        Assert.Equal(RuntimeState.Running, created.State);
        Assert.Equal((1, 2048L), (created.Vcpus, created.MemoryMiB));
        Assert.Equal(1, sts.Spec.Replicas);
        Assert.Equal("rt_1", sts.Metadata.Annotations[VclusterNames.RuntimeId]);
        Assert.Equal(VclusterTemplate.Version, sts.Metadata.Annotations[VclusterNames.TemplateVersion]);
        Assert.Equal("2Gi", sts.Spec.Template.Spec.Containers[0].Resources.Requests["memory"].ToString());
        Assert.NotNull(await k.CoreV1.ReadNamespacedServiceAsync("team-a-headless", "vcluster-team-a", cancellationToken: TestContext.Current.CancellationToken));
        Assert.NotNull(await k.CoreV1.ReadNamespacedServiceAccountAsync("vc-team-a", "vcluster-team-a", cancellationToken: TestContext.Current.CancellationToken));
        Assert.NotNull(await k.CoreV1.ReadNamespacedSecretAsync("vc-config-team-a", "vcluster-team-a", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains((await k.CoreV1.ListNamespacedPersistentVolumeClaimAsync("vcluster-team-a", cancellationToken: TestContext.Current.CancellationToken)).Items, c => c.Metadata.Name == "data-team-a-0");
        await SimCluster.EventuallyAsync(async () => (await k.CoreV1.ListNamespacedSecretAsync("vcluster-team-a")).Items.Any(s => s.Metadata.Name == "vc-team-a"), "the kubeconfig Secret vc-team-a");
    }

    [Fact]
    public async Task CreateAsync_ExistingName_FailsAndLeavesNothingNew()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);

        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.CreateAsync("rt_2", Request("dev", "nano") with { Namespace = "vcluster-dev" }, TestContext.Current.CancellationToken));

        Assert.Equal("already_exists", ex.Code);
        Assert.Single((await sim.Client.AppsV1.ListNamespacedStatefulSetAsync("vcluster-dev", cancellationToken: TestContext.Current.CancellationToken)).Items);
    }

    [Fact]
    public async Task StopThenStart_HighAvailability_PausesLikeTheCliAndRestoresTheExactReplicaCount()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_3", Request("ha", "large"), TestContext.Current.CancellationToken);
        var k = sim.Client;
        await SimCluster.EventuallyAsync(async () => (await k.CoreV1.ListNamespacedSecretAsync("vcluster-ha")).Items.Any(s => s.Metadata.Name == "vc-ha"), "vc-ha");
        using (var inside = sim.Inside("vcluster-ha", "ha"))
        {
            await inside.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = "web" },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "nginx", Image = "nginx:1.27" }] },
            }, "default", cancellationToken: TestContext.Current.CancellationToken);
        }

        await SimCluster.EventuallyAsync(async () => (await k.CoreV1.ListNamespacedPodAsync("vcluster-ha", labelSelector: "vcluster.loft.sh/managed-by=ha")).Items.Count == 1, "the synced pod on the host");

        var stopped = await driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);
        var paused = await k.AppsV1.ReadNamespacedStatefulSetAsync("ha", "vcluster-ha", cancellationToken: TestContext.Current.CancellationToken);
        var hostPodsWhilePaused = (await k.CoreV1.ListNamespacedPodAsync("vcluster-ha", cancellationToken: TestContext.Current.CancellationToken)).Items;
        var claimsWhilePaused = (await k.CoreV1.ListNamespacedPersistentVolumeClaimAsync("vcluster-ha", cancellationToken: TestContext.Current.CancellationToken)).Items;
        var started = await driver.StartAsync(created.BackendRef, TestContext.Current.CancellationToken);
        var resumed = await k.AppsV1.ReadNamespacedStatefulSetAsync("ha", "vcluster-ha", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal((RuntimeState.Running, RuntimeState.Stopped), (stopped.PreviousState, stopped.NewState));
        Assert.Equal(0, paused.Spec.Replicas);
        Assert.Equal("true", paused.Metadata.Annotations[VclusterNames.Paused]);
        Assert.Equal("3", paused.Metadata.Annotations[VclusterNames.PausedReplicas]);
        Assert.Empty(hostPodsWhilePaused);
        Assert.Equal(3, claimsWhilePaused.Count);
        Assert.NotNull(await k.CoreV1.ReadNamespacedServiceAsync("ha", "vcluster-ha", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(RuntimeState.Running, started.NewState);
        Assert.Equal(3, resumed.Spec.Replicas);
        Assert.Equal(3, resumed.Status.ReadyReplicas);
        Assert.False(resumed.Metadata.Annotations?.ContainsKey(VclusterNames.Paused) ?? false);
        Assert.False(resumed.Metadata.Annotations?.ContainsKey(VclusterNames.PausedReplicas) ?? false);
        await SimCluster.EventuallyAsync(async () => (await k.CoreV1.ListNamespacedPodAsync("vcluster-ha", labelSelector: "vcluster.loft.sh/managed-by=ha")).Items.Count == 1, "the synced pod back after resume");
    }

    [Fact]
    public async Task StopAsync_AlreadyPaused_SaysSoAndHowToResume()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_4", Request("p", "nano"), TestContext.Current.CancellationToken);
        await driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken));
        var observed = await driver.ObserveAsync(created.BackendRef, TestContext.Current.CancellationToken);

        Assert.Equal("invalid_state", ex.Code);
        Assert.Contains("already paused; start_runtime resumes it", ex.Message, StringComparison.Ordinal);
        Assert.Equal(RuntimeState.Stopped, observed.State);
        Assert.Equal("paused (loft.sh/paused)", observed.Reason);
    }

    [Fact]
    public async Task RestartAsync_Running_ReplacesEveryControlPlanePod()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_5", Request("r", "nano"), TestContext.Current.CancellationToken);
        var before = (await sim.Client.CoreV1.ListNamespacedPodAsync("vcluster-r", labelSelector: "app=vcluster,release=r", cancellationToken: TestContext.Current.CancellationToken)).Items.Single().Metadata.Uid;

        var result = await driver.RestartAsync(created.BackendRef, TestContext.Current.CancellationToken);
        var after = (await sim.Client.CoreV1.ListNamespacedPodAsync("vcluster-r", labelSelector: "app=vcluster,release=r", cancellationToken: TestContext.Current.CancellationToken)).Items.Single();
        var sts = await sim.Client.AppsV1.ReadNamespacedStatefulSetAsync("r", "vcluster-r", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(RuntimeState.Running, result.NewState);
        Assert.NotEqual(before, after.Metadata.Uid);
        Assert.True(sts.Spec.Template.Metadata.Annotations.ContainsKey("kubectl.kubernetes.io/restartedAt"));
    }

    [Fact]
    public async Task ScaleAsync_NanoToLarge_SetsResourcesAndHighAvailabilityReplicas()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_6", Request("s", "nano"), TestContext.Current.CancellationToken);

        var result = await driver.ScaleAsync(created.BackendRef, new ScaleTarget(2, 8192), TestContext.Current.CancellationToken);
        var sts = await sim.Client.AppsV1.ReadNamespacedStatefulSetAsync("s", "vcluster-s", cancellationToken: TestContext.Current.CancellationToken);
        var observed = await driver.ObserveAsync(created.BackendRef, TestContext.Current.CancellationToken);

        Assert.Equal(new ScaleTarget(1, 512), result.PreviousSize);
        Assert.Equal(new ScaleTarget(2, 8192), result.NewSize);
        Assert.Equal(3, sts.Spec.Replicas);
        Assert.Equal("2", sts.Spec.Template.Spec.Containers[0].Resources.Requests["cpu"].ToString());
        Assert.Equal("8Gi", sts.Spec.Template.Spec.Containers[0].Resources.Limits["memory"].ToString());
        Assert.Equal((RuntimeState.Running, 2, 8192L), (observed.State, observed.Vcpus, observed.MemoryMiB));
        Assert.Equal("3/3", observed.Details["control_plane_ready"]);
    }

    [Fact]
    public async Task SnapshotThenRestore_ObjectDeletedInside_ComesBack()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        const string backendRef = "vcluster:kubesim#vcluster-dev/dev";
        await SimCluster.EventuallyAsync(async () => (await driver.ObserveAsync(backendRef, TestContext.Current.CancellationToken)).State == RuntimeState.Running, "dev to run");
        using var inside = sim.Inside("vcluster-dev", "dev");
        await inside.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings" }, Data = new Dictionary<string, string> { ["mode"] = "prod" } }, "apps", cancellationToken: TestContext.Current.CancellationToken);

        var snapshot = await driver.SnapshotAsync(backendRef, "before-upgrade", "nightly", TestContext.Current.CancellationToken);
        await inside.CoreV1.DeleteNamespacedConfigMapAsync("settings", "apps", cancellationToken: TestContext.Current.CancellationToken);
        var listed = await driver.ListSnapshotsAsync(backendRef, TestContext.Current.CancellationToken);
        var restored = await driver.RestoreSnapshotAsync(backendRef, "before-upgrade", TestContext.Current.CancellationToken);
        var back = await inside.CoreV1.ReadNamespacedConfigMapAsync("settings", "apps", cancellationToken: TestContext.Current.CancellationToken);
        var request = await sim.Client.CoreV1.ReadNamespacedConfigMapAsync("dev-snapshot-before-upgrade", "vcluster-dev", cancellationToken: TestContext.Current.CancellationToken);
        await driver.DeleteSnapshotAsync(backendRef, "before-upgrade", TestContext.Current.CancellationToken);

        Assert.Equal("before-upgrade", snapshot.Name);
        Assert.Equal(["before-upgrade"], listed.Select(s => s.Name));
        Assert.Equal("nightly", listed[0].Description);
        Assert.Equal("true", request.Metadata.Labels[VclusterNames.SnapshotRequest]);
        Assert.Contains("container:///data/snapshots/dev-before-upgrade.tar.gz", request.Data["snapshotRequest"], StringComparison.Ordinal);
        Assert.Equal(RuntimeState.Running, restored.NewState);
        Assert.Equal("prod", back.Data["mode"]);
        Assert.Empty(await driver.ListSnapshotsAsync(backendRef, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SnapshotAsync_NameNotValidForKubernetes_IsStoredUnderAValidObjectNameAndListedAsGiven()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        const string backendRef = "vcluster:kubesim#vcluster-dev/dev";
        await SimCluster.EventuallyAsync(async () => (await driver.ObserveAsync(backendRef, TestContext.Current.CancellationToken)).State == RuntimeState.Running, "dev to run");

        await driver.SnapshotAsync(backendRef, "auto-before-op_01ABC-3", null, TestContext.Current.CancellationToken);

        Assert.Equal(["auto-before-op_01ABC-3"], (await driver.ListSnapshotsAsync(backendRef, TestContext.Current.CancellationToken)).Select(s => s.Name));
        Assert.NotNull(await sim.Client.CoreV1.ReadNamespacedConfigMapAsync("dev-snapshot-auto-before-op-01abc-3", "vcluster-dev", cancellationToken: TestContext.Current.CancellationToken));
        await driver.DeleteSnapshotAsync(backendRef, "auto-before-op_01ABC-3", TestContext.Current.CancellationToken);
        Assert.Empty(await driver.ListSnapshotsAsync(backendRef, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task RestoreSnapshotAsync_UnknownName_ListsTheKnownOnes()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        const string backendRef = "vcluster:kubesim#vcluster-dev/dev";
        await SimCluster.EventuallyAsync(async () => (await driver.ObserveAsync(backendRef, TestContext.Current.CancellationToken)).State == RuntimeState.Running, "dev to run");
        await driver.SnapshotAsync(backendRef, "one", null, TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.RestoreSnapshotAsync(backendRef, "two", TestContext.Current.CancellationToken));

        Assert.Equal("not_found", ex.Code);
        Assert.Contains("no snapshot 'two'; list_snapshots shows: one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteAsync_KeepData_KeepsTheClaimsAndTheNamespace()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_7", Request("kd", "nano"), TestContext.Current.CancellationToken);

        var result = await driver.DeleteAsync(created.BackendRef, new DeleteOptions(KeepDisk: true), TestContext.Current.CancellationToken);

        var k = sim.Client;
        Assert.Equal(RuntimeState.Deleted, result.NewState);
        Assert.Empty((await k.AppsV1.ListNamespacedStatefulSetAsync("vcluster-kd", cancellationToken: TestContext.Current.CancellationToken)).Items);
        Assert.Empty((await k.CoreV1.ListNamespacedServiceAsync("vcluster-kd", cancellationToken: TestContext.Current.CancellationToken)).Items);
        Assert.Equal(["data-kd-0"], (await k.CoreV1.ListNamespacedPersistentVolumeClaimAsync("vcluster-kd", cancellationToken: TestContext.Current.CancellationToken)).Items.Select(c => c.Metadata.Name));
        Assert.Contains("kept 1 volume claim(s): data-kd-0", result.Notes);
    }

    [Fact]
    public async Task DeleteAsync_Default_RemovesClaimsAndTheNamespaceItCreated()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_8", Request("gone", "nano"), TestContext.Current.CancellationToken);

        await driver.DeleteAsync(created.BackendRef, new DeleteOptions(KeepDisk: false), TestContext.Current.CancellationToken);

        Assert.DoesNotContain((await sim.Client.CoreV1.ListNamespaceAsync(cancellationToken: TestContext.Current.CancellationToken)).Items, n => n.Metadata.Name == "vcluster-gone" && n.Status?.Phase != "Terminating");
        Assert.Empty(await driver.DiscoverAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task DeleteAsync_NonDeletable_IsRefusedWithTheFix()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_9", Request("keep", "nano"), TestContext.Current.CancellationToken);
        await sim.Client.AppsV1.PatchNamespacedStatefulSetAsync(
            new V1Patch("""{"metadata":{"annotations":{"loft.sh/non-deletable":"true"}}}""", V1Patch.PatchType.MergePatch), "keep", "vcluster-keep", cancellationToken: TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.DeleteAsync(created.BackendRef, new DeleteOptions(false), TestContext.Current.CancellationToken));

        Assert.Equal("protected", ex.Code);
        Assert.Contains("loft.sh/non-deletable=true", ex.Message, StringComparison.Ordinal);
        Assert.Single((await sim.Client.AppsV1.ListNamespacedStatefulSetAsync("vcluster-keep", cancellationToken: TestContext.Current.CancellationToken)).Items);
    }

    [Fact]
    public async Task ObserveAsync_Running_ReportsInsideCountsUsageAndAge()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        const string backendRef = "vcluster:kubesim#vcluster-dev/dev";
        await SimCluster.EventuallyAsync(async () => (await driver.ObserveAsync(backendRef, TestContext.Current.CancellationToken)).Details.ContainsKey("nodes"), "dev's API to answer");

        var observed = await driver.ObserveAsync(backendRef, TestContext.Current.CancellationToken);
        using var inside = sim.Inside("vcluster-dev", "dev");
        var nodesInside = (await inside.CoreV1.ListNodeAsync(cancellationToken: TestContext.Current.CancellationToken)).Items.Count;

        Assert.Equal(RuntimeState.Running, observed.State);
        Assert.Equal(nodesInside.ToString(System.Globalization.CultureInfo.InvariantCulture), observed.Details["nodes"]);
        Assert.Equal("0", observed.Details["pods"]);
        Assert.Equal("1/1", observed.Details["control_plane_ready"]);
        Assert.True(observed.Details.ContainsKey("cpu_usage"));
        Assert.True(observed.MemoryUsedMiB > 0);
        Assert.Matches("^[0-9]+[smhd]$", observed.Details["age"]);
    }

    [Fact]
    public async Task StopAsync_StaleResourceVersionOnce_IsRetriedAndTwice_IsReported()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var created = await driver.CreateAsync("rt_10", Request("c", "nano"), TestContext.Current.CancellationToken);

        sim.Server.Faults.FailRequests(409, "/statefulsets/c", "PATCH", times: 1);
        var once = await driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);
        sim.Server.Faults.FailRequests(409, "/statefulsets/c", "PATCH", times: 2);
        var twice = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.StartAsync(created.BackendRef, TestContext.Current.CancellationToken));

        Assert.Equal(RuntimeState.Stopped, once.NewState);
        Assert.Equal("conflict", twice.Code);
        Assert.Contains("stale twice", twice.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await sim.Client.AppsV1.ReadNamespacedStatefulSetAsync("c", "vcluster-c", cancellationToken: TestContext.Current.CancellationToken)).Spec.Replicas);
    }

    [Fact]
    public async Task AssessAsync_CreateOverQuota_NamesTheQuotaAndTheFix()
    {
        await using var sim = await SimCluster.StartAsync("""
            namespaces: [small-team]
            objects:
              - apiVersion: v1
                kind: ResourceQuota
                metadata: {name: cap, namespace: small-team}
                spec: {hard: {requests.memory: 4Gi}}
            """);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);

        var assessment = await driver.AssessAsync(new PlannedAction(ActionType.Create, null, new ScaleTarget(2, 8192), "big", "small-team"), TestContext.Current.CancellationToken);

        Assert.Equal(["ResourceQuota small-team/cap would be exceeded: requests.memory used 0 + requested 24Gi > hard 4Gi; raise the quota or choose a smaller size"], assessment.BlockingReasons);
    }

    [Fact]
    public async Task AssessAsync_StopUnderBudget_IsBlockedAndListsTheWorkloads()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        const string backendRef = "vcluster:kubesim#vcluster-dev/dev";
        await SimCluster.EventuallyAsync(async () => (await driver.ObserveAsync(backendRef, TestContext.Current.CancellationToken)).Details.ContainsKey("nodes"), "dev's API");
        using (var inside = sim.Inside("vcluster-dev", "dev"))
        {
            await inside.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = "db", Labels = new Dictionary<string, string> { ["app"] = "db" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "pg", Image = "postgres:17" }] },
            }, "apps", cancellationToken: TestContext.Current.CancellationToken);
        }

        await sim.Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "control-plane" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "vcluster" } } },
        }, "vcluster-dev", cancellationToken: TestContext.Current.CancellationToken);
        await SimCluster.EventuallyAsync(async () => (await driver.AssessAsync(new PlannedAction(ActionType.Stop, backendRef, null), TestContext.Current.CancellationToken)).Disrupted.Count == 1
                                                     && (await sim.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("control-plane", "vcluster-dev")).Status?.ExpectedPods == 1, "the synced pod and the budget status");

        var assessment = await driver.AssessAsync(new PlannedAction(ActionType.Stop, backendRef, null), TestContext.Current.CancellationToken);

        Assert.Equal(["pod apps/db"], assessment.Disrupted);
        Assert.Contains(assessment.BlockingReasons, r => r.StartsWith("PodDisruptionBudget vcluster-dev/control-plane (minAvailable 1, 1 healthy) allows 0 disruption(s); the pause would disrupt", StringComparison.Ordinal));
        Assert.Contains(assessment.Notes, n => n.Contains("removes 1 workload pod(s)", StringComparison.Ordinal));
    }
}
