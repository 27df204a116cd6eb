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
        sim.Server.Faults.FailRequests(503, "/api/v1/nodes", "GET", times: 2);

        var nodes = await sim.Cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), CancellationToken.None);

        Assert.Equal(3, nodes.Items.Count);
    }

    [Fact]
    public async Task CallAsync_PersistentServerErrors_ReportsUnreachableAfterRetries()
    {
        await using var sim = await SimCluster.StartAsync();
        sim.Server.Faults.FailRequests(503, "/api/v1/nodes", "GET");

        var ex = await Assert.ThrowsAsync<KubeApiException>(() =>
            sim.Cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), CancellationToken.None));

        Assert.Equal("unreachable", ex.Code);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Contains("after 3 retries", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("list nodes:", ex.Message, StringComparison.Ordinal);
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

    [Fact]
    public async Task CallAsync_ApiStopsAnswering_GivesUpAfterTheRequestTimeoutAndNamesIt()
    {
        await using var sim = await SimCluster.StartAsync(configure: o => new KubeClusterOptions
        {
            KubeconfigPath = o.KubeconfigPath,
            IsSandbox = true,
            RetryDelay = o.RetryDelay,
            RequestTimeout = TimeSpan.FromMilliseconds(300),
            MaxRetries = 1,
        });
        sim.Server.Faults.StopAnswering();
        try
        {
            // Typed and raw requests alike: a hung API server must not hang the caller (the raw path had no bound).
            var typed = await Assert.ThrowsAsync<KubeApiException>(() =>
                sim.Cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
            var raw = await Assert.ThrowsAsync<KubeApiException>(() =>
                sim.Cluster.SendAsync(HttpMethod.Get, "/api/v1/nodes", null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));

            Assert.Equal("unreachable", typed.Code);
            Assert.StartsWith("list nodes: no answer from the Kubernetes API", typed.Message, StringComparison.Ordinal);
            Assert.Contains("within 0.3 s after 1 retries", typed.Message, StringComparison.Ordinal);
            Assert.Equal("unreachable", raw.Code);
        }
        finally
        {
            sim.Server.Faults.ResumeAnswering();
        }
    }

    [Fact]
    public async Task CallAsync_LabelSelectorAndPropagationPolicy_ReachTheServerAsQueryParameters()
    {
        await using var sim = await SimCluster.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        foreach (var (name, tier) in new[] { ("a", "web"), ("b", "web"), ("c", "db") })
        {
            await sim.Cluster.CallAsync("create configmap", (c, t) => c.CoreV1.CreateNamespacedConfigMapAsync(new k8s.Models.V1ConfigMap
            {
                Metadata = new k8s.Models.V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["tier"] = tier, ["app"] = "x" } },
                Data = new Dictionary<string, string> { ["k"] = "v" },
            }, "default", cancellationToken: t), ct);
        }

        var web = await sim.Cluster.CallAsync("list", (c, t) => c.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "app=x,tier in (web)", cancellationToken: t), ct);
        await sim.Cluster.CallAsync("delete", (c, t) => c.CoreV1.DeleteCollectionNamespacedConfigMapAsync("default", labelSelector: "tier=web", cancellationToken: t), ct);
        var left = await sim.Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "app=x", cancellationToken: ct);

        Assert.Equal(["a", "b"], web.Items.Select(m => m.Metadata.Name).Order());
        Assert.Equal("v", web.Items[0].Data["k"]);
        Assert.Equal(["c"], left.Items.Select(m => m.Metadata.Name));
    }

    [Fact]
    public void DriverAssembly_NeverConstructsKubernetesClientsSerializer()
    {
        // Constructing k8s.Kubernetes (or touching KubernetesJson) roots KubernetesClient's serializer
        // context for every API model: more than half of the NativeAOT binary's type data. The drivers
        // use KubeApi over KubeConnection instead; this keeps it that way.
        using var stream = File.OpenRead(typeof(KubeCluster).Assembly.Location);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        var used = new List<string>();
        foreach (var handle in md.MemberReferences)
        {
            var member = md.GetMemberReference(handle);
            if (member.Parent.Kind == System.Reflection.Metadata.HandleKind.TypeReference)
            {
                var type = md.GetTypeReference((System.Reflection.Metadata.TypeReferenceHandle)member.Parent);
                var typeName = $"{md.GetString(type.Namespace)}.{md.GetString(type.Name)}";
                var memberName = md.GetString(member.Name);
                if ((typeName == "k8s.Kubernetes" && memberName == ".ctor") || typeName is "k8s.KubernetesJson" or "k8s.IKubernetes" or "k8s.SourceGenerationContext")
                {
                    used.Add($"{typeName}::{memberName}");
                }
            }
        }

        Assert.Empty(used);
        Assert.Contains(md.MemberReferences, h => md.GetString(md.GetMemberReference(h).Name) == "CreateCredentials");
    }
}
