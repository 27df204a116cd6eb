using RuntimeAI.Core.Analytics;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Core.Tests.Analytics;

/// <summary>Forecasts against synthetic series whose answer is known.</summary>
public sealed class CapacityForecasterTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero); // a Monday

    private static List<SignalPoint> Series(int count, TimeSpan step, Func<int, double> value) =>
        Enumerable.Range(0, count).Select(i => { var v = value(i); return new SignalPoint(s_start + step * i, v, v, v, 1); }).ToList();

    [Fact]
    public void Forecast_LinearRamp_ExhaustionWithinFivePercentOfTheTrueTime()
    {
        // 20 % + 1.5 %/h with ±2 deterministic noise: 100 % is reached 53.3 h after the start.
        var random = new Random(7);
        var points = Series(24, TimeSpan.FromHours(1), i => 20 + 1.5 * i + (random.NextDouble() * 4 - 2));
        var now = points[^1].Ts;
        var truth = s_start + TimeSpan.FromHours(80 / 1.5);

        var forecast = CapacityForecaster.Forecast(points, 100, TimeSpan.FromDays(7), now);

        Assert.Equal("ok", forecast.Status);
        Assert.NotNull(forecast.ExhaustionAt);
        var expectedFromNow = (truth - now).TotalHours;
        Assert.InRange((forecast.ExhaustionAt!.Value - now).TotalHours, expectedFromNow * 0.95, expectedFromNow * 1.05);
        Assert.InRange(forecast.SlopePerHour, 1.4, 1.6);
        Assert.True(forecast.RSquared > 0.95, $"R² {forecast.RSquared}");
        Assert.False(forecast.Seasonal);
    }

    [Fact]
    public void Forecast_ExhaustionWithin24Hours_Warns()
    {
        var points = Series(12, TimeSpan.FromHours(1), i => 50 + 4 * i);
        var forecast = CapacityForecaster.Forecast(points, 100, TimeSpan.FromDays(2), points[^1].Ts);

        Assert.True(forecast.Warning);
        Assert.Contains("WARNING", forecast.Summary, StringComparison.Ordinal);
        Assert.InRange((forecast.ExhaustionAt!.Value - points[^1].Ts).TotalHours, 1.4, 1.6);
    }

    [Fact]
    public void Forecast_FlatSeries_NoExhaustionNoWarning()
    {
        var points = Series(30, TimeSpan.FromMinutes(1), _ => 40);
        var forecast = CapacityForecaster.Forecast(points, 100, TimeSpan.FromDays(30), points[^1].Ts);

        Assert.Equal("ok", forecast.Status);
        Assert.Null(forecast.ExhaustionAt);
        Assert.False(forecast.Warning);
    }

    [Fact]
    public void Forecast_TooFewPoints_NotEnoughDataSayingWhatIsMissing()
    {
        var points = Series(3, TimeSpan.FromMinutes(1), i => i);
        var forecast = CapacityForecaster.Forecast(points, 100, TimeSpan.FromHours(24), points[^1].Ts);

        Assert.Equal("not_enough_data", forecast.Status);
        Assert.Contains("at least 6 points", forecast.Missing, StringComparison.Ordinal);
        Assert.Null(forecast.ExhaustionAt);
    }

    [Fact]
    public void Forecast_WeekOfDailyCycle_FitsSeasonalityAndFindsThePeakCrossing()
    {
        // Two weeks hourly: a flat trend at 60 with a daily peak of +35 at 14:00 only on weekdays.
        var points = Series(24 * 14, TimeSpan.FromHours(1), i =>
        {
            var t = s_start + TimeSpan.FromHours(i);
            var weekday = t.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);
            return 60 + 0.01 * i + (weekday && t.Hour == 14 ? 35 : 0);
        });
        var now = points[^1].Ts;

        var seasonal = CapacityForecaster.Forecast(points, 96, TimeSpan.FromDays(7), now);

        Assert.True(seasonal.Seasonal);
        Assert.True(seasonal.RSquared > 0.99, $"R² {seasonal.RSquared}");
        Assert.NotNull(seasonal.ExhaustionAt);
        Assert.Equal(14, seasonal.ExhaustionAt!.Value.UtcDateTime.Hour);
        Assert.NotEqual(DayOfWeek.Saturday, seasonal.ExhaustionAt.Value.DayOfWeek);
    }
}
