using RuntimeAI.Core.Analytics;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Core.Tests.Analytics;

/// <summary>Anomalies in synthetic series: a spike and a crash loop are found, noise is not.</summary>
public sealed class AnomalyDetectorTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

    private static List<SignalPoint> Noise(int count, int seed, double mean = 50, double amplitude = 5)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var v = mean + (random.NextDouble() * 2 - 1) * amplitude;
            return new SignalPoint(s_start + TimeSpan.FromHours(i), v, v, v, 1);
        }).ToList();
    }

    [Fact]
    public void Deviations_SpikeInAWeekOfNoise_FoundWithItsSampleAndBaseline()
    {
        var all = Noise(24 * 22, 3);
        var history = all.Take(24 * 21).ToList();
        var window = all.Skip(24 * 21).ToList();
        window[5] = window[5] with { Avg = 95 };

        var anomalies = AnomalyDetector.Deviations(SignalNames.CpuUsage, history, window);

        var spike = Assert.Single(anomalies);
        Assert.Equal("deviation", spike.Kind);
        Assert.Equal(window[5].Ts, spike.Ts);
        Assert.Equal("hour_of_week", spike.Baseline!.Kind);
        Assert.Equal(3, spike.Baseline.Samples);
        Assert.Contains("cpu_usage=95", spike.Evidence[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Deviations_NoiseOnly_NothingFound()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var all = Noise(24 * 9, seed);
            Assert.Empty(AnomalyDetector.Deviations(SignalNames.CpuUsage, all.Take(24 * 8).ToList(), all.Skip(24 * 8).ToList()));
        }
    }

    [Fact]
    public void Deviations_ShortHistory_NoBaselineNoAnomaly()
    {
        var all = Noise(10, 1);
        Assert.Empty(AnomalyDetector.Deviations(SignalNames.CpuUsage, all.Take(5).ToList(), [all[6] with { Avg = 1000 }]));
    }

    [Fact]
    public void Flapping_CrashLoop_FoundWithEveryTransitionAsEvidence()
    {
        var up = Enumerable.Range(0, 12).Select(i => new SignalPoint(s_start + TimeSpan.FromMinutes(i), i % 4 < 2 ? 1 : 0, 0, 1, 1)).ToList();
        var crash = new RuntimeEvent { Id = "ev_1", RuntimeId = "rt_1", Type = "lifecycle.crashed", Ts = s_start + TimeSpan.FromMinutes(2) };

        var flapping = AnomalyDetector.Flapping(up, [crash]);

        Assert.NotNull(flapping);
        Assert.Equal("flapping", flapping.Kind);
        Assert.Contains("crash loop", flapping.Detail, StringComparison.Ordinal);
        Assert.Equal(6, flapping.Evidence.Count);
        Assert.Contains(flapping.Evidence, e => e.Contains("ev_1", StringComparison.Ordinal));
    }

    [Fact]
    public void Flapping_SteadyRuntime_NothingFound()
    {
        var up = Enumerable.Range(0, 60).Select(i => new SignalPoint(s_start + TimeSpan.FromMinutes(i), 1, 1, 1, 1)).ToList();
        Assert.Null(AnomalyDetector.Flapping(up, []));
    }
}
