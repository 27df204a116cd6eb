using System.Globalization;
using System.Text.Json.Serialization;
using RuntimeAI.Core.Actions;

namespace RuntimeAI.Core.Planning;

/// <summary>What an intent asks for.</summary>
public enum IntentGoal
{
    /// <summary>Spend less: downsize or stop what is idle.</summary>
    ReduceCost,
    /// <summary>Bring back what is down and keep it up.</summary>
    ImproveAvailability,
    /// <summary>Lower latency: give saturated runtimes more room.</summary>
    ImprovePerformance,
    /// <summary>Repair a degraded or crash-looping runtime.</summary>
    RecoverDegraded,
    /// <summary>Make every runtime safe to take down (snapshots first).</summary>
    PrepareMaintenance,
    /// <summary>Scale up before a forecast exhaustion.</summary>
    AbsorbLoad,
}

/// <summary>How many safeguards a plan keeps.</summary>
public enum IntentPolicyMode
{
    /// <summary>Snapshot first, one reversible step at a time (the default).</summary>
    SafeFirst,
    /// <summary>Every step the rules find, a snapshot before each shrink.</summary>
    Balanced,
    /// <summary>Fewer safeguards (stop rather than shrink what is idle), still inside policy.</summary>
    Aggressive,
}

/// <summary>Limits a plan must respect.</summary>
public sealed record IntentConstraints
{
    /// <summary>Latency must stay below this many ms: no step may leave a runtime's CPU peak above 70 %.</summary>
    public double? LatencyMs { get; init; }

    /// <summary><c>high</c> forbids stopping anything (also implied by a runtime's <c>availability=high</c> label).</summary>
    public string? Availability { get; init; }

    /// <summary>Monthly cost budget: a plan that would raise the cost above it is not made.</summary>
    public double? CostBudget { get; init; }

    /// <summary>Maintenance window, <c>HH:MM-HH:MM</c> UTC: disruptive steps only inside it.</summary>
    public string? MaintenanceWindow { get; init; }

    /// <summary>True when availability must stay high.</summary>
    [JsonIgnore]
    public bool HighAvailability => string.Equals(Availability, "high", StringComparison.OrdinalIgnoreCase);

    /// <summary>The constraints as short text, e.g. <c>latency_ms &lt; 50, availability=high</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (LatencyMs is { } l)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"latency_ms < {l:0.##}"));
        }

        if (Availability is { } a)
        {
            parts.Add($"availability={a}");
        }

        if (CostBudget is { } c)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"cost_budget ≤ {c:0.##}/month"));
        }

        if (MaintenanceWindow is { } w)
        {
            parts.Add($"maintenance_window {w} UTC");
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}

/// <summary>Prices the expected effect is computed with (configurable; defaults are list-price-like placeholders).</summary>
public sealed record PriceTable
{
    /// <summary>Price of one vCPU for one hour.</summary>
    public double VcpuHour { get; init; } = 0.04;

    /// <summary>Price of one GiB of memory for one hour.</summary>
    public double GibHour { get; init; } = 0.005;

    /// <summary>Currency of the prices.</summary>
    public string Currency { get; init; } = "USD";

    /// <summary>Hours in a month (730, the usual billing convention).</summary>
    public const double HoursPerMonth = 730;

    /// <summary>Monthly cost of an allocation.</summary>
    public double Monthly(double vcpus, double memoryMiB) => (vcpus * VcpuHour + memoryMiB / 1024 * GibHour) * HoursPerMonth;
}

/// <summary>One entry of a plan's explanation trace.</summary>
/// <param name="Step">observation, correlation, forecast, constraint or conclusion.</param>
/// <param name="Detail">What was seen or decided.</param>
/// <param name="Evidence">The stored samples, events or edges it rests on.</param>
public sealed record TraceEntry(string Step, string Detail, IReadOnlyList<string> Evidence);

/// <summary>One step of a plan: the action on its runtime, why, and the evidence.</summary>
public sealed record PlanStep
{
    /// <summary>The runtime the action runs on.</summary>
    public required string RuntimeId { get; init; }

    /// <summary>The action (the same contract as execute_actions).</summary>
    public required RuntimeAction Action { get; init; }

    /// <summary>Why, in one sentence.</summary>
    public required string Reason { get; init; }

    /// <summary>The samples and events the step rests on.</summary>
    public IReadOnlyList<string> Evidence { get; init; } = [];
}

/// <summary>What a plan is expected to change.</summary>
public sealed record ExpectedEffect
{
    /// <summary>vCPUs freed (negative: added).</summary>
    public double VcpusFreed { get; init; }

    /// <summary>Memory freed in MiB (negative: added).</summary>
    public double MemoryMiBFreed { get; init; }

    /// <summary>Monthly cost change (negative: cheaper).</summary>
    public double CostDeltaMonthly { get; init; }

    /// <summary>Currency of <see cref="CostDeltaMonthly"/>.</summary>
    public string Currency { get; init; } = "USD";
}

/// <summary>The answer of the planner: actions and the reasons for them, or inconclusive with what is missing.</summary>
public sealed record IntentPlan
{
    /// <summary>planned (steps to run), no_action (nothing needed) or inconclusive.</summary>
    public required string Status { get; init; }

    /// <summary>The goal planned for.</summary>
    public IntentGoal? Goal { get; init; }

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<PlanStep> Steps { get; init; } = [];

    /// <summary>One line per decision.</summary>
    public IReadOnlyList<string> Rationale { get; init; } = [];

    /// <summary>Observations, forecasts, constraints and the conclusion, each with its evidence.</summary>
    public IReadOnlyList<TraceEntry> Trace { get; init; } = [];

    /// <summary>The computed effect of the steps.</summary>
    public ExpectedEffect Effect { get; init; } = new();

    /// <summary>Steps left for later or for a human (safe_first plans one step; denied steps).</summary>
    public IReadOnlyList<string> Recommendations { get; init; } = [];

    /// <summary>What data or input is missing when inconclusive.</summary>
    public IReadOnlyList<string> Missing { get; init; } = [];
}

/// <summary>The policy's say on one planned step (the planner drops denied steps, citing the rules).</summary>
/// <param name="Denied">True when a deny rule forbids it.</param>
/// <param name="Detail">The rule ids and reasons.</param>
public sealed record StepVerdict(bool Denied, string? Detail);

/// <summary>Asks the policy about one step.</summary>
public delegate StepVerdict StepPolicy(string runtimeId, RuntimeAction action);
