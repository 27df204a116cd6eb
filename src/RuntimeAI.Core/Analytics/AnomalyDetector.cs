using System.Globalization;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Core.Analytics;

/// <summary>One anomaly with the evidence it rests on.</summary>
public sealed record Anomaly
{
    /// <summary>flapping (state changes too often) or deviation (beyond 3σ of the baseline).</summary>
    public required string Kind { get; init; }

    /// <summary>The metric (or <c>up</c> for state changes).</summary>
    public required string Metric { get; init; }

    /// <summary>When it was seen (the first transition, or the deviating point).</summary>
    public required DateTimeOffset Ts { get; init; }

    /// <summary>One sentence a human can read.</summary>
    public required string Detail { get; init; }

    /// <summary>The samples and events it rests on, each as text that names a stored value.</summary>
    public required IReadOnlyList<string> Evidence { get; init; }

    /// <summary>The baseline (mean, σ and which buckets) for a deviation.</summary>
    public AnomalyBaseline? Baseline { get; init; }
}

/// <summary>The baseline a point was compared with.</summary>
/// <param name="Kind">hour_of_week, hour_of_day or overall: the finest bucketing the history supports.</param>
/// <param name="Mean">Baseline mean.</param>
/// <param name="Std">Baseline standard deviation (with a floor, so a flat series does not make noise an anomaly).</param>
/// <param name="Samples">How many history points the baseline holds.</param>
public sealed record AnomalyBaseline(string Kind, double Mean, double Std, int Samples);

/// <summary>
/// Deterministic anomaly rules: state flapping (the runtime went up and down too often, a crash
/// loop) and deviations beyond 3σ of the same hour-of-week baseline (falling back to hour of day,
/// then to the whole history, when the history is too short to have three points per bucket).
/// </summary>
public static class AnomalyDetector
{
    /// <summary>How many state changes within the window make flapping.</summary>
    public const int FlapThreshold = 3;

    /// <summary>How many standard deviations make a deviation.</summary>
    public const double Sigmas = 3;

    /// <summary>Fewest history points a deviation baseline needs.</summary>
    public const int MinBaseline = 12;

    /// <summary>
    /// State transitions: changes of the <c>up</c> series plus lifecycle events reporting a crash or
    /// an observed state change, within the window. Flapping when there are at least <see cref="FlapThreshold"/>.
    /// </summary>
    public static Anomaly? Flapping(IReadOnlyList<SignalPoint> up, IReadOnlyList<RuntimeEvent> events)
    {
        ArgumentNullException.ThrowIfNull(up);
        ArgumentNullException.ThrowIfNull(events);
        var evidence = new List<string>();
        var transitions = new List<DateTimeOffset>();
        for (var i = 1; i < up.Count; i++)
        {
            if ((up[i].Avg >= 0.5) != (up[i - 1].Avg >= 0.5))
            {
                transitions.Add(up[i].Ts);
                evidence.Add(string.Create(CultureInfo.InvariantCulture, $"up {up[i - 1].Avg:0}→{up[i].Avg:0} at {up[i].Ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}"));
            }
        }

        foreach (var e in events.Where(e => e.Type is "lifecycle.crashed" or "lifecycle.state_observed").OrderBy(e => e.Ts))
        {
            transitions.Add(e.Ts);
            evidence.Add($"event {e.Id} {e.Type} at {e.Ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}");
        }

        if (transitions.Count < FlapThreshold)
        {
            return null;
        }

        var crashes = events.Count(e => e.Type == "lifecycle.crashed");
        return new Anomaly
        {
            Kind = "flapping",
            Metric = SignalNames.Up,
            Ts = transitions.Min(),
            Detail = string.Create(CultureInfo.InvariantCulture,
                $"{transitions.Count} state changes in the window{(crashes > 0 ? $", {crashes} crash(es): a crash loop" : ": flapping")}"),
            Evidence = evidence.Take(20).ToList(),
        };
    }

    /// <summary>
    /// Points of <paramref name="window"/> beyond <see cref="Sigmas"/>σ from the baseline built
    /// from <paramref name="history"/> (points before the window, same resolution).
    /// </summary>
    public static IReadOnlyList<Anomaly> Deviations(string metric, IReadOnlyList<SignalPoint> history, IReadOnlyList<SignalPoint> window)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(window);
        var found = new List<Anomaly>();
        if (history.Count < MinBaseline)
        {
            return found;
        }

        var overall = Stats(history.Select(p => p.Avg));
        foreach (var point in window)
        {
            var how = CapacityForecaster.HourOfWeek(point.Ts);
            var hod = point.Ts.UtcDateTime.Hour;
            var sameWeekHour = history.Where(p => CapacityForecaster.HourOfWeek(p.Ts) == how).Select(p => p.Avg).ToList();
            var sameDayHour = history.Where(p => p.Ts.UtcDateTime.Hour == hod).Select(p => p.Avg).ToList();
            var (kind, values) = sameWeekHour.Count >= 3 ? ("hour_of_week", sameWeekHour)
                : sameDayHour.Count >= 3 ? ("hour_of_day", sameDayHour)
                : ("overall", history.Select(p => p.Avg).ToList());
            var (mean, std) = Stats(values);
            // A floor on σ: a nearly flat history must not turn ordinary jitter into an anomaly.
            std = Math.Max(std, Math.Max(overall.Std, Math.Max(0.5, Math.Abs(mean) * 0.02)));
            var z = (point.Avg - mean) / std;
            if (Math.Abs(z) > Sigmas)
            {
                found.Add(new Anomaly
                {
                    Kind = "deviation",
                    Metric = metric,
                    Ts = point.Ts,
                    Detail = string.Create(CultureInfo.InvariantCulture,
                        $"{metric} {point.Avg:0.##} is {Math.Abs(z):0.#}σ {(z > 0 ? "above" : "below")} its {kind.Replace('_', ' ')} baseline {mean:0.##} ± {std:0.##}"),
                    Evidence = [point.Describe(metric), string.Create(CultureInfo.InvariantCulture, $"baseline {kind}: mean {mean:0.##}, σ {std:0.##} over {values.Count} point(s)")],
                    Baseline = new AnomalyBaseline(kind, mean, std, values.Count),
                });
            }
        }

        return found;
    }

    private static (double Mean, double Std) Stats(IEnumerable<double> values)
    {
        var list = values as IList<double> ?? values.ToList();
        if (list.Count == 0)
        {
            return (0, 0);
        }

        var mean = list.Average();
        var variance = list.Count < 2 ? 0 : list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1);
        return (mean, Math.Sqrt(variance));
    }
}
