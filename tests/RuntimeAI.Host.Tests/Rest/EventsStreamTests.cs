using System.Net;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>GET /v1/events/stream (Server-Sent Events) against the real server.</summary>
public sealed class EventsStreamTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Stream_ResumesFromLastEventId_AfterADisconnect_WithoutLossOrDuplicates()
    {
        await using var world = await EventsWorld.StartAsync();
        using var http = world.Client(world.AcmeOperator, Timeout.InfiniteTimeSpan);
        var ct = TestContext.Current.CancellationToken;
        var expected = new List<string>();
        var received = new List<(string Cursor, string Id)>();

        using (var first = await SseReader.OpenAsync(http, "v1/events/stream", null, ct))
        {
            for (var i = 0; i < 5; i++)
            {
                expected.Add((await world.AppendAsync(i % 2 == 0 ? world.Acme1 : world.Acme2, "lifecycle.started")).Id);
            }

            for (var i = 0; i < 3; i++)
            {
                var e = await first.NextAsync(s_wait, ct) ?? throw new TimeoutException($"event {i} of the first connection did not arrive");
                received.Add((e.Id, (string)e.Data["id"]!));
            }
        }

        // Written while no client is connected, and two more after the reconnect.
        for (var i = 0; i < 4; i++)
        {
            expected.Add((await world.AppendAsync(world.Acme1, "lifecycle.stopped")).Id);
        }

        using (var second = await SseReader.OpenAsync(http, "v1/events/stream", received[^1].Cursor, ct))
        {
            for (var i = 0; i < 2; i++)
            {
                expected.Add((await world.AppendAsync(world.Acme2, "lifecycle.scale")).Id);
            }

            while (received.Count < expected.Count)
            {
                var e = await second.NextAsync(s_wait, ct) ?? throw new TimeoutException($"only {received.Count} of {expected.Count} events arrived after the reconnect");
                received.Add((e.Id, (string)e.Data["id"]!));
            }

            Assert.Null(await second.NextAsync(TimeSpan.FromMilliseconds(600), ct));
        }

        Assert.Equal(expected, received.Select(r => r.Id));
        var cursors = received.Select(r => long.Parse(r.Cursor, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(cursors.Order(), cursors);
        Assert.Equal(cursors.Count, cursors.Distinct().Count());
    }

    [Fact]
    public async Task Stream_ShowsOnlyTheCallersTenants_AndFiltersByRuntimeTenantAndSince()
    {
        await using var world = await EventsWorld.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var before = await world.AppendAsync(world.Acme1, "lifecycle.created");
        using var acmeHttp = world.Client(world.AcmeOperator, Timeout.InfiniteTimeSpan);
        using var adminHttp = world.Client(world.Admin, Timeout.InfiniteTimeSpan);
        using var acme = await SseReader.OpenAsync(acmeHttp, "v1/events/stream", null, ct);
        using var acmeRuntime = await SseReader.OpenAsync(acmeHttp, $"v1/events/stream?runtime_id={world.Acme2}", null, ct);
        using var adminGlobex = await SseReader.OpenAsync(adminHttp, "v1/events/stream?tenant=globex", null, ct);
        using var acmeSince = await SseReader.OpenAsync(acmeHttp, $"v1/events/stream?since={Uri.EscapeDataString(before.Ts.AddMilliseconds(-1).ToString("O"))}", null, ct);

        var globex = await world.AppendAsync(world.Globex1, "lifecycle.started");
        var acme1 = await world.AppendAsync(world.Acme1, "lifecycle.started");
        var acme2 = await world.AppendAsync(world.Acme2, "lifecycle.started");

        Assert.Equal(acme1.Id, (string?)(await acme.NextAsync(s_wait, ct))?.Data["id"]);
        Assert.Equal(acme2.Id, (string?)(await acme.NextAsync(s_wait, ct))?.Data["id"]);
        Assert.Equal(acme2.Id, (string?)(await acmeRuntime.NextAsync(s_wait, ct))?.Data["id"]);
        Assert.Equal(globex.Id, (string?)(await adminGlobex.NextAsync(s_wait, ct))?.Data["id"]);
        Assert.Equal([before.Id, acme1.Id, acme2.Id], [
            (string)(await acmeSince.NextAsync(s_wait, ct))!.Data["id"]!,
            (string)(await acmeSince.NextAsync(s_wait, ct))!.Data["id"]!,
            (string)(await acmeSince.NextAsync(s_wait, ct))!.Data["id"]!,
        ]);
        Assert.Null(await acme.NextAsync(TimeSpan.FromMilliseconds(500), ct));
        Assert.Null(await adminGlobex.NextAsync(TimeSpan.FromMilliseconds(200), ct));

        var otherRuntime = await Assert.ThrowsAsync<HttpRequestException>(() => SseReader.OpenAsync(acmeHttp, $"v1/events/stream?runtime_id={world.Globex1}", null, ct));
        var otherTenant = await Assert.ThrowsAsync<HttpRequestException>(() => SseReader.OpenAsync(acmeHttp, "v1/events/stream?tenant=globex", null, ct));
        var badCursor = await Assert.ThrowsAsync<HttpRequestException>(() => SseReader.OpenAsync(acmeHttp, "v1/events/stream", "evt_not-a-position", ct));
        Assert.Equal(HttpStatusCode.NotFound, otherRuntime.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherTenant.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        Assert.Contains("Last-Event-ID", badCursor.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_Idle_SendsHeartbeatComments()
    {
        await using var world = await EventsWorld.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var http = world.Client(world.AcmeViewer, Timeout.InfiniteTimeSpan);
        using var stream = await SseReader.OpenAsync(http, "v1/events/stream", null, ct);

        Assert.Null(await stream.NextAsync(TimeSpan.FromSeconds(2.6), ct));

        Assert.True(stream.Comments.Count(c => c.StartsWith(": heartbeat ", StringComparison.Ordinal)) >= 2,
            "comments seen: " + string.Join(" | ", stream.Comments));
    }
}
