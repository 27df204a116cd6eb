using RuntimeAI.Core.Signals;

namespace RuntimeAI.Storage.Sqlite.Tests;

/// <summary>Signal history: raw samples roll up exactly into minute and hour buckets; retention and the row cap bound it.</summary>
public sealed class SqliteSignalStoreTests : IDisposable
{
    private static readonly DateTimeOffset s_t0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("runtimeai-signals-").FullName;
    private readonly SqliteDatabase _db;
    private readonly SqliteSignalStore _store;

    public SqliteSignalStoreTests()
    {
        _db = SqliteDatabase.Open(_dir);
        _store = new SqliteSignalStore(_db);
    }

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task Append_SamplesEvery15s_MinuteAndHourBucketsHoldAverageMinMaxCount()
    {
        // Two hours at 15 s: value = minute index (0..119), the same in every sample of a minute.
        var samples = Enumerable.Range(0, 480).Select(i => new SignalSample("rt_a", SignalNames.CpuUsage, s_t0 + TimeSpan.FromSeconds(15 * i), i / 4)).ToList();
        await _store.AppendAsync(samples, CancellationToken.None);

        var raw = await _store.QueryAsync("rt_a", SignalNames.CpuUsage, s_t0, s_t0.AddHours(2), SignalResolution.Raw, CancellationToken.None);
        var minutes = await _store.QueryAsync("rt_a", SignalNames.CpuUsage, s_t0, s_t0.AddHours(2), SignalResolution.Minute, CancellationToken.None);
        var hours = await _store.QueryAsync("rt_a", SignalNames.CpuUsage, s_t0, s_t0.AddHours(2), SignalResolution.Hour, CancellationToken.None);

        Assert.Equal(480, raw.Count);
        Assert.Equal(120, minutes.Count);
        Assert.All(minutes, m => Assert.Equal(4, m.Count));
        Assert.Equal(7, minutes[7].Avg);
        Assert.Equal(2, hours.Count);
        Assert.Equal(29.5, hours[0].Avg, 6);
        Assert.Equal(0, hours[0].Min);
        Assert.Equal(59, hours[0].Max);
        Assert.Equal(240, hours[1].Count);
        Assert.Empty(await _store.QueryAsync("rt_b", SignalNames.CpuUsage, s_t0, s_t0.AddHours(2), SignalResolution.Raw, CancellationToken.None));
    }

    [Fact]
    public async Task Prune_DropsWhatIsPastRetentionAndRawRowsBeyondTheCap()
    {
        var samples = Enumerable.Range(0, 600).Select(i => new SignalSample("rt_a", SignalNames.Up, s_t0 + TimeSpan.FromMinutes(i), 1)).ToList();
        await _store.AppendAsync(samples, CancellationToken.None);
        var now = s_t0 + TimeSpan.FromMinutes(600);

        var removed = await _store.PruneAsync(new SignalRetention { Raw = TimeSpan.FromHours(2), Minute = TimeSpan.FromHours(5), Hour = TimeSpan.FromDays(30), MaxRawRows = 100 }, now, CancellationToken.None);

        var raw = await _store.QueryAsync("rt_a", SignalNames.Up, s_t0, now, SignalResolution.Raw, CancellationToken.None);
        var minutes = await _store.QueryAsync("rt_a", SignalNames.Up, s_t0, now, SignalResolution.Minute, CancellationToken.None);
        var hours = await _store.QueryAsync("rt_a", SignalNames.Up, s_t0, now, SignalResolution.Hour, CancellationToken.None);
        Assert.Equal(100, raw.Count);
        Assert.Equal(now - TimeSpan.FromMinutes(100), raw[0].Ts);
        Assert.Equal(300, minutes.Count);
        Assert.Equal(10, hours.Count);
        Assert.Equal(500 + 300, removed);
    }
}
