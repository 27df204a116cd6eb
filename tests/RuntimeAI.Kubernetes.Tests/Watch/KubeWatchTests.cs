using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RuntimeAI.Kubernetes.Client;
using RuntimeAI.Kubernetes.Tests.Infrastructure;
using RuntimeAI.Kubernetes.Watch;
using static RuntimeAI.Kubernetes.Tests.Infrastructure.FakeKubeApi;

namespace RuntimeAI.Kubernetes.Tests.Watch;

public sealed class KubeWatchTests : IAsyncLifetime
{
    private const string PodsPath = "/api/v1/namespaces/team-a/pods";
    private FakeKubeApi _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync();

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task WatchAsync_DroppedConnection_ResumesFromLastResourceVersion()
    {
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "a", "team-a", "11"));
            await WriteWatchEvent(ctx, "MODIFIED", Obj("Pod", "a", "team-a", "12"));
            await Task.Delay(300); // let the client read what was sent; an immediate RST can discard it
            ctx.Abort(); // the connection drops mid-stream
        });
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "DELETED", Obj("Pod", "a", "team-a", "13"));
            await HoldOpen(ctx);
        });
        var logger = new CapturingLogger();
        using var client = TestClients.For(_api, logger: logger);

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", new KubeWatchOptions { ResourceVersion = "10", LabelSelector = "app=web" }, TestContext.Current.CancellationToken), 3, logger);

        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.All(events, e => Assert.False(e.Synthetic));
        var watches = _api.RequestsTo("GET", PodsPath);
        Assert.Equal("true", watches[0].QueryValue("watch"));
        Assert.Equal("true", watches[0].QueryValue("allowWatchBookmarks"));
        Assert.Equal("app=web", watches[0].QueryValue("labelSelector"));
        Assert.Equal("10", watches[0].QueryValue("resourceVersion"));
        Assert.Equal("12", watches[1].QueryValue("resourceVersion"));
        Assert.Equal("app=web", watches[1].QueryValue("labelSelector"));
    }

    [Fact]
    public async Task WatchAsync_Bookmark_AdvancesResumePointAndIsHiddenByDefault()
    {
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "a", "team-a", "20"));
            await WriteWatchEvent(ctx, "BOOKMARK", new JsonObject { ["kind"] = "Pod", ["apiVersion"] = "v1", ["metadata"] = new JsonObject { ["resourceVersion"] = "35" } });
            // server-side timeout: a clean end of stream
        });
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "b", "team-a", "36"));
            await HoldOpen(ctx);
        });
        using var client = TestClients.For(_api);

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: TestContext.Current.CancellationToken), 2);

        Assert.Equal(["a", "b"], events.Select(e => e.Object.Name));
        var watches = _api.RequestsTo("GET", PodsPath);
        Assert.Null(watches[0].QueryValue("resourceVersion"));
        Assert.Equal("35", watches[1].QueryValue("resourceVersion"));
    }

    [Fact]
    public async Task WatchAsync_IncludeBookmarks_YieldsThem()
    {
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "BOOKMARK", new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = "5" } });
            await HoldOpen(ctx);
        });
        using var client = TestClients.For(_api);

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", new KubeWatchOptions { IncludeBookmarks = true }, TestContext.Current.CancellationToken), 1);

        Assert.Equal(WatchEventType.Bookmark, events[0].Type);
        Assert.Equal("5", events[0].Object.ResourceVersion);
    }

    [Fact]
    public async Task WatchAsync_ErrorEventGone_RelistsAndYieldsSyntheticDifference()
    {
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "a", "team-a", "1"));
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "b", "team-a", "2"));
            await WriteWatchEvent(ctx, "ERROR", StatusBody(410, "Expired", "too old resource version: 2 (50)"));
        });
        _api.On("GET", PodsPath, ctx => WriteJson(ctx, new JsonObject
        {
            ["kind"] = "PodList",
            ["metadata"] = new JsonObject { ["resourceVersion"] = "60" },
            ["items"] = new JsonArray(Obj("Pod", "a", "team-a", "55"), Obj("Pod", "c", "team-a", "58")),
        }));
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "MODIFIED", Obj("Pod", "c", "team-a", "61"));
            await HoldOpen(ctx);
        });
        using var client = TestClients.For(_api);

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: TestContext.Current.CancellationToken), 6);

        Assert.Equal(["ADDED a", "ADDED b", "MODIFIED a*", "ADDED c*", "DELETED b*", "MODIFIED c"],
            events.Select(e => $"{e.Type.ToString().ToUpperInvariant()} {e.Object.Name}{(e.Synthetic ? "*" : "")}"));
        var requests = _api.RequestsTo("GET", PodsPath);
        Assert.Null(requests[1].QueryValue("watch")); // the re-list
        Assert.Equal("500", requests[1].QueryValue("limit"));
        Assert.Equal("60", requests[2].QueryValue("resourceVersion"));
    }

    [Fact]
    public async Task WatchAsync_HttpGoneAtStart_Relists()
    {
        _api.OnStatus("GET", PodsPath, 410, "Expired", "too old resource version");
        _api.OnJson("GET", PodsPath, new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = "9" }, ["items"] = new JsonArray(Obj("Pod", "x", "team-a", "8")) });
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "MODIFIED", Obj("Pod", "x", "team-a", "10"));
            await HoldOpen(ctx);
        });
        using var client = TestClients.For(_api);

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", new KubeWatchOptions { ResourceVersion = "1" }, TestContext.Current.CancellationToken), 2);

        Assert.Equal(WatchEventType.Added, events[0].Type);
        Assert.True(events[0].Synthetic);
        Assert.Equal(WatchEventType.Modified, events[1].Type);
        Assert.Equal("9", _api.RequestsTo("GET", PodsPath)[2].QueryValue("resourceVersion"));
    }

    [Fact]
    public async Task WatchAsync_ErrorEventForbidden_Throws()
    {
        _api.On("GET", PodsPath, async ctx => await WriteWatchEvent(ctx, "ERROR", StatusBody(403, "Forbidden", "pods is forbidden")));
        using var client = TestClients.For(_api);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: TestContext.Current.CancellationToken), 1));

        Assert.Equal("Forbidden", ex.Reason);
    }

    [Fact]
    public async Task WatchAsync_ServerKeepsDropping_GivesUpAfterMaxReconnects()
    {
        _api.On("GET", PodsPath, ctx =>
        {
            ctx.Abort();
            return Task.CompletedTask;
        }, sticky: true);
        var options = TestClients.FastOptions(maxRetries: 0);
        options.MaxWatchReconnects = 2;
        using var client = TestClients.For(_api, options);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: TestContext.Current.CancellationToken), 1));

        Assert.Contains("gave up after 2 reconnects", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, _api.RequestsTo("GET", PodsPath).Count);
    }

    [Fact]
    public async Task WatchAsync_ServerGoesSilent_ReconnectsAfterIdleTimeout()
    {
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "a", "team-a", "3"));
            await HoldOpen(ctx); // half-open: nothing more, ever
        });
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "b", "team-a", "4"));
            await HoldOpen(ctx);
        });
        var options = TestClients.FastOptions();
        options.WatchIdleTimeout = TimeSpan.FromMilliseconds(300);
        using var client = TestClients.For(_api, options);

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: TestContext.Current.CancellationToken), 2);

        Assert.Equal(["a", "b"], events.Select(e => e.Object.Name));
        Assert.Equal("3", _api.RequestsTo("GET", PodsPath)[1].QueryValue("resourceVersion"));
    }

    [Fact]
    public async Task WatchAsync_ServiceUnavailableBeyondRetries_KeepsReconnecting()
    {
        _api.OnStatus("GET", PodsPath, 503, "ServiceUnavailable", "apiserver restarting");
        _api.OnStatus("GET", PodsPath, 503, "ServiceUnavailable", "apiserver restarting");
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "a", "team-a", "3"));
            await HoldOpen(ctx);
        });
        using var client = TestClients.For(_api, TestClients.FastOptions(maxRetries: 0));

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: TestContext.Current.CancellationToken), 1);

        Assert.Equal("a", events[0].Object.Name);
        Assert.Equal(3, _api.RequestsTo("GET", PodsPath).Count);
    }

    [Fact]
    public async Task WatchAsync_StreamOutlivesRequestTimeout_KeepsReading()
    {
        _api.On("GET", PodsPath, async ctx =>
        {
            await WriteWatchEvent(ctx, "ADDED", Obj("Pod", "a", "team-a", "3"));
            await Task.Delay(600);
            await WriteWatchEvent(ctx, "MODIFIED", Obj("Pod", "a", "team-a", "4"));
            await HoldOpen(ctx);
        });
        var options = TestClients.FastOptions();
        options.RequestTimeout = TimeSpan.FromMilliseconds(200);
        using var client = TestClients.For(_api, options);

        var events = await Take(client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: TestContext.Current.CancellationToken), 2);

        Assert.Equal([WatchEventType.Added, WatchEventType.Modified], events.Select(e => e.Type));
        Assert.Single(_api.RequestsTo("GET", PodsPath));
    }

    [Fact]
    public async Task WatchAsync_Cancelled_EndsStream()
    {
        _api.On("GET", PodsPath, HoldOpen, sticky: true);
        using var client = TestClients.For(_api);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(KubeResourceTypes.Pods, "team-a", cancellationToken: cts.Token))
            {
            }
        });
    }

    private static async Task HoldOpen(HttpContext ctx)
    {
        await ctx.Response.Body.FlushAsync();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<List<WatchEvent>> Take(IAsyncEnumerable<WatchEvent> stream, int count, CapturingLogger? logger = null)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var events = new List<WatchEvent>();
        try
        {
            await foreach (var e in stream.WithCancellation(cts.Token))
            {
                events.Add(e);
                if (events.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException ex) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"watch produced {events.Count} of {count} events; log: {string.Join(" | ", logger?.Lines ?? [])}", ex);
        }

        return events;
    }

}
