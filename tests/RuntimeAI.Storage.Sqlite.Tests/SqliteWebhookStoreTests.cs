using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Storage.Sqlite.Tests;

/// <summary>
/// The webhook outbox and the event feed on a real SQLite file: deliveries are made once per
/// matching subscription from the event log, retried on their stored schedule, dead-lettered, and
/// everything survives reopening the file.
/// </summary>
public sealed class SqliteWebhookStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runtimeai-webhooks-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 5, 0, 0, TimeSpan.Zero));
    private SqliteDatabase _db;

    public SqliteWebhookStoreTests()
    {
        _db = SqliteDatabase.Open(_dir);
    }

    public void Dispose() => _db.Dispose();

    private SqliteWebhookStore Store => new(_db, _time);

    private async Task<string> AddRuntimeAsync(string tenant)
    {
        var id = new IdGenerator(_time).New("rt");
        await new SqliteRuntimeInventory(_db).SaveRuntimeAsync(new Runtime
        {
            Id = id, Name = "vm-" + id[^6..].ToLowerInvariant(), Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = tenant,
            Spec = new RuntimeSpec { Size = "small" }, CreatedAt = _time.GetUtcNow(),
        }, "seed", CancellationToken.None);
        return id;
    }

    private async Task<RuntimeEvent> AppendAsync(string runtimeId, string type)
    {
        var e = new RuntimeEvent { Id = new IdGenerator(_time).New("evt"), RuntimeId = runtimeId, Type = type, Ts = _time.GetUtcNow() };
        await new SqliteRuntimeInventory(_db).AppendEventAsync(e, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        return e;
    }

    private WebhookSubscription Subscription(string? tenant, string? runtime = null, params string[] types) => new()
    {
        Id = new IdGenerator(_time).New("whs"), TenantId = tenant, RuntimeId = runtime, EventTypes = types,
        Url = new Uri("http://127.0.0.1:9/hook"), Secret = WebhookSignature.NewSecret(), CreatedBy = "key:test", CreatedAt = _time.GetUtcNow(),
    };

    [Fact]
    public async Task Migration_IsVersion5_WithTheOutboxTables()
    {
        using var connection = new SqliteConnection($"Data Source={_db.Path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'webhook_%' ORDER BY name";
        var tables = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            tables.Add(reader.GetString(0));
        }

        Assert.True(SqliteDatabase.CurrentSchemaVersion >= 5);
        Assert.Equal(["webhook_deliveries", "webhook_outbox_cursor", "webhook_subscriptions"], tables);
    }

    [Fact]
    public async Task EventFeed_ReadAfter_IsInCommitOrder_AndScopedByTenant()
    {
        var acme = await AddRuntimeAsync("acme");
        var globex = await AddRuntimeAsync("globex");
        var a1 = await AppendAsync(acme, "lifecycle.started");
        await AppendAsync(globex, "lifecycle.started");
        var a2 = await AppendAsync(acme, "lifecycle.stopped");
        var feed = new SqliteEventFeed(_db);

        var all = await feed.ReadAfterAsync(new EventFeedQuery(), CancellationToken.None);
        var acmeOnly = await feed.ReadAfterAsync(new EventFeedQuery { VisibleTenantIds = ["acme"] }, CancellationToken.None);
        var afterFirst = await feed.ReadAfterAsync(new EventFeedQuery { AfterSeq = acmeOnly[0].Seq, VisibleTenantIds = ["acme"] }, CancellationToken.None);

        Assert.Equal(3, all.Count);
        Assert.True(all[0].Seq < all[1].Seq && all[1].Seq < all[2].Seq);
        Assert.Equal([a1.Id, a2.Id], acmeOnly.Select(e => e.Event.Id));
        Assert.All(acmeOnly, e => Assert.Equal("acme", e.TenantId));
        Assert.Equal([a2.Id], afterFirst.Select(e => e.Event.Id));
        Assert.Equal(all[^1].Seq, await feed.LatestSeqAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Enqueue_MakesOneDeliveryPerMatchingSubscription_OnlyForEventsAfterItWasCreated_AndNeverTwice()
    {
        var acme = await AddRuntimeAsync("acme");
        var globex = await AddRuntimeAsync("globex");
        await AppendAsync(acme, "lifecycle.started");
        var store = Store;
        var acmeAll = await store.AddSubscriptionAsync(Subscription("acme"), CancellationToken.None);
        var acmeLifecycleStops = await store.AddSubscriptionAsync(Subscription("acme", acme, "lifecycle.stop*"), CancellationToken.None);
        var everyone = await store.AddSubscriptionAsync(Subscription(null), CancellationToken.None);
        var stopped = await AppendAsync(acme, "lifecycle.stopped");
        var other = await AppendAsync(globex, "lifecycle.started");

        var made = await store.EnqueueNewEventsAsync(_time.GetUtcNow(), 100, CancellationToken.None);
        var again = await store.EnqueueNewEventsAsync(_time.GetUtcNow(), 100, CancellationToken.None);
        var due = await store.ListDueAsync(_time.GetUtcNow(), 100, CancellationToken.None);

        Assert.Equal(4, made);
        Assert.Equal(0, again);
        Assert.Equal([stopped.Id], due.Where(d => d.Delivery.SubscriptionId == acmeAll.Id).Select(d => d.Event.Id));
        Assert.Equal([stopped.Id], due.Where(d => d.Delivery.SubscriptionId == acmeLifecycleStops.Id).Select(d => d.Event.Id));
        Assert.Equal([stopped.Id, other.Id], due.Where(d => d.Delivery.SubscriptionId == everyone.Id).OrderBy(d => d.Delivery.EventSeq).Select(d => d.Event.Id));
        Assert.Equal(4, due.Select(d => d.Delivery.Id).Distinct().Count());
    }

    [Fact]
    public async Task FailedAttempt_IsNotDueBeforeItsRetryTime_ThenDue_ThenDeadAfterTheLast_AndRedeliverable()
    {
        var acme = await AddRuntimeAsync("acme");
        var store = Store;
        var subscription = await store.AddSubscriptionAsync(Subscription("acme"), CancellationToken.None);
        await AppendAsync(acme, "lifecycle.started");
        await store.EnqueueNewEventsAsync(_time.GetUtcNow(), 100, CancellationToken.None);
        var delivery = Assert.Single(await store.ListDueAsync(_time.GetUtcNow(), 10, CancellationToken.None)).Delivery;

        await store.MarkFailedAsync(delivery.Id, 500, "the receiver answered HTTP 500", _time.GetUtcNow().AddSeconds(2), CancellationToken.None);
        var dueTooEarly = await store.ListDueAsync(_time.GetUtcNow().AddSeconds(1), 10, CancellationToken.None);
        Assert.Empty(dueTooEarly);
        Assert.Equal(_time.GetUtcNow().AddSeconds(2), await store.NextDueAtAsync(CancellationToken.None));
        var retried = Assert.Single(await store.ListDueAsync(_time.GetUtcNow().AddSeconds(2), 10, CancellationToken.None)).Delivery;
        Assert.Equal(delivery.Id, retried.Id);
        Assert.Equal(1, retried.Attempts);

        await store.MarkFailedAsync(delivery.Id, null, "could not reach the receiver", null, CancellationToken.None);
        var dead = (await store.GetDeliveryAsync(delivery.Id, CancellationToken.None))!;
        Assert.Equal(WebhookDeliveryStatus.Dead, dead.Status);
        Assert.Equal(2, dead.Attempts);
        Assert.Equal("could not reach the receiver", dead.LastError);
        Assert.Null(await store.NextDueAtAsync(CancellationToken.None));
        Assert.Equal([delivery.Id], (await store.ListDeliveriesAsync(null, WebhookDeliveryStatus.Dead, 10, CancellationToken.None)).Select(d => d.Id));

        Assert.True(await store.RedeliverAsync(delivery.Id, _time.GetUtcNow(), CancellationToken.None));
        Assert.False(await store.RedeliverAsync(delivery.Id, _time.GetUtcNow(), CancellationToken.None));
        var again = Assert.Single(await store.ListDueAsync(_time.GetUtcNow(), 10, CancellationToken.None)).Delivery;
        Assert.Equal((delivery.Id, 0), (again.Id, again.Attempts));
        await store.MarkDeliveredAsync(delivery.Id, 200, _time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(WebhookDeliveryStatus.Delivered, (await store.GetDeliveryAsync(delivery.Id, CancellationToken.None))!.Status);
        Assert.Equal(subscription.Id, again.SubscriptionId);
    }

    [Fact]
    public async Task Outbox_SurvivesReopeningTheFile_PendingDeliveriesAndTheCursorKept()
    {
        var acme = await AddRuntimeAsync("acme");
        var subscription = await Store.AddSubscriptionAsync(Subscription("acme"), CancellationToken.None);
        await AppendAsync(acme, "lifecycle.started");
        await Store.EnqueueNewEventsAsync(_time.GetUtcNow(), 100, CancellationToken.None);
        var pendingId = Assert.Single(await Store.ListDueAsync(_time.GetUtcNow(), 10, CancellationToken.None)).Delivery.Id;
        var later = await AppendAsync(acme, "lifecycle.stopped");

        _db.Dispose();
        _db = SqliteDatabase.Open(_dir);
        var reopened = Store;
        var made = await reopened.EnqueueNewEventsAsync(_time.GetUtcNow(), 100, CancellationToken.None);
        var due = await reopened.ListDueAsync(_time.GetUtcNow(), 10, CancellationToken.None);

        Assert.Equal(1, made);
        Assert.Equal(2, due.Count);
        Assert.Contains(due, d => d.Delivery.Id == pendingId);
        Assert.Contains(due, d => d.Event.Id == later.Id);
        Assert.Equal(subscription.Secret, (await reopened.GetSubscriptionAsync(subscription.Id, CancellationToken.None))!.Secret);
    }

    [Fact]
    public async Task DeleteSubscription_RemovesItsPendingDeliveries_AndListingIsScopedByTenant()
    {
        var acme = await AddRuntimeAsync("acme");
        var store = Store;
        var mine = await store.AddSubscriptionAsync(Subscription("acme"), CancellationToken.None);
        var theirs = await store.AddSubscriptionAsync(Subscription("globex"), CancellationToken.None);
        await AppendAsync(acme, "lifecycle.started");
        await store.EnqueueNewEventsAsync(_time.GetUtcNow(), 100, CancellationToken.None);

        Assert.Equal([mine.Id], (await store.ListSubscriptionsAsync(["acme"], CancellationToken.None)).Select(s => s.Id));
        Assert.Equal([mine.Id, theirs.Id], (await store.ListSubscriptionsAsync(null, CancellationToken.None)).Select(s => s.Id));
        Assert.True(await store.DeleteSubscriptionAsync(mine.Id, CancellationToken.None));
        Assert.False(await store.DeleteSubscriptionAsync(mine.Id, CancellationToken.None));
        Assert.Empty(await store.ListDueAsync(_time.GetUtcNow(), 10, CancellationToken.None));
    }

    [Fact]
    public void Signature_VerifiesWithTheSecret_NotWithAnother_NotOutsideTheWindow_NotForAnotherBody()
    {
        var secret = WebhookSignature.NewSecret();
        var body = "{\"delivery_id\":\"whd_1\"}"u8.ToArray();
        var now = _time.GetUtcNow();
        var signature = WebhookSignature.Sign(secret, now.ToUnixTimeSeconds(), body);
        var ts = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var window = WebhookSignature.DefaultTolerance;

        Assert.StartsWith("v1=", signature, StringComparison.Ordinal);
        Assert.True(WebhookSignature.Verify(secret, signature, ts, body, now, window));
        Assert.False(WebhookSignature.Verify(WebhookSignature.NewSecret(), signature, ts, body, now, window));
        Assert.False(WebhookSignature.Verify(secret, signature, ts, body, now.AddMinutes(6), window));
        Assert.False(WebhookSignature.Verify(secret, signature, ts, "{\"delivery_id\":\"whd_2\"}"u8.ToArray(), now, window));
        Assert.False(WebhookSignature.Verify(secret, signature, (now.ToUnixTimeSeconds() + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), body, now, window));
    }

    [Fact]
    public void Backoff_DoublesFromTheBase_AndIsCapped()
    {
        var options = new WebhookDeliveryOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10) };

        Assert.Equal([1, 2, 4, 8, 10, 10], Enumerable.Range(1, 6).Select(n => options.DelayAfter(n).TotalSeconds));
        Assert.Empty(options.Validate());
        Assert.Equal(2, new WebhookDeliveryOptions { MaxAttempts = 0, BaseDelay = TimeSpan.Zero }.Validate().Count);
    }
}
