using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Rest.Events;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// The delivery worker on a fake clock, a real SQLite store and a real loopback receiver: retries
/// happen exactly when the backoff says, never earlier, and nothing waits on the wall clock.
/// </summary>
public sealed class EventsWebhookWorkerTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private readonly SqliteDatabase _db = SqliteDatabase.Open(TestPaths.NewDataDir());
    private readonly InventoryChangeFeed _feed = new();

    public void Dispose() => _db.Dispose();

    private async Task<(IRuntimeInventory Inventory, SqliteWebhookStore Store, string RuntimeId)> SeedAsync(WebhookReceiver receiver)
    {
        var inventory = new NotifyingInventory(new SqliteRuntimeInventory(_db), _feed);
        var runtimeId = new IdGenerator(_time).New("rt");
        await inventory.SaveRuntimeAsync(new Runtime
        {
            Id = runtimeId, Name = "vm-a", Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = "acme",
            Spec = new RuntimeSpec { Size = "small" }, CreatedAt = _time.GetUtcNow(),
        }, "seed", CancellationToken.None);
        var store = new SqliteWebhookStore(_db, _time);
        var secret = WebhookSignature.NewSecret();
        receiver.Secret = secret;
        await store.AddSubscriptionAsync(new WebhookSubscription
        {
            Id = new IdGenerator(_time).New("whs"), TenantId = "acme", Url = receiver.Url, Secret = secret, CreatedBy = "test", CreatedAt = _time.GetUtcNow(),
        }, CancellationToken.None);
        return (inventory, store, runtimeId);
    }

    private Task AppendAsync(IRuntimeInventory inventory, string runtimeId) => inventory.AppendEventAsync(new RuntimeEvent
    {
        Id = new IdGenerator(_time).New("evt"), RuntimeId = runtimeId, Type = "lifecycle.started", Ts = _time.GetUtcNow(),
    }, CancellationToken.None);

    private WebhookDeliveryWorker Worker(IWebhookStore store, int maxAttempts)
    {
        var options = new EventsOptions();
        options.Webhooks.MaxAttempts = maxAttempts;
        options.Webhooks.BaseDelay = TimeSpan.FromSeconds(10);
        return new WebhookDeliveryWorker(store, _feed, options, _time, NullLogger<WebhookDeliveryWorker>.Instance);
    }

    [Fact]
    public async Task RunOnce_RetriesExactlyAtTheBackoff_1x_2x_ThenDeadLetters()
    {
        await using var receiver = await WebhookReceiver.StartAsync(_time);
        receiver.Answer = 500;
        var (inventory, store, runtimeId) = await SeedAsync(receiver);
        await AppendAsync(inventory, runtimeId);
        using var worker = Worker(store, maxAttempts: 3);
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(1, await worker.RunOnceAsync(ct));
        Assert.Equal(0, await worker.RunOnceAsync(ct));
        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(0, await worker.RunOnceAsync(ct));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(1, await worker.RunOnceAsync(ct));
        _time.Advance(TimeSpan.FromSeconds(19.9));
        Assert.Equal(0, await worker.RunOnceAsync(ct));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(1, await worker.RunOnceAsync(ct));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await worker.RunOnceAsync(ct));

        var dead = Assert.Single(await store.ListDeliveriesAsync(null, WebhookDeliveryStatus.Dead, 10, ct));
        Assert.Equal(3, dead.Attempts);
        Assert.Equal("the receiver answered HTTP 500", dead.LastError);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.All(receiver.Requests, r => Assert.True(r.SignatureValid));
        Assert.Single(receiver.Requests.Select(r => r.DeliveryId).Distinct());
    }

    [Fact]
    public async Task Running_WakesOnANewEvent_AndWaitsForTheFakeClockBeforeRetrying()
    {
        await using var receiver = await WebhookReceiver.StartAsync(_time);
        receiver.Answer = 500;
        var (inventory, store, runtimeId) = await SeedAsync(receiver);
        using var worker = Worker(store, maxAttempts: 5);
        var ct = TestContext.Current.CancellationToken;
        await worker.StartAsync(ct);
        try
        {
            await AppendAsync(inventory, runtimeId);
            await receiver.WaitForAsync(r => r.Requests.Count == 1, TimeSpan.FromSeconds(10), "the first attempt, woken by the event");
            receiver.Answer = 200;
            await Task.Delay(500, ct);
            Assert.Single(receiver.Requests);

            _time.Advance(TimeSpan.FromSeconds(10));
            await receiver.WaitForAsync(r => r.Accepted.Count == 1, TimeSpan.FromSeconds(10), "the retry once the fake clock reached the backoff");
            Assert.Equal(2, receiver.Requests.Count);
            // The receiver counts the request before it answers; the worker records the answer just after.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Assert.Single(await store.ListDeliveriesAsync(null, null, 10, ct)).Status != WebhookDeliveryStatus.Delivered && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20, ct);
            }

            Assert.Equal(WebhookDeliveryStatus.Delivered, Assert.Single(await store.ListDeliveriesAsync(null, null, 10, ct)).Status);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }
}
