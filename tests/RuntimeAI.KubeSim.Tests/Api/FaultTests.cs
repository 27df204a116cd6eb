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
        await http.GetStringAsync("version");

        Assert.True(watch.ElapsedMilliseconds >= 280, $"answered after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task StopAnswering_HoldsRequestsUntilResumed()
    {
        await using var sim = await SimHost.StartAsync();
        sim.Server.Faults.StopAnswering();

        var pending = sim.GetAsync("version");
        await Task.Delay(200);
        Assert.False(pending.IsCompleted);
        Assert.True(sim.Server.Faults.IsStopped);

        sim.Server.Faults.ResumeAnswering();
        Assert.Equal(200, (await pending).Status);
    }

    [Fact]
    public async Task DropWatches_OpenWatch_StreamEnds()
    {
        await using var sim = await SimHost.StartAsync();
        using var response = await sim.Http.GetAsync("api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var read = reader.ReadLineAsync();

        sim.Server.Faults.DropWatches();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Null(await read.WaitAsync(cts.Token));
    }
}
