using System.Text.Json.Nodes;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Inside;
using RuntimeAI.Drivers.Kubernetes.Inside;

namespace RuntimeAI.Drivers.Kubernetes.Tests.Inside;

/// <summary>The observe tools' reader against KubeSim: kinds as kubectl resolves them, Tables, paging, logs.</summary>
public sealed class KubeClusterViewTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Pod", "pods", "")]
    [InlineData("po", "pods", "")]
    [InlineData("pod", "pods", "")]
    [InlineData("deploy", "deployments", "apps")]
    [InlineData("deployments.apps", "deployments", "apps")]
    [InlineData("vm", "virtualmachines", "kubevirt.io")]
    [InlineData("VirtualMachineInstance", "virtualmachineinstances", "kubevirt.io")]
    public async Task ResolveKind_AsKubectlDoes(string asked, string resource, string group)
    {
        await using var sim = await SimCluster.StartAsync();
        using var view = new KubeClusterView(sim.Cluster, "host cluster kubesim", owns: false);

        var kind = await view.ResolveKindAsync(asked, Ct);

        Assert.Equal((resource, group), (kind.Resource, kind.Group));
    }

    [Fact]
    public async Task ResolveKind_CrdCreatedAfterDiscovery_IsFoundByReadingDiscoveryAgain()
    {
        await using var sim = await SimCluster.StartAsync();
        using var view = new KubeClusterView(sim.Cluster, "host cluster kubesim", owns: false);
        await view.ResolveKindAsync("pods", Ct);
        var unknown = await Assert.ThrowsAsync<RuntimeDriverException>(() => view.ResolveKindAsync("widgets", Ct));

        await sim.Cluster.SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", JsonNode.Parse("""
            {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
             "metadata": {"name": "widgets.example.com"},
             "spec": {"group": "example.com", "scope": "Namespaced",
                      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                      "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}
            """), Ct);
        await sim.Cluster.SendAsync(HttpMethod.Post, "/apis/example.com/v1/namespaces/default/widgets", JsonNode.Parse("""
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}
            """), Ct);
        var table = await view.ListAsync(new ResourceListQuery { Kind = "wd", Namespace = "default" }, Ct);

        Assert.Equal("unknown_kind", unknown.Code);
        Assert.Equal("widgets.example.com", table.Kind.Display);
        Assert.Equal("w1", Assert.Single(table.Rows).Cells[0]);
    }

    [Fact]
    public async Task List_Limit_PagesWithTheApiContinueToken()
    {
        await using var sim = await SimCluster.StartAsync();
        using var view = new KubeClusterView(sim.Cluster, "host cluster kubesim", owns: false);
        for (var i = 0; i < 5; i++)
        {
            await sim.Cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps",
                new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = $"c{i}" } }, Ct);
        }

        var first = await view.ListAsync(new ResourceListQuery { Kind = "cm", Namespace = "default", Limit = 3 }, Ct);
        var second = await view.ListAsync(new ResourceListQuery { Kind = "cm", Namespace = "default", Limit = 3, Continue = first.Continue }, Ct);

        Assert.NotNull(first.Continue);
        Assert.Equal(3, first.Rows.Count);
        Assert.Equal(["c0", "c1", "c2", "c3", "c4"], first.Rows.Concat(second.Rows).Select(r => r.Cells[0]).Where(n => n.StartsWith('c')).Order());
        Assert.Equal("Name", first.Columns[0]);
    }
}
