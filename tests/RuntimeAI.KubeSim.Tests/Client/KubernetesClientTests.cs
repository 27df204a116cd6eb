using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace RuntimeAI.KubeSim.Tests.Client;

/// <summary>
/// The official KubernetesClient (the AOT flavour the drivers use) against the simulator, over real
/// HTTP with the simulator's kubeconfig: what a client of a real API server would see.
/// </summary>
public sealed class KubernetesClientTests
{
    private static k8s.Kubernetes ClientFor(string kubeconfigYaml)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(kubeconfigYaml));
        return new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(stream));
    }

    private static async Task<(SimHost Sim, k8s.Kubernetes Client)> StartAsync()
    {
        var sim = await SimHost.StartAsync();
        return (sim, ClientFor(sim.Server.CreateKubeconfigYaml()));
    }

    private static V1ConfigMap ConfigMap(string name, string value = "1", string? group = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = group is null ? null : new Dictionary<string, string> { ["group"] = group } },
        Data = new Dictionary<string, string> { ["k"] = value },
    };

    [Fact]
    public async Task VersionAndDiscovery_KubeconfigFromSimulator_Resolve()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;

        var version = await client.Version.GetCodeAsync(cancellationToken: TestContext.Current.CancellationToken);
        var groups = await client.Apis.GetAPIVersionsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("v1.32.0+kubesim", version.GitVersion);
        Assert.Contains(groups.Groups, g => g.Name == "kubevirt.io");
        Assert.Contains(groups.Groups, g => g.Name == "apps");
    }

    [Fact]
    public async Task CreateReadReplaceDelete_ConfigMap_RoundTripsWithConflictOnStaleVersion()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;

        var created = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "default", cancellationToken: TestContext.Current.CancellationToken);
        var fetched = await client.CoreV1.ReadNamespacedConfigMapAsync("a", "default", cancellationToken: TestContext.Current.CancellationToken);
        fetched.Data["k"] = "2";
        var replaced = await client.CoreV1.ReplaceNamespacedConfigMapAsync(fetched, "a", "default", cancellationToken: TestContext.Current.CancellationToken);
        created.Data["k"] = "3";
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "a", "default", cancellationToken: TestContext.Current.CancellationToken));
        await client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default", cancellationToken: TestContext.Current.CancellationToken);
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespacedConfigMapAsync("a", "default", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("2", replaced.Data["k"]);
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
    }

    [Fact]
    public async Task ListWithSelectorsAndPaging_FollowingContinue_ReturnsEveryMatch()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        for (var i = 0; i < 7; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap($"cm{i}", group: i % 2 == 0 ? "even" : "odd"), "default", cancellationToken: TestContext.Current.CancellationToken);
        }

        var page = await client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "group=even", limit: 2, cancellationToken: TestContext.Current.CancellationToken);
        var all = new List<string>();
        string? token = null;
        do
        {
            var next = await client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "group in (even,odd)", limit: 3, continueParameter: token, cancellationToken: TestContext.Current.CancellationToken);
            all.AddRange(next.Items.Select(c => c.Metadata.Name));
            token = next.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(token));

        var byField = await client.CoreV1.ListNamespacedConfigMapAsync("default", fieldSelector: "metadata.name=cm3", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, page.Items.Count);
        Assert.False(string.IsNullOrEmpty(page.Metadata.ContinueProperty));
        Assert.Equal(2, page.Metadata.RemainingItemCount);
        Assert.Equal(7, all.Count);
        Assert.Equal("cm3", byField.Items.Single().Metadata.Name);
    }

    [Fact]
    public async Task Patches_MergeJsonStrategicAndApply_AllTakeEffect()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));

        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"metadata":{"labels":{"a":"1"}}}""", V1Patch.PatchType.MergePatch), "web", "default", cancellationToken: TestContext.Current.CancellationToken);
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""[{"op":"replace","path":"/spec/replicas","value":2}]""", V1Patch.PatchType.JsonPatch), "web", "default", cancellationToken: TestContext.Current.CancellationToken);
        var strategic = await client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}""", V1Patch.PatchType.StrategicMergePatch), "web", "default", cancellationToken: TestContext.Current.CancellationToken);
        var applied = await client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"x":"y"}}""", V1Patch.PatchType.ApplyPatch), "applied", "default", fieldManager: "runtimeai-tests", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("1", strategic.Metadata.Labels["a"]);
        Assert.Equal(2, strategic.Spec.Replicas);
        Assert.Equal("nginx:1.28", strategic.Spec.Template.Spec.Containers.Single().Image);
        Assert.Equal("y", applied.Data["x"]);
        Assert.Contains(applied.Metadata.ManagedFields, f => f.Manager == "runtimeai-tests");
    }

    [Fact]
    public async Task DryRun_CreateAndDelete_PersistNothing()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("keep"), "default", cancellationToken: TestContext.Current.CancellationToken);

        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("dry"), "default", dryRun: "All", cancellationToken: TestContext.Current.CancellationToken);
        await client.CoreV1.DeleteNamespacedConfigMapAsync("keep", "default", dryRun: "All", cancellationToken: TestContext.Current.CancellationToken);

        var names = (await client.CoreV1.ListNamespacedConfigMapAsync("default", cancellationToken: TestContext.Current.CancellationToken)).Items.Select(c => c.Metadata.Name).ToList();
        Assert.Contains("keep", names);
        Assert.DoesNotContain("dry", names);
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

        await client.AppsV1.DeleteNamespacedDeploymentAsync("a", "default", propagationPolicy: "Orphan", cancellationToken: TestContext.Current.CancellationToken);
        await client.AppsV1.DeleteNamespacedDeploymentAsync("b", "default", propagationPolicy: "Background", cancellationToken: TestContext.Current.CancellationToken);

        var sets = await client.AppsV1.ListNamespacedReplicaSetAsync("default", cancellationToken: TestContext.Current.CancellationToken);
        Assert.StartsWith("a-", Assert.Single(sets.Items).Metadata.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scale_ReadAndPatch_ChangesReplicas()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));

        var before = await client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", "default", cancellationToken: TestContext.Current.CancellationToken);
        var after = await client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":4}}""", V1Patch.PatchType.MergePatch), "web", "default", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, before.Spec.Replicas);
        Assert.Equal(4, after.Spec.Replicas);
    }

    [Fact]
    public async Task Evict_BudgetViolated_Answers429()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));
        await sim.CreateAsync("apis/policy/v1/namespaces/default/poddisruptionbudgets", """{"metadata":{"name":"pdb"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        var pod = (await client.CoreV1.ListNamespacedPodAsync("default", cancellationToken: TestContext.Current.CancellationToken)).Items.Single().Metadata.Name;

        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodEvictionAsync(
            new V1Eviction { Metadata = new V1ObjectMeta { Name = pod, NamespaceProperty = "default" } }, pod, "default", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.TooManyRequests, ex.Response.StatusCode);
        Assert.Contains("disruption budget", ex.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_Tail_ReturnsSyntheticLines()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(10));

        await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync("p1", "default", tailLines: 1, cancellationToken: TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Single(text.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Watch_RawStreamOnTheClientsHttpClient_ReportsAddedObjects()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        var list = await client.CoreV1.ListNamespacedConfigMapAsync("default", cancellationToken: TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // KubernetesClient.Aot has no watch helpers: a watch is a GET with watch=true, one JSON event per line.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(client.BaseUri, $"api/v1/namespaces/default/configmaps?watch=true&resourceVersion={list.Metadata.ResourceVersion}"));
        using var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));

        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b"), "default", cancellationToken: TestContext.Current.CancellationToken);
        var line = await reader.ReadLineAsync(cts.Token);
        var watchEvent = JsonNode.Parse(line!)!;

        Assert.Equal("ADDED", watchEvent["type"]!.GetValue<string>());
        Assert.Equal("b", watchEvent["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task VirtualCluster_SecretKubeconfig_ClientTalksToNestedApi()
    {
        var (sim, client) = await StartAsync();
        await using var _ = sim;
        using var __ = client;
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team-a" } }, cancellationToken: TestContext.Current.CancellationToken);
        var sts = RuntimeAI.KubeSim.Seeding.SeedLoader.VirtualClusterStatefulSet("dev", "team-a");
        await sim.CreateAsync("apis/apps/v1/namespaces/team-a/statefulsets", sts.ToJsonString());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var secret = await client.CoreV1.ReadNamespacedSecretAsync("vc-dev", "team-a", cancellationToken: TestContext.Current.CancellationToken);
        using var inner = ClientFor(Encoding.UTF8.GetString(secret.Data["config"]));
        await inner.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("inside"), "default", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains((await inner.CoreV1.ListNamespacedConfigMapAsync("default", cancellationToken: TestContext.Current.CancellationToken)).Items, c => c.Metadata.Name == "inside");
        Assert.DoesNotContain((await client.CoreV1.ListNamespacedConfigMapAsync("default", cancellationToken: TestContext.Current.CancellationToken)).Items, c => c.Metadata.Name == "inside");
    }
}
