using System.Globalization;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Core.Analytics;

/// <summary>The answer of <see cref="CapacityForecaster.Forecast"/>.</summary>
public sealed record CapacityForecast
{
    /// <summary>ok, or not_enough_data (then <see cref="Missing"/> says what is missing).</summary>
    public required string Status { get; init; }

    /// <summary>What data is missing for a forecast (null when there is one).</summary>
    public string? Missing { get; init; }

    /// <summary>Trend slope, in the metric's unit per hour.</summary>
    public double SlopePerHour { get; init; }

    /// <summary>The trend's value now.</summary>
    public double Current { get; init; }

    /// <summary>Share of the variance the model explains (R², 0..1).</summary>
    public double RSquared { get; init; }

    /// <summary>Standard deviation of the residuals, in the metric's unit.</summary>
    public double ResidualStd { get; init; }

    /// <summary>True when an hour-of-week seasonal profile was fitted (a week or more of data).</summary>
    public bool Seasonal { get; init; }

    /// <summary>When the model reaches the capacity (null when it does not within the horizon).</summary>
    public DateTimeOffset? ExhaustionAt { get; init; }

    /// <summary>True when exhaustion is within 24 hours.</summary>
    public bool Warning { get; init; }

    /// <summary>Points the fit used.</summary>
    public int Points { get; init; }

    /// <summary>The span of the data.</summary>
    public TimeSpan Span { get; init; }

    /// <summary>One sentence a human can read.</summary>
    public required string Summary { get; init; }
}

/// <summary>
/// Capacity forecasts by ordinary least squares: a linear trend over the points, plus an
/// hour-of-week seasonal profile (the mean residual of each hour of the week) when the data
/// covers a week. Pure and deterministic: the same points give the same answer.
/// </summary>
public static class CapacityForecaster
{
    /// <summary>Fewest points a trend is fitted on.</summary>
    public const int MinPoints = 6;

    /// <summary>Shortest span a trend is fitted on.</summary>
    public static readonly TimeSpan MinSpan = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan s_week = TimeSpan.FromDays(7);

    /// <summary>Forecasts when <paramref name="points"/> reach <paramref name="capacity"/>, looking <paramref name="horizon"/> ahead of <paramref name="now"/>.</summary>
    public static CapacityForecast Forecast(IReadOnlyList<SignalPoint> points, double capacity, TimeSpan horizon, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(points);
        var span = points.Count > 1 ? points[^1].Ts - points[0].Ts : TimeSpan.Zero;
        if (points.Count < MinPoints || span < MinSpan)
        {
            return new CapacityForecast
            {
                Status = "not_enough_data",
                Points = points.Count,
                Span = span,
                Missing = string.Create(CultureInfo.InvariantCulture,
                    $"a trend needs at least {MinPoints} points over {MinSpan.TotalMinutes:0} minutes; there are {points.Count} over {span.TotalMinutes:0.#} minutes — wait for the collector or widen the window"),
                Summary = "not enough data for a forecast",
            };
        }

        var origin = points[0].Ts;
        var x = new double[points.Count];
        var y = new double[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            x[i] = (points[i].Ts - origin).TotalHours;
            y[i] = points[i].Avg;
        }

        var (a, b) = Fit(x, y);
        double[]? profile = null;
        if (span >= s_week - TimeSpan.FromHours(1))
        {
            // Seasonality: the mean residual per hour of the week, then the trend again without it.
            profile = new double[168];
            var counts = new int[168];
            for (var i = 0; i < points.Count; i++)
            {
                var h = HourOfWeek(points[i].Ts);
                profile[h] += y[i] - (a + b * x[i]);
                counts[h]++;
            }

            for (var h = 0; h < 168; h++)
            {
                profile[h] = counts[h] == 0 ? 0 : profile[h] / counts[h];
            }

            var adjusted = new double[y.Length];
            for (var i = 0; i < y.Length; i++)
            {
                adjusted[i] = y[i] - profile[HourOfWeek(points[i].Ts)];
            }

            (a, b) = Fit(x, adjusted);
        }

        double Model(DateTimeOffset t) => a + b * (t - origin).TotalHours + (profile is null ? 0 : profile[HourOfWeek(t)]);

        double mean = y.Average(), total = 0, residual = 0;
        for (var i = 0; i < y.Length; i++)
        {
            total += (y[i] - mean) * (y[i] - mean);
            var r = y[i] - Model(points[i].Ts);
            residual += r * r;
        }

        var r2 = total <= 1e-12 ? (residual <= 1e-12 ? 1 : 0) : Math.Max(0, 1 - residual / total);
        var std = Math.Sqrt(residual / Math.Max(1, y.Length - 2));
        var current = a + b * (now - origin).TotalHours;
        DateTimeOffset? exhaustion = null;
        if (Model(now) >= capacity)
        {
            exhaustion = now;
        }
        else if (profile is null)
        {
            if (b > 1e-12)
            {
                var hours = (capacity - a) / b;
                var at = origin + TimeSpan.FromHours(hours);
                exhaustion = at <= now + horizon ? (at < now ? now : at) : null;
            }
        }
        else
        {
            // With a weekly profile the first crossing can be at a seasonal peak: scan the horizon hour by hour.
            for (var t = now; t <= now + horizon; t += TimeSpan.FromHours(1))
            {
                if (Model(t) >= capacity)
                {
                    exhaustion = t;
                    break;
                }
            }
        }

        var warning = exhaustion is { } e && e - now <= TimeSpan.FromHours(24);
        var trend = string.Create(CultureInfo.InvariantCulture, $"trend {b:+0.###;-0.###;0}/h from {current:0.##} (R² {r2:0.00}{(profile is null ? "" : ", hour-of-week seasonality")})");
        return new CapacityForecast
        {
            Status = "ok",
            SlopePerHour = b,
            Current = current,
            RSquared = r2,
            ResidualStd = std,
            Seasonal = profile is not null,
            ExhaustionAt = exhaustion,
            Warning = warning,
            Points = points.Count,
            Span = span,
            Summary = exhaustion is { } when
                ? string.Create(CultureInfo.InvariantCulture, $"{trend}: reaches {capacity:0.##} at {when.UtcDateTime:yyyy-MM-dd'T'HH:mm'Z'} (in {(when - now).TotalHours:0.#} h){(warning ? " — WARNING: within 24 h" : "")}")
                : string.Create(CultureInfo.InvariantCulture, $"{trend}: does not reach {capacity:0.##} within {horizon.TotalHours:0.#} h"),
        };
    }

    /// <summary>Hour of the week, 0 = Monday 00:00 UTC.</summary>
    public static int HourOfWeek(DateTimeOffset t)
    {
        var utc = t.UtcDateTime;
        return ((int)utc.DayOfWeek + 6) % 7 * 24 + utc.Hour;
    }

    /// <summary>Least squares line y = a + b·x.</summary>
    internal static (double A, double B) Fit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        double n = x.Count, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (var i = 0; i < x.Count; i++)
        {
            sx += x[i];
            sy += y[i];
            sxx += x[i] * x[i];
            sxy += x[i] * y[i];
        }

        var d = n * sxx - sx * sx;
        if (Math.Abs(d) < 1e-12)
        {
            return (sy / n, 0);
        }

        var b = (n * sxy - sx * sy) / d;
        return ((sy - b * sx) / n, b);
    }
}
