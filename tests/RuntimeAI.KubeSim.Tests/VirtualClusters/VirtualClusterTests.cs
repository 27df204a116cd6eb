using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Seeding;

namespace RuntimeAI.KubeSim.Tests.VirtualClusters;

public sealed class VirtualClusterTests
{
    private static async Task<SimHost> WithVirtualClusterAsync(string ns = "team-a", string name = "dev")
    {
        var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""");
        await sim.CreateAsync($"apis/apps/v1/namespaces/{ns}/statefulsets", SeedLoader.VirtualClusterStatefulSet(name, ns).ToJsonString());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        return sim;
    }

    [Fact]
    public async Task StatefulSetLabelledVcluster_PodReady_SecretHoldsKubeconfigForNestedApi()
    {
        await using var sim = await WithVirtualClusterAsync();

        var secret = await sim.GetObjectAsync("api/v1/namespaces/team-a/secrets/vc-dev");
        var kubeconfig = Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["config"]!.GetValue<string>()));

        var expected = new Uri(sim.Server.BaseAddress, "vcluster/team-a/dev").ToString();
        Assert.Contains($"server: {expected}", kubeconfig);
        Assert.Contains("team-a/dev", sim.Server.VirtualClusters);
        var nested = await sim.GetObjectAsync("vcluster/team-a/dev/api/v1/namespaces");
        Assert.Contains(nested["items"]!.AsArray(), n => n!["metadata"]!["name"]!.GetValue<string>() == "default");
        Assert.Equal(200, (await sim.GetAsync("api/v1/namespaces/team-a/services/dev")).Status);
    }

    [Fact]
    public async Task NestedApi_ObjectsInside_DoNotAppearOnHost()
    {
        await using var sim = await WithVirtualClusterAsync();

        await sim.CreateAsync("vcluster/team-a/dev/api/v1/namespaces/default/configmaps", SimHost.ConfigMap("inside"));

        Assert.Equal(200, (await sim.GetAsync("vcluster/team-a/dev/api/v1/namespaces/default/configmaps/inside")).Status);
        Assert.Equal(404, (await sim.GetAsync("api/v1/namespaces/default/configmaps/inside")).Status);
    }

    [Fact]
    public async Task NestedPods_SyncedToHost_WithManagedByLabelsAndStatusBack()
    {
        await using var sim = await WithVirtualClusterAsync();
        await sim.CreateAsync("vcluster/team-a/dev/apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 2));

        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var hostPods = (await sim.GetObjectAsync("api/v1/namespaces/team-a/pods?labelSelector=vcluster.loft.sh%2Fmanaged-by%3Ddev"))["items"]!.AsArray();
        Assert.Equal(2, hostPods.Count);
        Assert.All(hostPods, p => Assert.EndsWith("-x-default-x-dev", p!["metadata"]!["name"]!.GetValue<string>()));
        var inside = (await sim.GetObjectAsync("vcluster/team-a/dev/api/v1/namespaces/default/pods"))["items"]!.AsArray();
        Assert.All(inside, p => Assert.Equal("Running", p!["status"]!["phase"]!.GetValue<string>()));
        var deployment = await sim.GetObjectAsync("vcluster/team-a/dev/apis/apps/v1/namespaces/default/deployments/web");
        Assert.Equal(2, deployment["status"]!["readyReplicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task HostQuota_AppliesToSyncedPods()
    {
        await using var sim = await WithVirtualClusterAsync();
        await sim.CreateAsync("api/v1/namespaces/team-a/resourcequotas", """{"metadata":{"name":"q"},"spec":{"hard":{"pods":"2"}}}""");
        await sim.CreateAsync("vcluster/team-a/dev/apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var events = (await sim.GetObjectAsync("vcluster/team-a/dev/api/v1/namespaces/default/events?fieldSelector=reason%3DSyncError"))["items"]!.AsArray();

        Assert.Contains("exceeded quota", events[0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task ScaledToZero_NestedApiAnswers503()
    {
        await using var sim = await WithVirtualClusterAsync();

        await sim.PatchAsync("apis/apps/v1/namespaces/team-a/statefulsets/dev/scale", """{"spec":{"replicas":0}}""", "application/merge-patch+json");
        await sim.SettleAsync();

        var (status, body) = await sim.GetAsync("vcluster/team-a/dev/api/v1/namespaces");
        Assert.Equal(503, status);
        Assert.Equal("ServiceUnavailable", body!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task StatefulSetDeleted_NestedApiGone()
    {
        await using var sim = await WithVirtualClusterAsync();

        await sim.DeleteAsync("apis/apps/v1/namespaces/team-a/statefulsets/dev");
        await sim.SettleAsync();

        Assert.Equal(404, (await sim.GetAsync("vcluster/team-a/dev/api/v1/namespaces")).Status);
        Assert.Equal(404, (await sim.GetAsync("api/v1/namespaces/team-a/secrets/vc-dev")).Status);
        Assert.Empty(sim.Server.VirtualClusters);
    }
}
