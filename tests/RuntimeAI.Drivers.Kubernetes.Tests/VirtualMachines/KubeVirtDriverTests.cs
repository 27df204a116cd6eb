using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.VirtualMachines;

namespace RuntimeAI.Drivers.Kubernetes.Tests.VirtualMachines;

public sealed class KubeVirtDriverTests
{
    private const string Seed = """
        namespaces: [team-a]
        objects:
          - apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: db-vm, namespace: team-a}
            spec:
              runStrategy: Always
              instancetype: {kind: VirtualMachineClusterInstancetype, name: u1.medium}
              template:
                metadata: {labels: {kubevirt.io/domain: db-vm}}
                spec:
                  domain: {devices: {}}
        """;

    private const string DbRef = "kubevirt:kubesim#team-a/db-vm";

    private static RuntimeCreateRequest Request(string name, string size, ResourceProfile? resources = null) => new()
    {
        Name = name,
        Type = RuntimeType.Vm,
        Spec = new RuntimeSpec { Size = size, Resources = resources },
    };

    private static async Task<JsonNode> VmAsync(SimCluster sim, string ns, string name) =>
        (await sim.Cluster.SendAsync(HttpMethod.Get, $"/apis/kubevirt.io/v1/namespaces/{ns}/virtualmachines/{name}", null, TestContext.Current.CancellationToken))!;

    private static async Task<KubeVirtDriver> RunningDbAsync(SimCluster sim)
    {
        var driver = new KubeVirtDriver(sim.Cluster, TimeProvider.System);
        await SimCluster.EventuallyAsync(async () => (await driver.ObserveAsync(DbRef, TestContext.Current.CancellationToken)).State == RuntimeState.Running, "db-vm to run");
        return driver;
    }

    [Fact]
    public async Task DiscoverAsync_SeededVm_SizedFromItsInstancetype()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        await RunningDbAsync(sim);
        var driver = new KubeVirtDriver(sim.Cluster, TimeProvider.System);

        var vm = Assert.Single(await driver.DiscoverAsync(TestContext.Current.CancellationToken));

        Assert.Equal((DbRef, "db-vm", RuntimeState.Running, 1, 4096L), (vm.BackendRef, vm.Name, vm.State, vm.Vcpus, vm.MemoryMiB));
    }

    [Fact]
    public async Task CreateAsync_TableSize_UsesTheU1InstancetypeAndRuns()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new KubeVirtDriver(sim.Cluster, TimeProvider.System);

        var created = await driver.CreateAsync("rt_1", Request("web", "small"), TestContext.Current.CancellationToken);
        var vm = await VmAsync(sim, "default", "web");
        var observed = await driver.ObserveAsync(created.BackendRef, TestContext.Current.CancellationToken);

        Assert.Equal("kubevirt:kubesim#default/web", created.BackendRef);
        Assert.Equal((RuntimeState.Running, 1, 2048L), (created.State, created.Vcpus, created.MemoryMiB));
        Assert.Equal("u1.small", vm["spec"]!["instancetype"]!["name"]!.GetValue<string>());
        Assert.Equal("Always", vm["spec"]!["runStrategy"]!.GetValue<string>());
        Assert.Equal("rt_1", vm["metadata"]!["annotations"]!["runtimeai.io/runtime-id"]!.GetValue<string>());
        Assert.Equal("Running", observed.Details["printable_status"]);
        Assert.StartsWith("kubesim-node-", observed.Details["node"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_CustomResources_SetsCoresAndGuestMemory()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new KubeVirtDriver(sim.Cluster, TimeProvider.System);

        var created = await driver.CreateAsync("rt_2", Request("calc", "nano", new ResourceProfile { Cpu = 3, Memory = "3Gi" }), TestContext.Current.CancellationToken);
        var vm = await VmAsync(sim, "default", "calc");

        Assert.Null(vm["spec"]!["instancetype"]);
        Assert.Equal(3, vm["spec"]!["template"]!["spec"]!["domain"]!["cpu"]!["cores"]!.GetValue<int>());
        Assert.Equal("3Gi", vm["spec"]!["template"]!["spec"]!["domain"]!["memory"]!["guest"]!.GetValue<string>());
        Assert.Equal((3, 3072L), (created.Vcpus, created.MemoryMiB));
    }

    [Fact]
    public async Task StopThenStart_FollowTheRunStrategyRules()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = await RunningDbAsync(sim);

        var stopped = await driver.StopAsync(DbRef, new StopOptions(false, TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);
        var halted = (await VmAsync(sim, "team-a", "db-vm"))["spec"]!["runStrategy"]!.GetValue<string>();
        var started = await driver.StartAsync(DbRef, TestContext.Current.CancellationToken);
        var always = (await VmAsync(sim, "team-a", "db-vm"))["spec"]!["runStrategy"]!.GetValue<string>();
        var again = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.StartAsync(DbRef, TestContext.Current.CancellationToken));

        Assert.Equal((RuntimeState.Running, RuntimeState.Stopped), (stopped.PreviousState, stopped.NewState));
        Assert.Equal("Halted", halted);
        Assert.Equal(RuntimeState.Running, started.NewState);
        Assert.Equal("Always", always);
        Assert.Equal("invalid_state", again.Code);
        Assert.StartsWith("KubeVirt refused to start VirtualMachine team-a/db-vm (runStrategy Always, Running):", again.Message, StringComparison.Ordinal);
        Assert.EndsWith("runStrategy Always keeps it running already; stop_runtime first if it must start afresh", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartAsync_Running_RunsANewInstance()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = await RunningDbAsync(sim);
        var before = (await sim.Cluster.SendAsync(HttpMethod.Get, "/apis/kubevirt.io/v1/namespaces/team-a/virtualmachineinstances/db-vm", null, TestContext.Current.CancellationToken))!["metadata"]!["uid"]!.GetValue<string>();

        var result = await driver.RestartAsync(DbRef, TestContext.Current.CancellationToken);
        var after = (await sim.Cluster.SendAsync(HttpMethod.Get, "/apis/kubevirt.io/v1/namespaces/team-a/virtualmachineinstances/db-vm", null, TestContext.Current.CancellationToken))!["metadata"]!["uid"]!.GetValue<string>();

        Assert.Equal(RuntimeState.Running, result.NewState);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task RestartAsync_Halted_SaysToStartInstead()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = await RunningDbAsync(sim);
        await driver.StopAsync(DbRef, new StopOptions(false, TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.RestartAsync(DbRef, TestContext.Current.CancellationToken));

        Assert.Equal("invalid_state", ex.Code);
        Assert.Contains("RunStategy Halted does not support manual restart requests", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("runStrategy Halted means it is stopped: start_runtime instead", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScaleAsync_Running_SwitchesInstancetypeAndAsksForARestart()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = await RunningDbAsync(sim);

        var result = await driver.ScaleAsync(DbRef, new ScaleTarget(2, 8192), TestContext.Current.CancellationToken);
        var vm = await VmAsync(sim, "team-a", "db-vm");

        Assert.Equal("u1.large", vm["spec"]!["instancetype"]!["name"]!.GetValue<string>());
        Assert.Equal(new ScaleTarget(1, 4096), result.PreviousSize);
        Assert.True(result.RestartRequired);
        Assert.Equal(RuntimeState.Running, result.NewState);
    }

    [Fact]
    public async Task SnapshotThenRestore_RunningVm_StopsRestoresTheSpecAndStartsAgain()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = await RunningDbAsync(sim);

        var snapshot = await driver.SnapshotAsync(DbRef, "pre-scale", "before scaling", TestContext.Current.CancellationToken);
        await driver.ScaleAsync(DbRef, new ScaleTarget(2, 8192), TestContext.Current.CancellationToken);
        var listed = await driver.ListSnapshotsAsync(DbRef, TestContext.Current.CancellationToken);
        var restored = await driver.RestoreSnapshotAsync(DbRef, "pre-scale", TestContext.Current.CancellationToken);
        var vm = await VmAsync(sim, "team-a", "db-vm");

        Assert.Equal("pre-scale", snapshot.Name);
        Assert.Equal(("pre-scale", "before scaling"), (listed.Single().Name, listed.Single().Description));
        Assert.Equal("u1.medium", vm["spec"]!["instancetype"]!["name"]!.GetValue<string>());
        Assert.Equal((RuntimeState.Running, RuntimeState.Running), (restored.PreviousState, restored.NewState));
        Assert.Contains("stopped for the restore (KubeVirt restores only a stopped VM)", restored.Notes);
    }

    [Fact]
    public async Task DeleteAsync_Default_RemovesTheVmAndItsSnapshots()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = await RunningDbAsync(sim);
        await driver.SnapshotAsync(DbRef, "s1", null, TestContext.Current.CancellationToken);

        var result = await driver.DeleteAsync(DbRef, new DeleteOptions(false), TestContext.Current.CancellationToken);
        var snapshots = await sim.Cluster.SendAsync(HttpMethod.Get, "/apis/snapshot.kubevirt.io/v1beta1/namespaces/team-a/virtualmachinesnapshots", null, TestContext.Current.CancellationToken);

        Assert.Equal(RuntimeState.Deleted, result.NewState);
        Assert.Empty(await driver.DiscoverAsync(TestContext.Current.CancellationToken));
        Assert.Empty(snapshots!["items"]!.AsArray());
        var missing = await Assert.ThrowsAsync<RuntimeDriverException>(() => driver.ObserveAsync(DbRef, TestContext.Current.CancellationToken));
        Assert.Equal("not_found", missing.Code);
    }

    [Fact]
    public async Task AssessAsync_StopUnderBudget_IsBlocked()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = await RunningDbAsync(sim);
        await sim.Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "db" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["vm.kubevirt.io/name"] = "db-vm" } } },
        }, "team-a", cancellationToken: TestContext.Current.CancellationToken);
        await SimCluster.EventuallyAsync(async () => (await sim.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("db", "team-a")).Status?.ExpectedPods == 1, "the budget's status");

        var assessment = await driver.AssessAsync(new PlannedAction(ActionType.Stop, DbRef, null), TestContext.Current.CancellationToken);

        var reason = Assert.Single(assessment.BlockingReasons);
        Assert.StartsWith("PodDisruptionBudget team-a/db (minAvailable 1, 1 healthy) allows 0 disruption(s); the stop would disrupt 1", reason, StringComparison.Ordinal);
        Assert.Single(assessment.Disrupted);
    }

    [Fact]
    public async Task AssessAsync_CreateBeyondEveryNode_NamesTheRoomThereIs()
    {
        await using var sim = await SimCluster.StartAsync();
        var driver = new KubeVirtDriver(sim.Cluster, TimeProvider.System);

        var assessment = await driver.AssessAsync(new PlannedAction(ActionType.Create, null, new ScaleTarget(8, 65536), "huge", null), TestContext.Current.CancellationToken);

        var reason = Assert.Single(assessment.BlockingReasons);
        Assert.StartsWith("no node can fit the virt-launcher pod (800m CPU / 65756 MiB", reason, StringComparison.Ordinal);
    }
}
