using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Core.Tests.Lifecycle;

/// <summary>
/// The locks a saga over several runtimes holds: taken in ordinal order of the runtime ids (so two
/// sagas over the same runtimes in opposite order cannot deadlock), released on every path.
/// </summary>
public sealed class MultiRuntimeHoldTests
{
    private static RuntimeLifecycle NewLifecycle()
    {
        var time = new FakeTimeProvider();
        return new RuntimeLifecycle(new InMemoryInventory(), new DriverRegistry([new FlippableDriver("fake:one")]), new IdGenerator(time), time, NullLogger<RuntimeLifecycle>.Instance);
    }

    [Fact]
    public async Task HoldAll_GivenInReverseOrder_WaitsOnTheSmallestIdFirstHoldingNothingElse()
    {
        var lifecycle = NewLifecycle();
        using var a = await lifecycle.HoldAsync("rt_a", CancellationToken.None);

        var all = lifecycle.HoldAllAsync(["rt_b", "rt_a"], CancellationToken.None);

        Assert.False(all.IsCompleted);
        // rt_b is free: the saga waits on rt_a before it takes rt_b, so it holds nothing another saga needs.
        var b = lifecycle.HoldAsync("rt_b", CancellationToken.None);
        Assert.True(b.IsCompletedSuccessfully, "rt_b was taken out of order while waiting for rt_a");
        (await b).Dispose();
        a.Dispose();
        var holds = await all.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(["rt_a", "rt_b"], holds.Select(h => h.RuntimeId));
        RuntimeLifecycle.Release(holds);
        Assert.Equal(0, lifecycle.LocksInUse);
    }

    [Fact]
    public async Task HoldAll_CancelledHalfway_ReleasesWhatItHadTaken()
    {
        var lifecycle = NewLifecycle();
        using var b = await lifecycle.HoldAsync("rt_b", CancellationToken.None);
        using var cts = new CancellationTokenSource();

        var all = lifecycle.HoldAllAsync(["rt_a", "rt_b"], cts.Token);
        Assert.False(all.IsCompleted);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => all);
        var a = lifecycle.HoldAsync("rt_a", CancellationToken.None);
        Assert.True(a.IsCompletedSuccessfully, "rt_a stayed locked after the multi-runtime hold was cancelled");
        (await a).Dispose();
    }

    [Fact]
    public async Task HoldAll_TwoSagasInOppositeOrderManyTimes_NeverDeadlock()
    {
        var lifecycle = NewLifecycle();

        async Task RunAsync(string[] order)
        {
            for (var i = 0; i < 200; i++)
            {
                var holds = await lifecycle.HoldAllAsync(order, CancellationToken.None);
                await Task.Yield();
                RuntimeLifecycle.Release(holds);
            }
        }

        await Task.WhenAll(Task.Run(() => RunAsync(["rt_a", "rt_b"]), TestContext.Current.CancellationToken), Task.Run(() => RunAsync(["rt_b", "rt_a"]), TestContext.Current.CancellationToken))
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(0, lifecycle.LocksInUse);
    }
}
