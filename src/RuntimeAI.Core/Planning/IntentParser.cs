using System.Globalization;
using System.Text.RegularExpressions;

namespace RuntimeAI.Core.Planning;

/// <summary>The goal and constraints read from free text, and what could not be read.</summary>
/// <param name="Goal">The goal, or null when the text names none the planner serves.</param>
/// <param name="Constraints">The constraints found.</param>
/// <param name="Notes">What was recognised, as evidence for the trace (e.g. <c>"latency &lt; 50ms" → latency_ms &lt; 50</c>).</param>
public sealed record ParsedIntent(IntentGoal? Goal, IntentConstraints Constraints, IReadOnlyList<string> Notes);

/// <summary>
/// A small deterministic parser from free text to a goal and constraints: "reduce cost while
/// keeping latency &lt; 50ms" → goal reduce_cost, constraint latency_ms &lt; 50. The text before the
/// first "while / keeping / but / without / with" names the goal; the rest carries constraints.
/// Keywords and patterns only: the same text always gives the same intent, and nothing is guessed.
/// </summary>
public static partial class IntentParser
{
    private static readonly (IntentGoal Goal, string[] Words)[] s_goals =
    [
        (IntentGoal.RecoverDegraded, ["recover", "repair", "heal", "degraded", "crash", "broken", "fix"]),
        (IntentGoal.PrepareMaintenance, ["maintenance", "patch", "upgrade", "drain"]),
        (IntentGoal.AbsorbLoad, ["absorb", "load increase", "traffic", "spike", "peak", "demand", "more load", "scale up"]),
        (IntentGoal.ReduceCost, ["cost", "cheaper", "spend", "save money", "savings", "idle", "waste"]),
        (IntentGoal.ImprovePerformance, ["latency", "performance", "faster", "slow", "speed", "throughput"]),
        (IntentGoal.ImproveAvailability, ["availability", "available", "uptime", "resilien", "redundan", "outage", "down"]),
    ];

    /// <summary>The snake_case name of a goal, as tools and the trace show it.</summary>
    public static string Name(IntentGoal goal) => goal switch
    {
        IntentGoal.ReduceCost => "reduce_cost",
        IntentGoal.ImproveAvailability => "improve_availability",
        IntentGoal.ImprovePerformance => "improve_performance",
        IntentGoal.RecoverDegraded => "recover_degraded",
        IntentGoal.PrepareMaintenance => "prepare_maintenance",
        IntentGoal.AbsorbLoad => "absorb_load",
        _ => throw new ArgumentOutOfRangeException(nameof(goal)),
    };

    /// <summary>Every goal name, for schemas and errors.</summary>
    public static IReadOnlyList<string> GoalNames { get; } = Enum.GetValues<IntentGoal>().Select(Name).ToArray();

    /// <summary>A goal by its snake_case name.</summary>
    public static bool TryParseGoal(string? name, out IntentGoal goal)
    {
        foreach (var g in Enum.GetValues<IntentGoal>())
        {
            if (string.Equals(Name(g), name, StringComparison.Ordinal))
            {
                goal = g;
                return true;
            }
        }

        goal = default;
        return false;
    }

    /// <summary>Reads a goal and constraints from <paramref name="text"/>.</summary>
    public static ParsedIntent Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lower = text.ToLowerInvariant();
        var notes = new List<string>();
        var split = Separator().Match(lower);
        var goalText = split.Success ? lower[..split.Index] : lower;
        var constraintText = split.Success ? lower[split.Index..] : string.Empty;

        IntentGoal? goal = null;
        foreach (var (candidate, words) in s_goals)
        {
            if (words.FirstOrDefault(w => goalText.Contains(w, StringComparison.Ordinal)) is { } word)
            {
                goal = candidate;
                notes.Add($"\"{word}\" → goal {Name(candidate)}");
                break;
            }
        }

        var constraints = new IntentConstraints();
        if (Latency().Match(lower) is { Success: true } latency)
        {
            var ms = double.Parse(latency.Groups["n"].Value, CultureInfo.InvariantCulture) * (latency.Groups["u"].Value == "s" ? 1000 : 1);
            constraints = constraints with { LatencyMs = ms };
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"\"{latency.Value.Trim()}\" → latency_ms < {ms:0.##}"));
        }

        if (HighAvailability().Match(constraintText.Length > 0 ? constraintText : (goal is null ? lower : string.Empty)) is { Success: true } availability)
        {
            constraints = constraints with { Availability = "high" };
            notes.Add($"\"{availability.Value.Trim()}\" → availability=high");
        }

        if (Budget().Match(lower) is { Success: true } budget)
        {
            var amount = double.Parse(budget.Groups["n"].Value, CultureInfo.InvariantCulture);
            constraints = constraints with { CostBudget = amount };
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"\"{budget.Value.Trim()}\" → cost_budget ≤ {amount:0.##}/month"));
        }

        if (Window().Match(lower) is { Success: true } window)
        {
            var w = $"{window.Groups["a"].Value}-{window.Groups["b"].Value}";
            constraints = constraints with { MaintenanceWindow = w };
            notes.Add($"\"{window.Value.Trim()}\" → maintenance_window {w}");
        }

        return new ParsedIntent(goal, constraints, notes);
    }

    /// <summary>True when <paramref name="now"/> is inside an <c>HH:MM-HH:MM</c> UTC window (which may wrap midnight).</summary>
    public static bool InWindow(string window, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(window);
        var m = WindowValue().Match(window);
        if (!m.Success)
        {
            return false;
        }

        var from = TimeSpan.Parse(m.Groups["a"].Value, CultureInfo.InvariantCulture);
        var to = TimeSpan.Parse(m.Groups["b"].Value, CultureInfo.InvariantCulture);
        var t = now.UtcDateTime.TimeOfDay;
        return from <= to ? t >= from && t < to : t >= from || t < to;
    }

    /// <summary>Pattern of a maintenance window value.</summary>
    public const string WindowPattern = "^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$";

    [GeneratedRegex(@"\b(while|keeping|keep|but|without|with|provided|as long as)\b")]
    private static partial Regex Separator();

    [GeneratedRegex(@"latency\s*(?:of\s*)?(?:<=?|under|below|less than|at most)\s*(?<n>\d+(?:\.\d+)?)\s*(?<u>ms|s)\b")]
    private static partial Regex Latency();

    [GeneratedRegex(@"(availability\s*(?:=|:|is|stays|at)?\s*high|high(?:ly)?[\s-]*availab\w*|no downtime|(?:keep|keeping|stay)\s+(?:it\s+)?up)")]
    private static partial Regex HighAvailability();

    [GeneratedRegex(@"(?:budget|cost)\s*(?:of|<=?|under|below|at most)?\s*\$?\s*(?<n>\d+(?:\.\d+)?)\s*(?:/\s*month|a month|per month|monthly)?")]
    private static partial Regex Budget();

    [GeneratedRegex(@"window\s*(?:of\s*)?(?<a>(?:[01][0-9]|2[0-3]):[0-5][0-9])\s*[-–to ]+\s*(?<b>(?:[01][0-9]|2[0-3]):[0-5][0-9])")]
    private static partial Regex Window();

    [GeneratedRegex(@"^(?<a>\d\d:\d\d)-(?<b>\d\d:\d\d)$")]
    private static partial Regex WindowValue();
}
