namespace RuntimeAI.KubeSim.Tests.Api;

public sealed class SeedTests
{
    private static string SamplePath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "samples", "kubesim-seed.yaml")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("samples/kubesim-seed.yaml not found above the test directory"), "samples", "kubesim-seed.yaml");
    }

    [Fact]
    public async Task SampleSeed_Loaded_CreatesNodesNamespacesWorkloadsAndVirtualCluster()
    {
        await using var sim = await SimHost.StartAsync(configure: o => o.SeedFile = SamplePath());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var nodes = (await sim.GetObjectAsync("api/v1/nodes"))["items"]!.AsArray();
        Assert.Equal(3, nodes.Count);
        Assert.Contains(nodes, n => n!["metadata"]!["labels"]!["node-role.kubernetes.io/control-plane"] is not null);
        Assert.Equal(200, (await sim.GetAsync("api/v1/namespaces/team-a")).Status);
        var web = await sim.GetObjectAsync("apis/apps/v1/namespaces/team-a/deployments/web");
        Assert.Equal(web["spec"]!["replicas"]!.GetValue<int>(), web["status"]!["readyReplicas"]!.GetValue<int>());
        Assert.Equal("Running", (await sim.GetObjectAsync("apis/kubevirt.io/v1/namespaces/team-a/virtualmachines/db-vm"))["status"]!["printableStatus"]!.GetValue<string>());
        Assert.Equal(200, (await sim.GetAsync("api/v1/namespaces/vcluster-dev/secrets/vc-dev")).Status);
        Assert.Equal(200, (await sim.GetAsync("vcluster/vcluster-dev/dev/api/v1/namespaces/apps/configmaps/settings")).Status);
    }

    [Fact]
    public async Task InlineSeed_PlainManifests_AreCreated()
    {
        await using var sim = await SimHost.StartAsync("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: extra}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: c, namespace: extra}
            data: {a: "1"}
            """);

        Assert.Equal(200, (await sim.GetAsync("api/v1/namespaces/extra/configmaps/c")).Status);
    }

    [Fact]
    public async Task Start_UnknownKindInSeed_Throws()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => SimHost.StartAsync("apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n"));
    }

    [Fact]
    public async Task Start_RejectedSeed_ReleasesThePort()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        await Assert.ThrowsAsync<InvalidOperationException>(() => SimHost.StartAsync("apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n", o => o.Port = port));
        await using var sim = await SimHost.StartAsync(configure: o => o.Port = port);

        Assert.Equal(port, sim.Server.BaseAddress.Port);
    }
}
