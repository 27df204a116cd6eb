using System.Diagnostics;
using RuntimeAI.Core.Audit;

namespace RuntimeAI.Storage.Postgres.Tests;

/// <summary>
/// The figures of docs/scale-out.md: audited calls/s (start then record, 2000 calls) with 1, 2 and 3
/// writers on each store. Opt-in (half a minute of load): RUNTIMEAI_STORE_MEASURE=1; the chain must
/// verify and hold every call whatever the speed.
/// </summary>
public sealed class AuditThroughputMeasurement(ITestOutputHelper output)
{
    private static async Task<double> RunAsync(IStoreUnderTest store, int replicas, int calls, int concurrency)
    {
        var sets = new List<StoreSet>();
        for (var i = 0; i < replicas; i++)
        {
            sets.Add(await store.OpenReplicaAsync());
        }

        var next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < calls)
            {
                var log = sets[n % replicas].Audit;
                var id = $"c{n}";
                await log.BeginAsync(new AuditBegin { CallId = id, Ts = DateTimeOffset.UnixEpoch, Tool = "stop_runtime" }, CancellationToken.None);
                await log.EndAsync(new AuditEnd { CallId = id, Ts = DateTimeOffset.UnixEpoch, Outcome = "ok" }, CancellationToken.None);
            }
        })));
        sw.Stop();
        var all = await sets[0].Audit.QueryAsync(new AuditQuery { PageSize = 10_000 }, CancellationToken.None);
        Assert.True(AuditChain.Verify(all).Ok);
        Assert.Equal(calls, all.Count);
        return calls / sw.Elapsed.TotalSeconds;
    }

    [Fact]
    public async Task AuditedCallsPerSecond_OneTwoThreeWriters_BothStores()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("RUNTIMEAI_STORE_MEASURE") != "1", "a measurement, not a check: set RUNTIMEAI_STORE_MEASURE=1 (and RUNTIMEAI_TEST_POSTGRES) to print the figures of docs/scale-out.md");
        foreach (var (name, make) in new (string, Func<Task<IStoreUnderTest>>)[] { ("sqlite", () => Task.FromResult<IStoreUnderTest>(new SqliteStoreUnderTest())), ("postgres", async () => await PostgresStoreUnderTest.CreateAsync()) })
        {
            foreach (var (replicas, conc) in new[] { (1, 1), (1, 32), (2, 32), (3, 48) })
            {
                await using var store = await make();
                var rate = await RunAsync(store, replicas, 2000, conc);
                output.WriteLine($"{name} replicas={replicas} concurrency={conc}: {rate:F0} audited calls/s");
            }
        }
    }
}
