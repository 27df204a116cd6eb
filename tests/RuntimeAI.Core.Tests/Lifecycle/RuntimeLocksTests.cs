using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Core.Tests.Lifecycle;

public sealed class RuntimeLocksTests
{
    [Fact]
    public async Task Acquire_SecondWaitsForTheFirst_AndTheEntryGoesWhenTheLastReleases()
    {
        var locks = new RuntimeLocks();
        var first = await locks.AcquireAsync("rt_a", CancellationToken.None);
        var second = locks.AcquireAsync("rt_a", CancellationToken.None);
        var other = await locks.AcquireAsync("rt_b", CancellationToken.None);

        Assert.False(second.IsCompleted);
        Assert.Equal(2, locks.Count);
        first.Dispose();
        (await second).Dispose();
        other.Dispose();

        Assert.Equal(0, locks.Count);
    }

    [Fact]
    public async Task Acquire_CancelledWhileWaiting_LeavesNoEntryBehind()
    {
        var locks = new RuntimeLocks();
        var held = await locks.AcquireAsync("rt_a", CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var waiting = locks.AcquireAsync("rt_a", cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();

        Assert.Equal(0, locks.Count);
    }
}
