using System.Text.Json.Nodes;
using ModelContextProtocol.Client;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// Events the engine itself records (an MCP lifecycle call on the sandbox's libvirt test driver)
/// reach the REST list, the SSE stream and a webhook: one record of events for every client. The
/// poll interval is set to a minute, so only the in-process wake-up can deliver them in time.
/// </summary>
public sealed class EventsEngineTests
{
    [Fact]
    public async Task McpLifecycleCall_ItsEventIsListed_Streamed_AndDeliveredByWebhook_WithoutWaitingForAPoll()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDir = TestPaths.NewDataDir();
        var config = Path.Combine(dataDir, "config.json");
        await File.WriteAllTextAsync(config, new JsonObject
        {
            ["admins"] = new JsonArray($"http:{Environment.UserName}"),
            ["events"] = new JsonObject { ["poll_ms"] = 60_000 },
        }.ToJsonString(), ct);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--autonomy", "autonomous", "--policies", TestPolicies.AllowAll(), "--config", config);
        using var http = new HttpClient { BaseAddress = new Uri(server.McpEndpoint!.GetLeftPart(UriPartial.Authority) + "/"), Timeout = Timeout.InfiniteTimeSpan };
        await using var mcp = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint! }), cancellationToken: ct);

        var listed = await mcp.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vm" }, cancellationToken: ct);
        var vm = listed.StructuredContent!.Value.GetProperty("items")[0];
        var runtimeId = vm.GetProperty("id").GetString()!;
        var tool = vm.GetProperty("state").GetString() == "running" ? "stop_runtime" : "start_runtime";
        using var created = await http.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = receiver.Url.AbsoluteUri, ["runtime_id"] = runtimeId }), ct);
        receiver.Secret = (string)(await EventsWorld.JsonAsync(created))["secret"]!;
        using var stream = await SseReader.OpenAsync(http, $"v1/events/stream?runtime_id={runtimeId}", null, ct);

        var result = await mcp.CallToolAsync(tool, new Dictionary<string, object?> { ["runtime_id"] = runtimeId, ["reasoning"] = "events test" }, cancellationToken: ct);
        Assert.True(result.IsError != true, string.Join(' ', result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(t => t.Text)));

        // The backend's own observation (backend.lifecycle.*) may come first; the operation's event is the one with its id.
        SseReader.SseEvent streamed;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            var left = TimeSpan.FromSeconds(10) - clock.Elapsed;
            streamed = (left > TimeSpan.Zero ? await stream.NextAsync(left, ct) : null) ?? throw new TimeoutException("the operation's event was not streamed within 10 s (the poll is 60 s)");
            Assert.Equal(runtimeId, (string?)streamed.Data["runtime_id"]);
        }
        while (streamed.Data["operation_id"] is null);

        Assert.StartsWith("lifecycle.", (string)streamed.Data["type"]!, StringComparison.Ordinal);
        Assert.StartsWith("op_", (string?)streamed.Data["operation_id"], StringComparison.Ordinal);
        await receiver.WaitForAsync(r => r.Accepted.Any(a => (string?)a.Body["event"]!["id"] == (string?)streamed.Data["id"]), TimeSpan.FromSeconds(10), "the webhook delivery of the lifecycle event");
        Assert.All(receiver.Requests, r => Assert.True(r.SignatureValid));
        var page = await EventsWorld.JsonAsync(await http.GetAsync($"v1/runtimes/{runtimeId}/events", ct));
        Assert.Contains((string?)streamed.Data["id"], page["items"]!.AsArray().Select(i => (string?)i!["id"]));
    }
}
