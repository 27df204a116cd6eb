using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Storage.Postgres.Tests;

/// <summary>What one replica sees of the state replicas share for approvals and webhooks.</summary>
public sealed record SharedStateReplica(IApprovalStateStore Approvals, IWebhookStore Webhooks, IRuntimeInventory Inventory);

/// <summary>
/// The approval-state and webhook-claim contracts, run unchanged on both stores, each replica its
/// own database object and connections: a state is used once however many replicas race for it,
/// replicas agree on one key, and a due delivery is claimed by one worker until its lease ends.
/// </summary>
public abstract class SharedStateContractTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new empty store and a way to open replicas of it (skips when its server is not available).</summary>
    protected abstract Task<(IAsyncDisposable Store, Func<Task<SharedStateReplica>> OpenReplica)> CreateAsync();

    [Fact]
    public async Task ApprovalKey_ReplicasStartingTogether_AgreeOnTheFirstStoredKey()
    {
        var (store, open) = await CreateAsync();
        await using var _ = store;
        var replicas = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => open()));

        var keys = await Task.WhenAll(replicas.Select((r, i) => r.Approvals.GetOrCreateKeyAsync(Enumerable.Repeat((byte)(i + 1), 32).ToArray(), Ct)));

        Assert.Single(keys.Select(Convert.ToHexString).Distinct());
        Assert.Contains(keys[0][0], new byte[] { 1, 2, 3, 4 });
        // A later start (a new replica, a restart) gets the same key, not its own candidate.
        var later = await (await open()).Approvals.GetOrCreateKeyAsync(new byte[32], Ct);
        Assert.Equal(keys[0], later);
    }

    [Fact]
    public async Task ApprovalState_RacingReplicas_EachStateUsedExactlyOnce()
    {
        var (store, open) = await CreateAsync();
        await using var _ = store;
        var a = await open();
        var b = await open();
        var nonces = Enumerable.Range(0, 25).Select(i => $"nonce-{i}").ToList();

        // Every state is redeemed at the same moment on both replicas, twice each.
        var results = await Task.WhenAll(nonces.SelectMany(n => new[] { a, b, a, b }.Select(async r =>
            (Nonce: n, First: await r.Approvals.TryUseAsync(n, s_t0.AddMinutes(10), s_t0, Ct)))));

        Assert.All(results.GroupBy(r => r.Nonce), g => Assert.Equal(1, g.Count(r => r.First)));
        Assert.False(await b.Approvals.TryUseAsync("nonce-0", s_t0.AddMinutes(10), s_t0.AddMinutes(9), Ct));
    }

    [Fact]
    public async Task ApprovalState_ExpiredRecords_ArePruned()
    {
        var (store, open) = await CreateAsync();
        await using var _ = store;
        var a = await open();
        var b = await open();

        Assert.True(await a.Approvals.TryUseAsync("n1", s_t0.AddMinutes(1), s_t0, Ct));
        Assert.False(await b.Approvals.TryUseAsync("n1", s_t0.AddMinutes(1), s_t0.AddSeconds(59), Ct));
        // Past its expiry the record is gone (the protector refuses an expired state before asking the
        // store, so this only shows the memory does not grow without bound).
        Assert.True(await b.Approvals.TryUseAsync("n1", s_t0.AddMinutes(20), s_t0.AddMinutes(2), Ct));
        Assert.False(await a.Approvals.TryUseAsync("n1", s_t0.AddMinutes(20), s_t0.AddMinutes(3), Ct));
    }

    [Fact]
    public async Task WebhookClaims_TwoReplicasClaimingAtOnce_NeverGetTheSameDelivery()
    {
        var (store, open) = await CreateAsync();
        await using var _ = store;
        var a = await open();
        var b = await open();
        await EnqueueAsync(a, events: 40);

        var claimedBy = new System.Collections.Concurrent.ConcurrentBag<(string Replica, string Id)>();
        async Task DrainAsync(string name, SharedStateReplica replica)
        {
            while (await replica.Webhooks.ClaimDueAsync(s_t0.AddMinutes(1), TimeSpan.FromMinutes(1), 3, Ct) is { Count: > 0 } claimed)
            {
                foreach (var due in claimed)
                {
                    claimedBy.Add((name, due.Delivery.Id));
                }
            }
        }

        await Task.WhenAll(DrainAsync("a", a), DrainAsync("b", b));

        var all = await a.Webhooks.ListDeliveriesAsync(null, null, 100, Ct);
        Assert.Equal(40, all.Count);
        Assert.Equal(all.Select(d => d.Id).Order(StringComparer.Ordinal), claimedBy.Select(c => c.Id).Order(StringComparer.Ordinal));
        // Nothing is due again until the lease ends.
        Assert.Empty(await b.Webhooks.ClaimDueAsync(s_t0.AddMinutes(1.5), TimeSpan.FromMinutes(1), 10, Ct));
    }

    [Fact]
    public async Task WebhookClaim_LeftByADeadReplica_IsClaimedByAnotherAfterTheLease()
    {
        var (store, open) = await CreateAsync();
        await using var _ = store;
        var dying = await open();
        var survivor = await open();
        await EnqueueAsync(survivor, events: 1);
        var lease = TimeSpan.FromSeconds(40);

        var held = Assert.Single(await dying.Webhooks.ClaimDueAsync(s_t0.AddMinutes(1), lease, 10, Ct));
        // The dying replica never records the attempt.

        Assert.Empty(await survivor.Webhooks.ClaimDueAsync(s_t0.AddMinutes(1) + lease - TimeSpan.FromSeconds(1), lease, 10, Ct));
        Assert.Equal(s_t0.AddMinutes(1) + lease, await survivor.Webhooks.NextDueAtAsync(Ct));
        var retried = Assert.Single(await survivor.Webhooks.ClaimDueAsync(s_t0.AddMinutes(1) + lease, lease, 10, Ct));
        Assert.Equal(held.Delivery.Id, retried.Delivery.Id);
        await survivor.Webhooks.MarkDeliveredAsync(retried.Delivery.Id, 204, s_t0.AddMinutes(2), Ct);
        Assert.Equal(WebhookDeliveryStatus.Delivered, (await dying.Webhooks.GetDeliveryAsync(held.Delivery.Id, Ct))!.Status);
        Assert.Null(await survivor.Webhooks.NextDueAtAsync(Ct));
    }

    private static async Task EnqueueAsync(SharedStateReplica replica, int events)
    {
        await replica.Inventory.SaveRuntimeAsync(new Runtime
        {
            Id = "rt_1", Name = "one", Type = RuntimeType.Vm, State = RuntimeState.Running,
            Backend = new RuntimeBackendRef(BackendKind.VmBackend, "dom-1"), Spec = new RuntimeSpec { Size = "small" }, CreatedAt = s_t0,
        }, "created", Ct);
        await replica.Webhooks.AddSubscriptionAsync(new WebhookSubscription
        {
            Id = "whs_1", Url = new Uri("http://127.0.0.1:9/hook"), Secret = "s3cret", CreatedBy = "alice", CreatedAt = s_t0, EventTypes = ["runtime.*"],
        }, Ct);
        for (var i = 0; i < events; i++)
        {
            await replica.Inventory.AppendEventAsync(new RuntimeEvent { Id = $"evt_{i}", RuntimeId = "rt_1", Type = "runtime.state_changed", Ts = s_t0.AddSeconds(i) }, Ct);
        }

        while (await replica.Webhooks.EnqueueNewEventsAsync(s_t0, 100, Ct) > 0)
        {
        }
    }
}

/// <summary>The shared-state contracts on the embedded SQLite store (replicas: database objects on one file).</summary>
public sealed class SqliteSharedStateContractTests : SharedStateContractTests
{
    protected override Task<(IAsyncDisposable Store, Func<Task<SharedStateReplica>> OpenReplica)> CreateAsync()
    {
        var dir = new SqliteDir();
        return Task.FromResult<(IAsyncDisposable, Func<Task<SharedStateReplica>>)>((dir, () =>
        {
            var db = dir.Open();
            return Task.FromResult(new SharedStateReplica(new SqliteApprovalStateStore(db), new SqliteWebhookStore(db, TimeProvider.System), new SqliteRuntimeInventory(db)));
        }));
    }

    private sealed class SqliteDir : IAsyncDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("runtimeai-shared-").FullName;
        private readonly List<SqliteDatabase> _opened = [];

        public SqliteDatabase Open()
        {
            lock (_opened)
            {
                var db = SqliteDatabase.Open(_dir);
                _opened.Add(db);
                return db;
            }
        }

        public ValueTask DisposeAsync()
        {
            _opened.ForEach(d => d.Dispose());
            Directory.Delete(_dir, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The shared-state contracts on PostgreSQL (skipped with the reason when no server is configured).</summary>
public sealed class PostgresSharedStateContractTests : SharedStateContractTests
{
    protected override async Task<(IAsyncDisposable Store, Func<Task<SharedStateReplica>> OpenReplica)> CreateAsync()
    {
        var store = await PostgresStoreUnderTest.CreateAsync();
        return (store, async () =>
        {
            var db = await store.OpenDatabaseAsync();
            return new SharedStateReplica(new PostgresApprovalStateStore(db), new PostgresWebhookStore(db, TimeProvider.System), new PostgresRuntimeInventory(db));
        });
    }
}
