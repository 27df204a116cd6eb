using System.Net;
using k8s;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.Tests.Cluster;

public sealed class KubeClusterTests
{
    [Fact]
    public async Task CallAsync_SimulatorKubeconfig_ListsNodesThroughKubernetesClient()
    {
        await using var sim = await SimCluster.StartAsync();

        var nodes = await sim.Cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), CancellationToken.None);

        Assert.Equal(["kubesim-node-1", "kubesim-node-2", "kubesim-node-3"], nodes.Items.Select(n => n.Metadata.Name).Order());
        Assert.Equal("kubesim", sim.Cluster.ContextName);
    }

    [Fact]
    public async Task CallAsync_TwoInjected503s_RetriesAndSucceeds()
    {
        await using var sim = await SimCluster.StartAsync();
        sim.Server.Faults.FailRequests(503, "/api/v1/namespaces", "GET", times: 2);

        var namespaces = await sim.Cluster.CallAsync("list namespaces", (c, ct) => c.CoreV1.ListNamespaceAsync(cancellationToken: ct), CancellationToken.None);

        Assert.Contains(namespaces.Items, n => n.Metadata.Name == "default");
    }

    [Fact]
    public async Task CallAsync_PersistentServerErrors_ReportsUnreachableAfterRetries()
    {
        await using var sim = await SimCluster.StartAsync();
        sim.Server.Faults.FailRequests(503, "/api/v1/namespaces", "GET");

        var ex = await Assert.ThrowsAsync<KubeApiException>(() =>
            sim.Cluster.CallAsync("list namespaces", (c, ct) => c.CoreV1.ListNamespaceAsync(cancellationToken: ct), CancellationToken.None));

        Assert.Equal("unreachable", ex.Code);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Contains("after 3 retries", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("list namespaces:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryCallAsync_MissingObject_ReturnsNullAndCallAsyncNamesIt()
    {
        await using var sim = await SimCluster.StartAsync();

        var missing = await sim.Cluster.TryCallAsync("read secret", (c, ct) => c.CoreV1.ReadNamespacedSecretAsync("nope", "default", cancellationToken: ct), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<KubeApiException>(() =>
            sim.Cluster.CallAsync("read secret default/nope", (c, ct) => c.CoreV1.ReadNamespacedSecretAsync("nope", "default", cancellationToken: ct), CancellationToken.None));

        Assert.Null(missing);
        Assert.Equal("not_found", ex.Code);
        Assert.Contains("secrets \"nope\" not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_TableAccept_ReturnsServerSideRows()
    {
        await using var sim = await SimCluster.StartAsync();

        var table = await sim.Cluster.SendAsync(HttpMethod.Get, "/api/v1/nodes", null, CancellationToken.None, accept: KubeCluster.TableAccept);

        Assert.Equal("Table", table?["kind"]?.GetValue<string>());
        Assert.Equal("Name", table?["columnDefinitions"]?[0]?["name"]?.GetValue<string>());
        Assert.Equal(3, table?["rows"]?.AsArray().Count);
    }

    [Fact]
    public async Task ProbeAsync_StoppedApi_IsUnhealthyThenHealthyAgain()
    {
        await using var sim = await SimCluster.StartAsync();
        Assert.True((await sim.Cluster.ProbeAsync(CancellationToken.None)).Healthy);

        sim.Server.Faults.FailRequests(503, "/readyz");
        var sick = await sim.Cluster.ProbeAsync(CancellationToken.None);
        sim.Server.Faults.ClearErrors();
        var well = await sim.Cluster.ProbeAsync(CancellationToken.None);

        Assert.False(sick.Healthy);
        Assert.Contains("HTTP 503", sick.Detail, StringComparison.Ordinal);
        Assert.True(well.Healthy);
    }

    [Fact]
    public void Constructor_MissingKubeconfig_NamesTheFileAndTheFix()
    {
        var ex = Assert.Throws<ArgumentException>(() => new KubeCluster(new KubeClusterOptions { KubeconfigPath = "/nonexistent/kubeconfig" }, TimeProvider.System));

        Assert.Contains("'/nonexistent/kubeconfig' does not exist", ex.Message, StringComparison.Ordinal);
    }
}
