using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Events pushed to agents: a client subscribed to runtime:// or operation:// hears of a change
/// (notifications/resources/updated) without polling, then reads the resource once.
/// </summary>
public sealed partial class ResourceSubscriptionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Subscribe_OperationFromItsFirstProgress_ClientIsToldOfItsCompletion()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var vm = await RuntimeIdAsync(client, "batch-vm");
        var updates = new List<string>();
        var subscribed = new TaskCompletionSource<IAsyncDisposable>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The first progress message names the operation; subscribe to it while the stop runs.
        var progress = new SyncProgress(p =>
        {

            if (OperationId().Match(p.Message ?? string.Empty) is { Success: true } m && !subscribed.Task.IsCompleted)
            {
                _ = SubscribeAsync(client, "operation://" + m.Value, updates, subscribed);
            }
        });
        var started = await client.CallToolAsync("start_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, progress, cancellationToken: Ct);
        await using var subscription = await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var operationId = started.StructuredContent!.Value.GetProperty("operation_id").GetString();

        var uri = "operation://" + operationId;
        await WaitForAsync(() => Count(updates, uri) > 0);
        var read = await client.ReadResourceAsync(uri, cancellationToken: Ct);
        var operation = JsonDocument.Parse(((TextResourceContents)read.Contents[0]).Text).RootElement;

        Assert.NotEqual(true, started.IsError);
        Assert.True(Count(updates, uri) >= 1);
        Assert.Equal("succeeded", operation.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Subscribe_Runtime_ToldWhenAnotherCallChangesIt_UnsubscribeStopsIt()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        var vm = await RuntimeIdAsync(client, "batch-vm");
        var uri = "runtime://" + vm;
        var updates = new List<string>();
        var subscribed = new TaskCompletionSource<IAsyncDisposable>(TaskCreationOptions.RunContinuationsAsynchronously);
        await SubscribeAsync(client, uri, updates, subscribed);

        await using (await subscribed.Task)
        {
            var started = await client.CallToolAsync("start_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, cancellationToken: Ct);
            Assert.NotEqual(true, started.IsError);
            await WaitForAsync(() => Count(updates, uri) > 0);
        }

        var before = Count(updates, uri);
        var read = await client.ReadResourceAsync(uri, cancellationToken: Ct);
        var stopped = await client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, cancellationToken: Ct);
        await Task.Delay(200, Ct);

        Assert.True(before >= 1);
        Assert.NotEqual(true, stopped.IsError);
        Assert.Equal(before, Count(updates, uri));
        Assert.Equal("running", JsonDocument.Parse(((TextResourceContents)read.Contents[0]).Text).RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Subscribe_UnknownOperation_IsResourceNotFound()
    {
        await using var session = await StartAsync();

        var ex = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() =>
            session.Client.SubscribeToResourceAsync("operation://op_00000000000000000000000000", cancellationToken: Ct));

        Assert.Equal(ModelContextProtocol.McpErrorCode.ResourceNotFound, ex.ErrorCode);
    }

    [Fact]
    public async Task Read_UnknownResource_On2026Session_IsInvalidParamsNamingTheUri()
    {
        await using var session = await StartAsync(protocolVersion: null);
        const string uri = "runtime://rt_does_not_exist";

        var ex = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => session.Client.ReadResourceAsync(uri, cancellationToken: Ct).AsTask());

        Assert.Equal(ModelContextProtocol.McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Equal(uri, ex.Data["uri"]?.ToString());
    }

    // resources/subscribe belongs to the 2025 revisions; 2026-07-28 clients use subscriptions/listen.
    private static async Task<InProcessSession> StartAsync(string? protocolVersion = "2025-11-25") =>
        await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = TestPolicies.AllowAll() },
            null, protocolVersion, Ct);

    [Fact]
    public async Task SubscriptionsListen_2026Client_AcknowledgedThenToldOfTheRuntimeChangeOnItsStream()
    {
        await using var session = await StartAsync(protocolVersion: null);
        var client = session.Client;
        var vm = await RuntimeIdAsync(client, "batch-vm");
        var uri = "runtime://" + vm;
        var acknowledged = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var updated = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var ack = client.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (n, _) =>
        {
            acknowledged.TrySetResult(n.Params);
            return ValueTask.CompletedTask;
        });
        await using var update = client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            updated.TrySetResult(n.Params);
            return ValueTask.CompletedTask;
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var listen = client.SendRequestAsync(new JsonRpcRequest
        {
            Method = RequestMethods.SubscriptionsListen,
            Params = new JsonObject
            {
                ["notifications"] = new JsonObject { ["resourceSubscriptions"] = new JsonArray(uri, "runtime://rt_00000000000000000000000000") },
            },
        }, stop.Token);

        var granted = await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await client.CallToolAsync("start_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, cancellationToken: Ct);
        var notification = await updated.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listen);

        Assert.Equal([uri], granted!["notifications"]!["resourceSubscriptions"]!.AsArray().Select(u => u!.GetValue<string>()));
        Assert.Equal(uri, notification!["uri"]!.GetValue<string>());
        Assert.NotNull(notification["_meta"]?[MetaKeys.SubscriptionId]);
    }

    /// <summary>The KubeVirt VM's runtime id, once its recorded state is settled (the sandbox imports it while KubeSim starts it).</summary>
    [Fact]
    public async Task SubscriptionsListen_OverStatelessHttp_NotifiedOnTheListenStream()
    {
        await using var server = await ServerProcess.StartHttpAsync(TestPaths.NewDataDir(), "--sandbox", "--autonomy", "autonomous", "--policies", TestPolicies.AllowAll());
        await using var listener = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }), cancellationToken: Ct);
        await using var actor = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }), cancellationToken: Ct);
        var vm = await RuntimeIdAsync(actor, "batch-vm");
        var uri = "runtime://" + vm;
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var updated = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var ack = listener.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (_, _) =>
        {
            acknowledged.TrySetResult();
            return ValueTask.CompletedTask;
        });
        await using var update = listener.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            updated.TrySetResult(n.Params);
            return ValueTask.CompletedTask;
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var listen = listener.SendRequestAsync(new JsonRpcRequest
        {
            Method = RequestMethods.SubscriptionsListen,
            Params = new JsonObject { ["notifications"] = new JsonObject { ["resourceSubscriptions"] = new JsonArray(uri) } },
        }, stop.Token);

        await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        var started = await actor.CallToolAsync("start_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, cancellationToken: Ct);
        var notification = await updated.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listen);

        Assert.NotEqual(true, started.IsError);
        Assert.Equal(uri, notification!["uri"]!.GetValue<string>());
    }

    private static async Task<string> RuntimeIdAsync(McpClient client, string name)
    {
        var page = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 100 }, cancellationToken: Ct);
        var id = page.StructuredContent!.Value.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name).GetProperty("id").GetString()!;
        for (var i = 0; i < 100; i++)
        {
            var status = await client.CallToolAsync("get_runtime_status", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: Ct);
            if (status.StructuredContent?.GetProperty("state").GetString() is "running" or "stopped")
            {
                break;
            }

            await Task.Delay(100, Ct);
        }

        return id;
    }

    private static async Task SubscribeAsync(McpClient client, string uri, List<string> updates, TaskCompletionSource<IAsyncDisposable> subscribed)
    {
        try
        {
            subscribed.TrySetResult(await client.SubscribeToResourceAsync(uri, (n, _) =>
            {
                lock (updates)
                {
                    updates.Add(n.Uri);
                }

                return ValueTask.CompletedTask;
            }, cancellationToken: Ct));
        }
        catch (Exception ex)
        {
            subscribed.TrySetException(ex);
        }
    }

    private static int Count(List<string> updates, string uri)
    {
        lock (updates)
        {
            return updates.Count(u => u == uri);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50, Ct);
        }
    }

    [GeneratedRegex("op_[0-9A-HJKMNP-TV-Z]{26}")]
    private static partial Regex OperationId();

    private sealed class SyncProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
