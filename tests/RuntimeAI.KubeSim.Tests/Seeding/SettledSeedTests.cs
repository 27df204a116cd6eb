namespace RuntimeAI.KubeSim.Tests.Seeding;

/// <summary>
/// <see cref="KubeSimOptions.SettleSeed"/>: a seeded world that already existed (the server's --sandbox) answers its
/// first request with its pods running and its VMs at their run strategy; what is created afterwards still waits for
/// the configured delays.
/// </summary>
public sealed class SettledSeedTests
{
    private const string Seed = """
        namespaces: [vms]
        objects:
          - apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: db-vm, namespace: vms}
            spec:
              runStrategy: Always
              instancetype: {kind: VirtualMachineClusterInstancetype, name: u1.medium}
              template:
                metadata: {labels: {kubevirt.io/domain: db-vm}}
                spec:
                  domain: {devices: {}}
        vclusters:
          - name: dev
            namespace: vcluster-dev
            namespaces: [apps]
            objects:
              - apiVersion: v1
                kind: Pod
                metadata: {name: web, namespace: apps}
                spec:
                  containers: [{name: nginx, image: "nginx:1.27"}]
        """;

    [Fact]
    public async Task SettledSeed_FirstAnswer_ShowsRunningVclusterPodsAndVm()
    {
        await using var sim = await SimHost.StartAsync(Seed, o => o.SettleSeed = true);

        var statefulSet = await sim.GetObjectAsync("apis/apps/v1/namespaces/vcluster-dev/statefulsets/dev");
        Assert.Equal(1, statefulSet["status"]!["readyReplicas"]!.GetValue<int>());
        var inside = await sim.GetObjectAsync("vcluster/vcluster-dev/dev/api/v1/namespaces/apps/pods/web");
        Assert.Equal("Running", inside["status"]!["phase"]!.GetValue<string>());
        var vm = await sim.GetObjectAsync("apis/kubevirt.io/v1/namespaces/vms/virtualmachines/db-vm");
        Assert.Equal("Running", vm["status"]!["printableStatus"]!.GetValue<string>());

        // The delays are back once the seed is settled: a new pod waits for PodStartDelay.
        await sim.CreateAsync("vcluster/vcluster-dev/dev/api/v1/namespaces/apps/pods", """{"metadata":{"name":"late"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
        await sim.SettleAsync();
        var late = await sim.GetObjectAsync("vcluster/vcluster-dev/dev/api/v1/namespaces/apps/pods/late");
        Assert.NotEqual("Running", late["status"]?["phase"]?.GetValue<string>());
    }

    [Fact]
    public async Task UnsettledSeed_SeededPodsStartAfterTheirDelay()
    {
        await using var sim = await SimHost.StartAsync(Seed);

        var statefulSet = await sim.GetObjectAsync("apis/apps/v1/namespaces/vcluster-dev/statefulsets/dev");
        Assert.NotEqual(1, statefulSet["status"]?["readyReplicas"]?.GetValue<int>());

        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        statefulSet = await sim.GetObjectAsync("apis/apps/v1/namespaces/vcluster-dev/statefulsets/dev");
        Assert.Equal(1, statefulSet["status"]!["readyReplicas"]!.GetValue<int>());
    }
}
