namespace RuntimeAI.KubeSim.Tests.Api;

public sealed class AdmissionTests
{
    [Fact]
    public async Task Create_PodBeyondQuota_Returns403ExceededQuota()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/resourcequotas", """{"metadata":{"name":"q"},"spec":{"hard":{"pods":"1","requests.cpu":"1"}}}""");
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));

        var (status, body) = await sim.PostAsync("api/v1/namespaces/default/pods", SimHost.Pod("p2"));

        Assert.Equal(403, status);
        Assert.Equal("Forbidden", body!["reason"]!.GetValue<string>());
        Assert.StartsWith("pods \"p2\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1", body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_PodCpuBeyondQuota_Returns403WithCpuAmounts()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/resourcequotas", """{"metadata":{"name":"cpu"},"spec":{"hard":{"requests.cpu":"500m"}}}""");
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1", cpu: "400m"));

        var (status, body) = await sim.PostAsync("api/v1/namespaces/default/pods", SimHost.Pod("p2", cpu: "200m"));

        Assert.Equal(403, status);
        Assert.Contains("requested: requests.cpu=200m, used: requests.cpu=400m, limited: requests.cpu=500m", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Quota_Status_ReportsUsage()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/resourcequotas", """{"metadata":{"name":"q"},"spec":{"hard":{"pods":"10","configmaps":"5"}}}""");
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));
        await sim.CreateAsync("api/v1/namespaces/default/configmaps", SimHost.ConfigMap("c"));
        await sim.SettleAsync();

        var q = await sim.GetObjectAsync("api/v1/namespaces/default/resourcequotas/q");

        Assert.Equal("1", q["status"]!["used"]!["pods"]!.GetValue<string>());
        Assert.Equal("1", q["status"]!["used"]!["configmaps"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deployment_ReplicasBeyondQuota_ReplicaSetRecordsFailedCreate()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/resourcequotas", """{"metadata":{"name":"q"},"spec":{"hard":{"pods":"2"}}}""");
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var pods = await sim.GetObjectAsync("api/v1/namespaces/default/pods");
        var events = await sim.GetObjectAsync("api/v1/namespaces/default/events?fieldSelector=reason%3DFailedCreate");

        Assert.Equal(2, pods["items"]!.AsArray().Count);
        Assert.Contains("exceeded quota", events["items"]![0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Evict_PodProtectedByBudget_Returns429()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 2));
        await sim.CreateAsync("apis/policy/v1/namespaces/default/poddisruptionbudgets", """{"metadata":{"name":"pdb"},"spec":{"minAvailable":2,"selector":{"matchLabels":{"app":"web"}}}}""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var pod = (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["items"]![0]!["metadata"]!["name"]!.GetValue<string>();

        var (status, body) = await sim.PostAsync($"api/v1/namespaces/default/pods/{pod}/eviction",
            $$$"""{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"{{{pod}}}","namespace":"default"}}""");

        Assert.Equal(429, status);
        Assert.Equal("TooManyRequests", body!["reason"]!.GetValue<string>());
        Assert.Equal("Cannot evict pod as it would violate the pod's disruption budget.", body["message"]!.GetValue<string>());
        Assert.Equal("DisruptionBudget", body["details"]!["causes"]![0]!["reason"]!.GetValue<string>());
        var pdb = await sim.GetObjectAsync("apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb");
        Assert.Equal(0, pdb["status"]!["disruptionsAllowed"]!.GetValue<int>());
    }

    [Fact]
    public async Task Evict_BudgetAllows_DeletesPodAndControllerReplacesIt()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 2));
        await sim.CreateAsync("apis/policy/v1/namespaces/default/poddisruptionbudgets", """{"metadata":{"name":"pdb"},"spec":{"maxUnavailable":1,"selector":{"matchLabels":{"app":"web"}}}}""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var pod = (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["items"]![0]!["metadata"]!["name"]!.GetValue<string>();

        var (status, _) = await sim.PostAsync($"api/v1/namespaces/default/pods/{pod}/eviction", $$$"""{"metadata":{"name":"{{{pod}}}"}}""");
        await sim.SettleAsync();

        Assert.Equal(201, status);
        Assert.Equal(404, (await sim.GetAsync($"api/v1/namespaces/default/pods/{pod}")).Status);
        Assert.Equal(2, (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Create_PodWithoutRequestsUnderCpuQuota_Returns403MustSpecify()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/resourcequotas", """{"metadata":{"name":"q"},"spec":{"hard":{"requests.cpu":"2"}}}""");

        var (status, body) = await sim.PostAsync("api/v1/namespaces/default/pods", """{"metadata":{"name":"bare"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");

        Assert.Equal(403, status);
        Assert.Equal("pods \"bare\" is forbidden: failed quota: q: must specify requests.cpu for: c", body!["message"]!.GetValue<string>());
    }
}
