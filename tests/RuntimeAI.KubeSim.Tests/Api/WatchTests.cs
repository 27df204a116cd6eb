using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Tests.Api;

public sealed class WatchTests
{
    private const string ConfigMaps = "api/v1/namespaces/default/configmaps";

    /// <summary>Reads newline-delimited watch events from a streaming response.</summary>
    private sealed class WatchStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private WatchStream(HttpResponseMessage response, StreamReader reader)
        {
            _response = response;
            _reader = reader;
        }

        public static async Task<WatchStream> OpenAsync(SimHost sim, string path)
        {
            var response = await sim.Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(200, (int)response.StatusCode);
            return new WatchStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        public async Task<JsonObject?> NextAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var line = await _reader.ReadLineAsync(cts.Token);
            return line is null ? null : (JsonObject)JsonNode.Parse(line)!;
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Watch_FromZero_SendsCurrentStateThenChanges()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        await using var watch = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=1");

        var first = await watch.NextAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("b"));
        var second = await watch.NextAsync();
        await sim.DeleteAsync($"{ConfigMaps}/a");
        var third = await watch.NextAsync();

        Assert.Equal("ADDED", first!["type"]!.GetValue<string>());
        Assert.Equal("a", first["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("ADDED", second!["type"]!.GetValue<string>());
        Assert.Equal("b", second["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("DELETED", third!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_ResumeFromResourceVersion_ReplaysOnlyLaterEvents()
    {
        await using var sim = await SimHost.StartAsync();
        var a = await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        var rv = a["metadata"]!["resourceVersion"]!.GetValue<string>();
        await sim.PatchAsync($"{ConfigMaps}/a", """{"data":{"key":"v2"}}""", "application/merge-patch+json");
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("b"));

        await using var watch = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=true&resourceVersion={rv}");

        var e1 = await watch.NextAsync();
        var e2 = await watch.NextAsync();
        Assert.Equal("MODIFIED", e1!["type"]!.GetValue<string>());
        Assert.Equal("v2", e1["object"]!["data"]!["key"]!.GetValue<string>());
        Assert.Equal("ADDED", e2!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_CompactedResourceVersion_SendsExpiredError410()
    {
        await using var sim = await SimHost.StartAsync();
        var a = await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("b"));
        sim.Server.CompactWatchHistory();

        await using var watch = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=1&resourceVersion={a["metadata"]!["resourceVersion"]}");

        var e = await watch.NextAsync();
        Assert.Equal("ERROR", e!["type"]!.GetValue<string>());
        Assert.Equal(410, e["object"]!["code"]!.GetValue<int>());
        Assert.Equal("Expired", e["object"]!["reason"]!.GetValue<string>());
        Assert.StartsWith("too old resource version", e["object"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task HoldWatches_EndsOpenWatch_HoldsNewOneUntilReleased_ThenCompactedResumeGets410()
    {
        await using var sim = await SimHost.StartAsync();
        var a = await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        var rv = a["metadata"]!["resourceVersion"]!.GetValue<string>();
        await using var open = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=1&resourceVersion={rv}");

        sim.Server.Faults.HoldWatches();
        var ended = await open.NextAsync();
        var held = sim.Http.GetAsync($"{ConfigMaps}?watch=1&resourceVersion={rv}", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("b"));
        await Task.Delay(200, TestContext.Current.CancellationToken);
        var heldWhileHolding = !held.IsCompleted;
        sim.Server.CompactWatchHistory();
        sim.Server.Faults.ReleaseWatches();
        using var response = await held;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var error = JsonNode.Parse((await reader.ReadLineAsync(TestContext.Current.CancellationToken))!)!;

        Assert.Null(ended);
        Assert.True(heldWhileHolding, "a watch request was answered while watches were held");
        Assert.Equal("ERROR", error["type"]!.GetValue<string>());
        Assert.Equal(410, error["object"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Watch_SendInitialEventsWithBookmarks_EndsInitialListWithBookmark()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));

        await using var watch = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan");

        Assert.Equal("ADDED", (await watch.NextAsync())!["type"]!.GetValue<string>());
        var bookmark = await watch.NextAsync();
        Assert.Equal("BOOKMARK", bookmark!["type"]!.GetValue<string>());
        Assert.Equal("true", bookmark["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_BookmarkInterval_SendsPeriodicBookmark()
    {
        await using var sim = await SimHost.StartAsync();
        var a = await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        await using var watch = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=1&allowWatchBookmarks=true&resourceVersion={a["metadata"]!["resourceVersion"]}");

        var next = watch.NextAsync();
        for (var i = 0; i < 50 && !next.IsCompleted; i++)
        {
            sim.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var bookmark = await next;
        Assert.Equal("BOOKMARK", bookmark!["type"]!.GetValue<string>());
        Assert.Equal("ConfigMap", bookmark["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_LabelSelector_FiltersEvents()
    {
        await using var sim = await SimHost.StartAsync();
        await using var watch = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=1&labelSelector=keep%3Dyes&resourceVersion={sim.Server.GetHashCode() * 0 + 1}");

        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("skip"));
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("kept", new Dictionary<string, string> { ["keep"] = "yes" }));

        var e = await watch.NextAsync();
        Assert.Equal("kept", e!["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_AsTable_SendsTableRowsPerEvent()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ConfigMaps}?watch=1");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;g=meta.k8s.io;v=v1");
        using var response = await sim.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));

        var e = JsonNode.Parse((await reader.ReadLineAsync(TestContext.Current.CancellationToken))!)!;

        Assert.Equal("Table", e["object"]!["kind"]!.GetValue<string>());
        Assert.Equal("a", e["object"]!["rows"]![0]!["cells"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_LabelSelectorAndRelabel_ObjectLeavingSelectionIsDeletedAndJoiningIsAdded()
    {
        await using var sim = await SimHost.StartAsync();
        var a = await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a", new Dictionary<string, string> { ["keep"] = "yes" }));
        await using var watch = await WatchStream.OpenAsync(sim, $"{ConfigMaps}?watch=1&labelSelector=keep%3Dyes&resourceVersion={a["metadata"]!["resourceVersion"]}");

        await sim.PatchAsync($"{ConfigMaps}/a", """{"metadata":{"labels":{"keep":"no"}}}""", "application/merge-patch+json");
        var left = await watch.NextAsync();
        await sim.PatchAsync($"{ConfigMaps}/a", """{"metadata":{"labels":{"keep":"yes"}}}""", "application/merge-patch+json");
        var joined = await watch.NextAsync();

        Assert.Equal("DELETED", left!["type"]!.GetValue<string>());
        Assert.Equal("ADDED", joined!["type"]!.GetValue<string>());
    }
}
