using Npgsql;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Storage.Postgres.Tests;

/// <summary>
/// LISTEN/NOTIFY between two database objects (two replicas): a change committed by one is
/// published on the other's change feed, its own are not announced twice, and after the listening
/// connection is killed it reconnects and wakes everyone (<see cref="InventoryChange.Anything"/>).
/// </summary>
public sealed class PostgresChangeListenerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ChangeOnOneReplica_ReachesTheOther_OwnChangesNotRepeated_ReconnectWakesEveryone()
    {
        await using var store = await PostgresStoreUnderTest.CreateAsync();
        var writerDb = await store.OpenDatabaseAsync();
        var listenerDb = await store.OpenDatabaseAsync();
        await using var listening = await Listening.StartAsync(listenerDb);
        var (listener, seen) = (listening.Listener, listening.Seen);

        await new PostgresRuntimeInventory(writerDb).SaveRuntimeAsync(NewRuntime("rt_a"), "created", Ct);
        await new PostgresRuntimeInventory(writerDb).AppendEventAsync(new RuntimeEvent { Id = "evt_1", RuntimeId = "rt_a", Type = "lifecycle.started", Ts = TimeProvider.System.GetUtcNow() }, Ct);
        // The listener's own database object writes too: announced in-process already, not again.
        await new PostgresRuntimeInventory(listenerDb).SaveRuntimeAsync(NewRuntime("rt_own"), "created", Ct);

        Assert.Equal(new InventoryChange("runtime", "rt_a"), Next(seen));
        Assert.Equal(new InventoryChange("runtime", "rt_a"), Next(seen));
        Assert.False(seen.TryTake(out var extra, TimeSpan.FromMilliseconds(500)), $"unexpected {extra}");

        // The listening connection dies (a failover, an idle-connection killer): it comes back and wakes everyone.
        await using (var admin = new NpgsqlConnection(store.Admin))
        {
            await admin.OpenAsync(Ct);
            // Only this test's listener: other tests listen in their own schemas, on their own channels.
            await using var kill = new NpgsqlCommand(
                "SELECT COUNT(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE query = 'LISTEN \"' || @channel || '\"' AND pid <> pg_backend_pid()", admin);
            kill.Parameters.AddWithValue("channel", listenerDb.ChangeChannel);
            Assert.True(Convert.ToInt64(await kill.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        }

        Assert.Equal(InventoryChange.Anything, Next(seen));
        Assert.Equal(2, listener.Connections);
        await new PostgresRuntimeInventory(writerDb).SaveRuntimeAsync(NewRuntime("rt_b"), "created", Ct);
        Assert.Equal(new InventoryChange("runtime", "rt_b"), Next(seen));
    }

    [Fact]
    public async Task TwoStoresInOneDatabase_DoNotWakeEachOther()
    {
        await using var mine = await PostgresStoreUnderTest.CreateAsync();
        await using var other = await PostgresStoreUnderTest.CreateAsync();
        var listenerDb = await mine.OpenDatabaseAsync();
        var writerDb = await mine.OpenDatabaseAsync();
        var neighbourDb = await other.OpenDatabaseAsync();
        await using var listening = await Listening.StartAsync(listenerDb);
        var seen = listening.Seen;

        await new PostgresRuntimeInventory(neighbourDb).SaveRuntimeAsync(NewRuntime("rt_neighbour"), "created", Ct);
        await new PostgresRuntimeInventory(writerDb).SaveRuntimeAsync(NewRuntime("rt_mine"), "created", Ct);

        // Notifications travel in commit order: the neighbour's, had it reached us, would come first.
        Assert.Equal(new InventoryChange("runtime", "rt_mine"), Next(seen));
        Assert.False(seen.TryTake(out var extra, TimeSpan.FromMilliseconds(300)), $"unexpected {extra}");
        Assert.NotEqual(listenerDb.ChangeChannel, neighbourDb.ChangeChannel);
    }

    /// <summary>A change listener on <c>database</c> feeding <see cref="Seen"/>; disposing it stops the listener and waits for it.</summary>
    private sealed class Listening : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        private Task _running = Task.CompletedTask;

        private Listening(PostgresDatabase database)
        {
            var feed = new InventoryChangeFeed();
            feed.Changed += (_, change) => Seen.Add(change);
            Listener = new PostgresChangeListener(database, feed);
        }

        public PostgresChangeListener Listener { get; }

        public System.Collections.Concurrent.BlockingCollection<InventoryChange> Seen { get; } = [];

        public static async Task<Listening> StartAsync(PostgresDatabase database)
        {
            var listening = new Listening(database);
            listening._running = listening.Listener.RunAsync(listening._stop.Token);
            await listening.Listener.Listening.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            return listening;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            _stop.Dispose();
            Seen.Dispose();
        }
    }

    private static InventoryChange Next(System.Collections.Concurrent.BlockingCollection<InventoryChange> seen) =>
        seen.TryTake(out var change, TimeSpan.FromSeconds(15)) ? change : throw new TimeoutException("no change notification within 15 s");

    private static Runtime NewRuntime(string id) => new()
    {
        Id = id, Name = id, Type = RuntimeType.Vm, State = RuntimeState.Running,
        Spec = new RuntimeSpec { Size = "small" }, CreatedAt = TimeProvider.System.GetUtcNow(),
    };
}
