using System.Diagnostics;

namespace RuntimeAI.KubeSim.Tests.Api;

public sealed class FaultTests
{
    [Fact]
    public async Task FailRequests_MatchingPathAndTimes_ReturnsInjectedStatusThenRecovers()
    {
        await using var sim = await SimHost.StartAsync();
        sim.Server.Faults.FailRequests(503, pathContains: "/configmaps", method: "GET", times: 2);

        var first = await sim.GetAsync("api/v1/namespaces/default/configmaps");
        var second = await sim.GetAsync("api/v1/namespaces/default/configmaps");
        var other = await sim.GetAsync("api/v1/namespaces/default/pods");
        var third = await sim.GetAsync("api/v1/namespaces/default/configmaps");

        Assert.Equal(503, first.Status);
        Assert.Equal("ServiceUnavailable", first.Body!["reason"]!.GetValue<string>());
        Assert.Equal(503, second.Status);
        Assert.Equal(200, other.Status);
        Assert.Equal(200, third.Status);
    }

    [Fact]
    public async Task Latency_Set_DelaysAnswersOnTheSimulatorClock()
    {
        await using var server = await KubeSimServer.StartAsync(new KubeSimOptions { RunControllersInBackground = false }, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        server.Faults.Latency = TimeSpan.FromMilliseconds(300);

        var watch = Stopwatch.StartNew();
        await http.GetStringAsync("version", TestContext.Current.CancellationToken);

        Assert.True(watch.ElapsedMilliseconds >= 280, $"answered after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task StopAnswering_HoldsRequestsUntilResumed()
    {
        await using var sim = await SimHost.StartAsync();
        sim.Server.Faults.StopAnswering();

        var pending = sim.GetAsync("version");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(pending.IsCompleted);
        Assert.True(sim.Server.Faults.IsStopped);

        sim.Server.Faults.ResumeAnswering();
        Assert.Equal(200, (await pending).Status);
    }

    [Fact]
    public async Task DropWatches_OpenWatch_StreamEnds()
    {
        await using var sim = await SimHost.StartAsync();
        using var response = await sim.Http.GetAsync("api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var read = reader.ReadLineAsync(TestContext.Current.CancellationToken).AsTask();

        sim.Server.Faults.DropWatches();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Null(await read.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task SetUsageMultiplier_Deployment_MetricsSpikeAndReturn()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("api-1", cpu: "500m"));
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("db-1", cpu: "500m"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        static decimal Cpu(System.Text.Json.Nodes.JsonObject m) => decimal.Parse(m["containers"]![0]!["usage"]!["cpu"]!.GetValue<string>().TrimEnd('n'), System.Globalization.CultureInfo.InvariantCulture);

        var before = Cpu(await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/namespaces/default/pods/api-1"));
        var other = Cpu(await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db-1"));
        sim.Server.Faults.SetUsageMultiplier("default", "api-", 4);
        var spiked = Cpu(await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/namespaces/default/pods/api-1"));
        var otherAfter = Cpu(await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db-1"));
        sim.Server.Faults.SetUsageMultiplier("default", "api-", 1);

        Assert.Equal(before * 4, spiked, 0);
        Assert.Equal(other, otherAfter);
        Assert.Equal(before, Cpu(await sim.GetObjectAsync("apis/metrics.k8s.io/v1beta1/namespaces/default/pods/api-1")));
    }

    [Fact]
    public async Task SetNodeReadyFalse_PodsNotReadyThenEvictedAndReplacedElsewhere()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        var pods = (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["items"]!.AsArray();
        var victimNode = pods[0]!["spec"]!["nodeName"]!.GetValue<string>();

        sim.Server.Faults.SetNodeReady(victimNode, false);
        await sim.SettleAsync();
        var onNode = (await sim.GetObjectAsync($"api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3D{victimNode}"))["items"]!.AsArray();
        Assert.NotEmpty(onNode);
        Assert.All(onNode, p => Assert.Contains(p!["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Ready" && c["status"]!.GetValue<string>() == "False"));
        Assert.Equal("NotReady", (await sim.GetAsync($"api/v1/nodes/{victimNode}", "application/json;as=Table;g=meta.k8s.io;v=v1")).Body!["rows"]![0]!["cells"]![1]!.GetValue<string>());

        await sim.AdvanceAsync(TimeSpan.FromMinutes(5));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var after = (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["items"]!.AsArray();
        Assert.Equal(3, after.Count);
        Assert.DoesNotContain(after, p => p!["spec"]!["nodeName"]!.GetValue<string>() == victimNode);
        Assert.All(after, p => Assert.Equal("Running", p!["status"]!["phase"]!.GetValue<string>()));
    }
}
