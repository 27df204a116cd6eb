using System.Net;
using System.Text.Json.Nodes;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>GET /v1/runtimes/{id}/events against the real server: pagination, the brief's filters, tenant scoping.</summary>
public sealed class EventsListTests
{
    [Fact]
    public async Task List_PagesThroughEveryEventOnce_NewestFirst_InTheBriefsShape()
    {
        await using var world = await EventsWorld.StartAsync();
        var appended = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            appended.Add((await world.AppendAsync(world.Acme1, i % 2 == 0 ? "lifecycle.started" : "lifecycle.stopped", new JsonObject { ["n"] = i })).Id);
        }

        await world.AppendAsync(world.Acme2, "lifecycle.started");
        using var http = world.Client(world.AcmeViewer);

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var url = $"v1/runtimes/{world.Acme1}/events?limit=3" + (token is null ? string.Empty : "&page_token=" + Uri.EscapeDataString(token));
            var page = await EventsWorld.JsonAsync(await http.GetAsync(url, TestContext.Current.CancellationToken));
            var items = page["items"]!.AsArray();
            Assert.True(items.Count <= 3);
            foreach (var item in items)
            {
                Assert.Equal(world.Acme1, (string?)item!["runtime_id"]);
                Assert.NotNull((string?)item["ts"]);
                Assert.Equal("info", (string?)item["severity"]);
                Assert.Equal("agent", (string?)item["actor"]);
                seen.Add((string)item["id"]!);
            }

            token = (string?)page["next_page_token"];
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(appended), seen);
    }

    [Fact]
    public async Task List_Filters_TypeAndSince_AndRefusesBadValuesWithAProblem()
    {
        await using var world = await EventsWorld.StartAsync();
        await world.AppendAsync(world.Acme1, "lifecycle.started");
        await Task.Delay(20, TestContext.Current.CancellationToken);
        var cut = TimeProvider.System.GetUtcNow();
        await Task.Delay(20, TestContext.Current.CancellationToken);
        var late = await world.AppendAsync(world.Acme1, "lifecycle.stopped");
        var drift = await world.AppendAsync(world.Acme1, "drift.detected");
        using var http = world.Client(world.AcmeOperator);
        var ct = TestContext.Current.CancellationToken;

        var since = await EventsWorld.JsonAsync(await http.GetAsync($"v1/runtimes/{world.Acme1}/events?since={Uri.EscapeDataString(cut.ToString("O"))}", ct));
        var lifecycle = await EventsWorld.JsonAsync(await http.GetAsync($"v1/runtimes/{world.Acme1}/events?type=lifecycle.", ct));
        using var badLimit = await http.GetAsync($"v1/runtimes/{world.Acme1}/events?limit=501&since=yesterday", ct);
        using var badToken = await http.GetAsync($"v1/runtimes/{world.Acme1}/events?page_token=forged", ct);

        Assert.Equal([drift.Id, late.Id], since["items"]!.AsArray().Select(i => (string)i!["id"]!));
        Assert.Equal(["lifecycle.stopped", "lifecycle.started"], lifecycle["items"]!.AsArray().Select(i => (string)i!["type"]!));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Equal("application/problem+json", badLimit.Content.Headers.ContentType!.MediaType);
        var problem = JsonNode.Parse(await badLimit.Content.ReadAsStringAsync(ct))!;
        Assert.Equal(400, (int)problem["status"]!);
        Assert.Contains("limit '501' must be a whole number from 1 to 500", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Contains("since 'yesterday' is not a date-time", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badToken.StatusCode);
    }

    [Fact]
    public async Task List_AnotherTenantsRuntime_Is404LikeAnUnknownId_AndWithoutCredentials401()
    {
        await using var world = await EventsWorld.StartAsync();
        await world.AppendAsync(world.Globex1, "lifecycle.started", new JsonObject { ["secret_plan"] = "globex only" });
        using var acme = world.Client(world.AcmeOperator);
        using var globex = world.Client(world.GlobexOperator);
        using var anonymous = new HttpClient { BaseAddress = world.BaseUri };
        var ct = TestContext.Current.CancellationToken;

        using var crossTenant = await acme.GetAsync($"v1/runtimes/{world.Globex1}/events", ct);
        using var unknown = await acme.GetAsync("v1/runtimes/rt_01NOSUCHRUNTIME0000000000/events", ct);
        using var noKey = await anonymous.GetAsync($"v1/runtimes/{world.Acme1}/events", ct);
        var own = await EventsWorld.JsonAsync(await globex.GetAsync($"v1/runtimes/{world.Globex1}/events", ct));

        Assert.Equal(HttpStatusCode.NotFound, crossTenant.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var crossText = await crossTenant.Content.ReadAsStringAsync(ct);
        Assert.DoesNotContain("globex", crossText, StringComparison.Ordinal);
        Assert.Equal(
            (await unknown.Content.ReadAsStringAsync(ct)).Replace("rt_01NOSUCHRUNTIME0000000000", "ID", StringComparison.Ordinal),
            crossText.Replace(world.Globex1, "ID", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Single(own["items"]!.AsArray());
    }
}
