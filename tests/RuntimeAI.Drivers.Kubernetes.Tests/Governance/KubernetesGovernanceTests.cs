using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.Cluster;
using RuntimeAI.Drivers.Kubernetes.VirtualClusters;
using RuntimeAI.Drivers.Kubernetes.VirtualMachines;

namespace RuntimeAI.Drivers.Kubernetes.Tests.Governance;

/// <summary>The governance pieces of Core (dry-run, safe mode) over the Kubernetes drivers and KubeSim.</summary>
public sealed class KubernetesGovernanceTests
{
    private const string Seed = """
        namespaces: [small-team]
        objects:
          - apiVersion: v1
            kind: ResourceQuota
            metadata: {name: cap, namespace: small-team}
            spec: {hard: {requests.cpu: "2", requests.memory: 8Gi}}
        vclusters:
          - name: dev
            namespace: vcluster-dev
        """;

    private static Runtime Vcluster(string backendRef) => new()
    {
        Id = "rt_dev",
        Name = "dev",
        Type = RuntimeType.Vcluster,
        State = RuntimeState.Running,
        Backend = new RuntimeBackendRef(BackendKind.VclusterBackend, backendRef),
        Spec = new RuntimeSpec { Resources = new ResourceProfile { Cpu = 1, Memory = "256Mi" } },
        CreatedAt = TimeProvider.System.GetUtcNow(),
    };

    [Fact]
    public async Task SimulateAsync_CreateVclusterOverQuota_IsBlockedWithTheQuotaNamed()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var simulator = new DryRunSimulator(new DriverRegistry([new VclusterDriver(sim.Cluster, TimeProvider.System)]));
        var action = new RuntimeAction
        {
            Type = ActionType.Create,
            Params = new JsonObject { ["name"] = "big", ["type"] = "vcluster", ["namespace"] = "small-team", ["spec"] = new JsonObject { ["size"] = "large" } },
        };

        var report = await simulator.SimulateAsync(null, action, [], TestContext.Current.CancellationToken);

        Assert.True(report.Blocked);
        Assert.Contains("ResourceQuota small-team/cap would be exceeded: requests.cpu used 0 + requested 6 > hard 2; raise the quota or choose a smaller size", report.BlockingReasons);
        Assert.Contains("ResourceQuota small-team/cap would be exceeded: requests.memory used 0 + requested 24Gi > hard 8Gi; raise the quota or choose a smaller size", report.BlockingReasons);
        Assert.Contains("BLOCKED — ResourceQuota small-team/cap", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimulateAsync_StopVclusterUnderBudget_IsBlockedAndListsWhatAPauseRemoves()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        const string backendRef = "vcluster:kubesim#vcluster-dev/dev";
        await SimCluster.EventuallyAsync(async () => (await driver.ObserveAsync(backendRef, TestContext.Current.CancellationToken)).Details.ContainsKey("nodes"), "dev's API");
        using (var inside = sim.Inside("vcluster-dev", "dev"))
        {
            await inside.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = "api", Labels = new Dictionary<string, string> { ["app"] = "api" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "api", Image = "ghcr.io/acme/api:1" }] },
            }, "default", cancellationToken: TestContext.Current.CancellationToken);
        }

        await sim.Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "synced-api" },
            Spec = new V1PodDisruptionBudgetSpec { MinAvailable = 1, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["vcluster.loft.sh/managed-by"] = "dev" } } },
        }, "vcluster-dev", cancellationToken: TestContext.Current.CancellationToken);
        await SimCluster.EventuallyAsync(async () => (await sim.Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("synced-api", "vcluster-dev")).Status?.CurrentHealthy == 1, "the budget to see the synced pod");
        var simulator = new DryRunSimulator(new DriverRegistry([driver]));

        var report = await simulator.SimulateAsync(Vcluster(backendRef), new RuntimeAction { Type = ActionType.Stop }, [], TestContext.Current.CancellationToken);

        Assert.True(report.Blocked);
        Assert.Contains(report.BlockingReasons, r => r.StartsWith("PodDisruptionBudget vcluster-dev/synced-api (minAvailable 1, 1 healthy) allows 0 disruption(s); the pause would disrupt 1", StringComparison.Ordinal));
        Assert.Equal(["pod default/api"], report.Disrupted);
        Assert.Equal("pod default/api", report.ToJsonObject()["blast_radius"]!["workloads"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task ServerErrorStorm_ProbeFails_SafeModeRefusesMutationsAndRecoveryLiftsIt()
    {
        await using var sim = await SimCluster.StartAsync(Seed);
        var vcluster = new VclusterDriver(sim.Cluster, TimeProvider.System);
        var kubevirt = new KubeVirtDriver(sim.Cluster, TimeProvider.System);
        var monitor = new BackendHealthMonitor(new DriverRegistry([vcluster, kubevirt]), TimeProvider.System, NullLogger<BackendHealthMonitor>.Instance);
        const string backendRef = "vcluster:kubesim#vcluster-dev/dev";
        await SimCluster.EventuallyAsync(async () => (await vcluster.ObserveAsync(backendRef, TestContext.Current.CancellationToken)).State == RuntimeState.Running, "dev to run");
        Assert.All(await monitor.ProbeAllAsync(TestContext.Current.CancellationToken), s => Assert.True(s.Healthy));

        sim.Server.Faults.FailRequests(503);
        var during = await monitor.ProbeAllAsync(TestContext.Current.CancellationToken);
        var refused = Assert.Throws<LifecycleException>(() => monitor.ThrowIfReadOnly(vcluster));
        var direct = await Assert.ThrowsAsync<KubeApiException>(() => vcluster.StopAsync(backendRef, new StopOptions(false, TimeSpan.FromSeconds(5)), TestContext.Current.CancellationToken));
        sim.Server.Faults.ClearErrors();
        var after = await monitor.ProbeAllAsync(TestContext.Current.CancellationToken);
        monitor.ThrowIfReadOnly(vcluster);
        var stopped = await vcluster.StopAsync(backendRef, new StopOptions(false, TimeSpan.FromSeconds(5)), TestContext.Current.CancellationToken);

        Assert.Equal(["vcluster:kubesim", "kubevirt:kubesim"], during.Where(s => s.SafeMode).Select(s => s.Backend));
        Assert.Equal("safe_mode", refused.Code);
        Assert.StartsWith("safe mode: read-only — backend vcluster:kubesim stopped answering its health probe at ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("answered /readyz with HTTP 503", refused.Message, StringComparison.Ordinal);
        Assert.Equal("unreachable", direct.Code);
        Assert.Contains("after 3 retries", direct.Message, StringComparison.Ordinal);
        Assert.All(after, s => Assert.False(s.SafeMode));
        Assert.Equal(RuntimeState.Stopped, stopped.NewState);
    }
}
