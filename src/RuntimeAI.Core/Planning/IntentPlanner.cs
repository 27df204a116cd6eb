using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Analytics;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Core.Planning;

/// <summary>What the planner knows about one runtime: its record and its stored signals over the window.</summary>
public sealed record RuntimeSignals
{
    /// <summary>The runtime.</summary>
    public required Runtime Runtime { get; init; }

    /// <summary>cpu_usage points over the window (percent).</summary>
    public IReadOnlyList<SignalPoint> Cpu { get; init; } = [];

    /// <summary>memory_usage points over the window (percent).</summary>
    public IReadOnlyList<SignalPoint> Memory { get; init; } = [];

    /// <summary>up points over the window (1 running, 0 not).</summary>
    public IReadOnlyList<SignalPoint> Up { get; init; } = [];

    /// <summary>The runtime's events in the window.</summary>
    public IReadOnlyList<RuntimeEvent> Events { get; init; } = [];

    /// <summary>Its snapshots, oldest first (null when not read).</summary>
    public IReadOnlyList<SnapshotInfo>? Snapshots { get; init; }
}

/// <summary>What to plan for.</summary>
public sealed record PlanRequest
{
    /// <summary>The goal.</summary>
    public required IntentGoal Goal { get; init; }

    /// <summary>The constraints.</summary>
    public IntentConstraints Constraints { get; init; } = new();

    /// <summary>How many safeguards.</summary>
    public IntentPolicyMode Mode { get; init; } = IntentPolicyMode.SafeFirst;

    /// <summary>The window the signals cover.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How far ahead forecasts look (absorb_load).</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Now (from the injected clock).</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>Prices of the expected effect.</summary>
    public PriceTable Prices { get; init; } = new();

    /// <summary>What parsing free text found (goes first in the trace).</summary>
    public IReadOnlyList<string> ParseNotes { get; init; } = [];
}

/// <summary>
/// Turns a goal, constraints and the stored signals into an explainable plan by fixed rules; every
/// step cites the samples or events it rests on. Signals too weak to decide give "inconclusive"
/// with what is missing — never a guess. Pure: the same inputs give the same plan.
/// </summary>
public static class IntentPlanner
{
    /// <summary>CPU below this (percent, window average) is idle.</summary>
    public const double IdleCpu = 5;

    /// <summary>CPU or memory above this (percent, window average) is saturated.</summary>
    public const double HotUsage = 80;

    /// <summary>Fewest cpu points a usage rule decides on.</summary>
    public const int MinPoints = 6;

    /// <summary>Highest CPU peak a latency constraint tolerates after a shrink.</summary>
    public const double LatencyHeadroom = 70;

    /// <summary>Plans <paramref name="request"/> over <paramref name="runtimes"/>; <paramref name="policy"/> drops denied steps.</summary>
    public static IntentPlan Plan(PlanRequest request, IReadOnlyList<RuntimeSignals> runtimes, StepPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(runtimes);
        var b = new Builder(request);
        if (request.ParseNotes.Count > 0)
        {
            b.Trace("observation", "the goal text was read as: " + string.Join("; ", request.ParseNotes), request.ParseNotes);
        }

        if (request.Constraints.Describe() is var c and not "none")
        {
            b.Trace("constraint", $"constraints: {c}", []);
        }

        if (runtimes.Count == 0)
        {
            b.Missing.Add("no runtime matched: name a runtime_id or a selector that matches runtimes you can see");
        }

        foreach (var r in runtimes.OrderBy(r => r.Runtime.Id, StringComparer.Ordinal))
        {
            switch (request.Goal)
            {
                case IntentGoal.ReduceCost: ReduceCost(b, r); break;
                case IntentGoal.ImprovePerformance: ImprovePerformance(b, r); break;
                case IntentGoal.AbsorbLoad: AbsorbLoad(b, r); break;
                case IntentGoal.ImproveAvailability: Recover(b, r, availability: true); break;
                case IntentGoal.RecoverDegraded: Recover(b, r, availability: false); break;
                case IntentGoal.PrepareMaintenance: PrepareMaintenance(b, r); break;
            }
        }

        return b.Build(policy);
    }

    private static void ReduceCost(Builder b, RuntimeSignals r)
    {
        var rt = r.Runtime;
        if (rt.State != RuntimeState.Running)
        {
            b.Trace("observation", $"{rt.Name} is {EnumText.Name(rt.State)}: it costs no CPU now", []);
            return;
        }

        if (!b.EnoughCpu(r))
        {
            return;
        }

        var avg = r.Cpu.Average(p => p.Avg);
        var peak = r.Cpu.Max(p => p.Max);
        var evidence = Evidence(SignalNames.CpuUsage, r.Cpu);
        if (avg >= IdleCpu)
        {
            b.Trace("observation", Fmt($"{rt.Name} uses {avg:0.#} % CPU on average (peak {peak:0.#} %): not idle (< {IdleCpu} %)"), evidence);
            return;
        }

        b.Trace("observation", Fmt($"{rt.Name} is idle: {avg:0.##} % CPU on average over {r.Cpu.Count} points (peak {peak:0.#} %)"), evidence);
        var (vcpus, memory) = Size(rt);
        var high = b.Request.Constraints.HighAvailability || IsHighAvailability(rt);
        var mayStop = !high && b.Request.Mode != IntentPolicyMode.SafeFirst && OutsideBusinessHoursOrVm(rt, b.Request.Now);
        if (high)
        {
            b.Trace("constraint", $"availability=high ({(IsHighAvailability(rt) ? "label on " + rt.Name : "intent constraint")}) forbids stopping {rt.Name}: shrink at most", []);
        }

        if (mayStop)
        {
            b.Add(new PlanStep
            {
                RuntimeId = rt.Id,
                Action = new RuntimeAction { Type = ActionType.Stop },
                Reason = Fmt($"{rt.Name} is idle ({avg:0.##} % CPU): stopping it frees {vcpus} vCPU and {memory} MiB"),
                Evidence = evidence,
            }, vcpus, memory);
            return;
        }

        var smaller = SizeTable.All.Where(s => s.Vcpus <= vcpus && s.MemoryMiB < memory).OrderByDescending(s => s.MemoryMiB).FirstOrDefault();
        if (smaller is null)
        {
            b.Trace("conclusion", $"{rt.Name} is already the smallest size; nothing to shrink", []);
            return;
        }

        if (b.Request.Constraints.LatencyMs is { } latency)
        {
            var projected = peak * vcpus / Math.Max(1, smaller.Vcpus);
            if (projected > LatencyHeadroom)
            {
                b.Trace("constraint", Fmt($"latency_ms < {latency:0}: after a shrink to {smaller.Name} the CPU peak would be {projected:0} % (> {LatencyHeadroom} %); {rt.Name} is left as it is"), evidence);
                return;
            }

            b.Trace("constraint", Fmt($"latency_ms < {latency:0}: a shrink to {smaller.Name} keeps the CPU peak at {projected:0.#} % (≤ {LatencyHeadroom} %)"), evidence);
        }

        if (b.Request.Mode != IntentPolicyMode.Aggressive && CanDo(rt, "snapshot"))
        {
            b.Add(Snapshot(rt, "before shrinking", b.Request.Now), 0, 0);
        }

        b.Add(new PlanStep
        {
            RuntimeId = rt.Id,
            Action = new RuntimeAction { Type = ActionType.Scale, Params = new JsonObject { ["size"] = smaller.Name } },
            Reason = Fmt($"{rt.Name} is idle ({avg:0.##} % CPU): shrink {vcpus} vCPU/{memory} MiB → {smaller.Name} ({smaller.Vcpus} vCPU/{smaller.MemoryMiB} MiB)"),
            Evidence = evidence,
        }, vcpus - smaller.Vcpus, memory - smaller.MemoryMiB);
    }

    private static void ImprovePerformance(Builder b, RuntimeSignals r)
    {
        var rt = r.Runtime;
        if (rt.State != RuntimeState.Running || !b.EnoughCpu(r))
        {
            return;
        }

        var cpu = r.Cpu.Average(p => p.Avg);
        var mem = r.Memory.Count > 0 ? r.Memory.Average(p => p.Avg) : (double?)null;
        var evidence = Evidence(SignalNames.CpuUsage, r.Cpu).Concat(Evidence(SignalNames.MemoryUsage, r.Memory)).ToList();
        if (cpu < HotUsage && (mem is null || mem < HotUsage))
        {
            b.Trace("observation", Fmt($"{rt.Name}: CPU {cpu:0.#} %{(mem is { } m ? Fmt($", memory {m:0.#} %") : "")}: not saturated (< {HotUsage} %)"), evidence);
            return;
        }

        b.Trace("observation", Fmt($"{rt.Name} is saturated: CPU {cpu:0.#} %{(mem is { } m2 ? Fmt($", memory {m2:0.#} %") : "")} on average"), evidence);
        ScaleUp(b, rt, evidence, "saturated");
    }

    private static void AbsorbLoad(Builder b, RuntimeSignals r)
    {
        var rt = r.Runtime;
        if (rt.State != RuntimeState.Running || !b.EnoughCpu(r))
        {
            return;
        }

        var forecasts = new[] { (SignalNames.CpuUsage, r.Cpu), (SignalNames.MemoryUsage, r.Memory) }
            .Where(s => s.Item2.Count > 0)
            .Select(s => (Metric: s.Item1, Points: s.Item2, F: CapacityForecaster.Forecast(s.Item2, 100, b.Request.Horizon, b.Request.Now)))
            .ToList();
        var exhausting = forecasts.Where(f => f.F.ExhaustionAt is not null).ToList();
        foreach (var f in forecasts)
        {
            b.Trace("forecast", $"{rt.Name} {f.Metric}: {f.F.Summary}", Evidence(f.Metric, f.Points));
        }

        if (exhausting.Count == 0)
        {
            if (forecasts.All(f => f.F.Status != "ok"))
            {
                b.Missing.Add($"{rt.Name}: {forecasts.First().F.Missing}");
            }

            return;
        }

        var first = exhausting.OrderBy(f => f.F.ExhaustionAt).First();
        b.Trace("correlation", $"{rt.Name} {first.Metric} reaches 100 % within the {b.Request.Horizon.TotalHours:0} h horizon: scale up before it does", Evidence(first.Metric, first.Points));
        ScaleUp(b, rt, Evidence(first.Metric, first.Points), $"forecast to exhaust {first.Metric} at {first.F.ExhaustionAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm}Z");
    }

    private static void Recover(Builder b, RuntimeSignals r, bool availability)
    {
        var rt = r.Runtime;
        var flapping = AnomalyDetector.Flapping(r.Up, r.Events);
        if (flapping is not null)
        {
            b.Trace("observation", $"{rt.Name}: {flapping.Detail}", flapping.Evidence);
            var lastGood = r.Snapshots?.Where(s => s.CreatedAt < flapping.Ts).OrderBy(s => s.CreatedAt).LastOrDefault();
            if (lastGood is not null && b.Request.Mode != IntentPolicyMode.SafeFirst && CanDo(rt, "restore"))
            {
                b.Trace("correlation", $"snapshot {lastGood.Name} was taken at {lastGood.CreatedAt.UtcDateTime:HH:mm}Z, before the first state change: the last good state", [$"snapshot {lastGood.Name} at {lastGood.CreatedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}"]);
                b.Add(new PlanStep
                {
                    RuntimeId = rt.Id,
                    Action = new RuntimeAction { Type = ActionType.Restore, Params = new JsonObject { ["snapshot"] = lastGood.Name } },
                    Reason = $"{rt.Name} is in a crash loop: restore {lastGood.Name}, the last snapshot before it began",
                    Evidence = flapping.Evidence,
                }, 0, 0);
                return;
            }

            b.Add(new PlanStep
            {
                RuntimeId = rt.Id,
                Action = new RuntimeAction { Type = rt.State == RuntimeState.Running && CanDo(rt, "restart") ? ActionType.Restart : ActionType.Start },
                Reason = $"{rt.Name} is flapping: {(rt.State == RuntimeState.Running ? "restart" : "start")} it",
                Evidence = flapping.Evidence,
            }, 0, 0);
            if (lastGood is not null)
            {
                b.Recommendations.Add($"if {rt.Name} keeps crashing, restore snapshot {lastGood.Name} (taken before the loop began)");
            }

            return;
        }

        var stateEvidence = new List<string> { $"{rt.Name} ({rt.Id}) state {EnumText.Name(rt.State)}" };
        stateEvidence.AddRange(r.Up.TakeLast(3).Select(p => p.Describe(SignalNames.Up)));
        switch (rt.State)
        {
            case RuntimeState.Running:
                b.Trace("observation", $"{rt.Name} is running with no state changes in the window", stateEvidence);
                return;
            case RuntimeState.Stopped or RuntimeState.Error when availability || rt.State == RuntimeState.Error:
                b.Trace("observation", $"{rt.Name} is {EnumText.Name(rt.State)}", stateEvidence);
                b.Add(new PlanStep
                {
                    RuntimeId = rt.Id,
                    Action = new RuntimeAction { Type = ActionType.Start },
                    Reason = $"{rt.Name} is {EnumText.Name(rt.State)}: start it",
                    Evidence = stateEvidence,
                }, 0, 0);
                return;
            case RuntimeState.Degraded when !CanDo(rt, "restart"):
                b.Trace("observation", $"{rt.Name} is degraded and its backend cannot restart it", stateEvidence);
                b.Recommendations.Add($"{rt.Name} is degraded: look at its backend (get_runtime_status, get_events)");
                return;
            case RuntimeState.Degraded:
                b.Trace("observation", $"{rt.Name} is degraded", stateEvidence);
                b.Add(new PlanStep
                {
                    RuntimeId = rt.Id,
                    Action = new RuntimeAction { Type = ActionType.Restart },
                    Reason = $"{rt.Name} is degraded: restart it",
                    Evidence = stateEvidence,
                }, 0, 0);
                return;
            default:
                b.Trace("observation", $"{rt.Name} is {EnumText.Name(rt.State)}; no recovery rule applies", stateEvidence);
                return;
        }
    }

    private static void PrepareMaintenance(Builder b, RuntimeSignals r)
    {
        var rt = r.Runtime;
        if (rt.State is not (RuntimeState.Running or RuntimeState.Stopped))
        {
            b.Trace("observation", $"{rt.Name} is {EnumText.Name(rt.State)}: no snapshot is taken of it", []);
            return;
        }

        var last = r.Snapshots?.LastOrDefault();
        b.Trace("observation", last is null ? $"{rt.Name} has no snapshot" : $"{rt.Name}'s latest snapshot is {last.Name} ({last.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm}Z)",
            last is null ? [] : [$"snapshot {last.Name} at {last.CreatedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}"]);
        if (!CanDo(rt, "snapshot"))
        {
            b.Recommendations.Add($"{rt.Name} cannot be snapshotted on its backend: back up its data another way before the maintenance");
            return;
        }

        b.Add(Snapshot(rt, "before maintenance", b.Request.Now), 0, 0);
        if (b.Request.Constraints.MaintenanceWindow is { } window)
        {
            b.Recommendations.Add(IntentParser.InWindow(window, b.Request.Now)
                ? $"the maintenance window {window} UTC is open now"
                : $"do the maintenance of {rt.Name} inside {window} UTC; the window is closed now");
        }
    }

    private static void ScaleUp(Builder b, Runtime rt, IReadOnlyList<string> evidence, string why)
    {
        var (vcpus, memory) = Size(rt);
        var steps = b.Request.Mode == IntentPolicyMode.Aggressive ? 2 : 1;
        var bigger = SizeTable.All.Where(s => s.MemoryMiB > memory && s.Vcpus >= vcpus).OrderBy(s => s.MemoryMiB).Skip(steps - 1).FirstOrDefault()
                     ?? SizeTable.All.Where(s => s.MemoryMiB > memory && s.Vcpus >= vcpus).OrderBy(s => s.MemoryMiB).FirstOrDefault();
        if (bigger is null)
        {
            b.Trace("conclusion", $"{rt.Name} is already the largest size; it needs another runtime beside it", []);
            b.Recommendations.Add($"{rt.Name} cannot grow further: add a runtime beside it");
            return;
        }

        if (b.Request.Constraints.CostBudget is { } budget)
        {
            var added = b.Request.Prices.Monthly(bigger.Vcpus - vcpus, bigger.MemoryMiB - memory);
            if (b.CostDelta + added > budget)
            {
                b.Trace("constraint", Fmt($"cost_budget ≤ {budget:0.##}/month: growing {rt.Name} to {bigger.Name} adds {added:0.##}/month; not planned"), []);
                b.Recommendations.Add($"{rt.Name} needs {bigger.Name} but the cost budget does not allow it");
                return;
            }
        }

        b.Add(new PlanStep
        {
            RuntimeId = rt.Id,
            Action = new RuntimeAction { Type = ActionType.Scale, Params = new JsonObject { ["size"] = bigger.Name } },
            Reason = $"{rt.Name} is {why}: grow {vcpus} vCPU/{memory} MiB → {bigger.Name} ({bigger.Vcpus} vCPU/{bigger.MemoryMiB} MiB)",
            Evidence = evidence,
        }, vcpus - bigger.Vcpus, memory - bigger.MemoryMiB);
    }

    private static PlanStep Snapshot(Runtime rt, string why, DateTimeOffset now) => new()
    {
        RuntimeId = rt.Id,
        Action = new RuntimeAction { Type = ActionType.Snapshot, Params = new JsonObject { ["name"] = Fmt($"intent-{now.UtcDateTime:yyyyMMdd-HHmmss}") } },
        Reason = $"snapshot {rt.Name} {why} (reversible)",
    };

    /// <summary>Whether the runtime's backend can do an action (its capabilities; VMs can do all when none are recorded).</summary>
    private static bool CanDo(Runtime rt, string capability) =>
        rt.Capabilities.Count == 0 ? rt.Type == RuntimeType.Vm : rt.Capabilities.Contains(capability, StringComparer.Ordinal);

    private static bool IsHighAvailability(Runtime rt) => rt.Labels.TryGetValue("availability", out var a) && a == "high";

    // A vcluster is paused outside business hours only (09:00–18:00 UTC, Monday to Friday, is in use); a VM any time.
    private static bool OutsideBusinessHoursOrVm(Runtime rt, DateTimeOffset now) =>
        rt.Type != RuntimeType.Vcluster
        || now.UtcDateTime.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday
        || now.UtcDateTime.Hour is < 9 or >= 18;

    /// <summary>The runtime's size: its spec size, else its resources.</summary>
    internal static (int Vcpus, long MemoryMiB) Size(Runtime rt)
    {
        if (SizeTable.TryGet(rt.Spec.Size, out var size))
        {
            return (size.Vcpus, size.MemoryMiB);
        }

        var vcpus = (int)Math.Max(1, rt.Spec.Resources?.Cpu ?? 1);
        return (vcpus, Quantity.TryParseMiB(rt.Spec.Resources?.Memory, out var mib) ? mib : 512);
    }

    private static List<string> Evidence(string metric, IReadOnlyList<SignalPoint> points)
    {
        if (points.Count == 0)
        {
            return [];
        }

        // The first, the last and the extremes: enough for a reader to find the series in get_metrics.
        var picked = new[] { points[0], points.MaxBy(p => p.Avg), points.MinBy(p => p.Avg), points[^1] }.Distinct().OrderBy(p => p.Ts);
        return picked.Select(p => p.Describe(metric)).Prepend(Fmt($"{metric}: {points.Count} points, mean {points.Average(p => p.Avg):0.##}")).ToList();
    }

    private static string Fmt(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Collects steps, trace, missing data and effect while the rules run.</summary>
    private sealed class Builder(PlanRequest request)
    {
        private readonly List<(PlanStep Step, double Vcpus, double Memory)> _steps = [];
        private readonly List<TraceEntry> _trace = [];

        public PlanRequest Request { get; } = request;

        public List<string> Missing { get; } = [];

        public List<string> Recommendations { get; } = [];

        public double CostDelta => _steps.Sum(s => -Request.Prices.Monthly(s.Vcpus, s.Memory));

        public void Trace(string step, string detail, IReadOnlyList<string> evidence) => _trace.Add(new TraceEntry(step, detail, evidence));

        public void Add(PlanStep step, double vcpusFreed, double memoryFreed) => _steps.Add((step, vcpusFreed, memoryFreed));

        public bool EnoughCpu(RuntimeSignals r)
        {
            if (r.Cpu.Count >= MinPoints)
            {
                return true;
            }

            Missing.Add($"{r.Runtime.Name} ({r.Runtime.Id}): cpu_usage has {r.Cpu.Count} point(s) in the {Request.Window.TotalMinutes:0}-minute window, the rules need {MinPoints}; let the collector run longer or widen the window");
            return false;
        }

        public IntentPlan Build(StepPolicy? policy)
        {
            var kept = new List<(PlanStep Step, double Vcpus, double Memory)>();
            foreach (var s in _steps)
            {
                if (policy?.Invoke(s.Step.RuntimeId, s.Step.Action) is { Denied: true } verdict)
                {
                    Trace("constraint", $"policy denies {EnumText.Name(s.Step.Action.Type)} on {s.Step.RuntimeId}: {verdict.Detail}; the step is dropped", []);
                    Recommendations.Add($"{EnumText.Name(s.Step.Action.Type)} {s.Step.RuntimeId} was wanted but policy denies it ({verdict.Detail})");
                    continue;
                }

                kept.Add(s);
            }

            if (Request.Mode == IntentPolicyMode.SafeFirst && kept.Select(s => s.Step.RuntimeId).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                // One runtime at a time: the first runtime's steps now, the rest as the next intents.
                var first = kept[0].Step.RuntimeId;
                foreach (var later in kept.Where(s => s.Step.RuntimeId != first))
                {
                    Recommendations.Add($"next (safe_first runs one runtime at a time): {later.Step.Reason}");
                }

                kept = kept.Where(s => s.Step.RuntimeId == first).ToList();
            }

            var effect = new ExpectedEffect
            {
                VcpusFreed = kept.Sum(s => s.Vcpus),
                MemoryMiBFreed = kept.Sum(s => s.Memory),
                CostDeltaMonthly = Math.Round(kept.Sum(s => -Request.Prices.Monthly(s.Vcpus, s.Memory)), 2),
                Currency = Request.Prices.Currency,
            };
            string status;
            if (kept.Count > 0)
            {
                status = "planned";
                Trace("conclusion", Fmt($"{kept.Count} step(s): {string.Join("; ", kept.Select(s => s.Step.Reason))}. Expected: {effect.VcpusFreed:0.#} vCPU and {effect.MemoryMiBFreed:0} MiB freed, {effect.CostDeltaMonthly:+0.##;-0.##;0} {effect.Currency}/month"), []);
            }
            else if (Missing.Count > 0)
            {
                status = "inconclusive";
                Trace("conclusion", "inconclusive: the signals are too weak to decide (" + string.Join("; ", Missing) + ")", []);
            }
            else
            {
                status = "no_action";
                Trace("conclusion", $"nothing to do for {IntentParser.Name(Request.Goal)}: no rule found a step", []);
            }

            return new IntentPlan
            {
                Status = status,
                Goal = Request.Goal,
                Steps = kept.Select(s => s.Step).ToList(),
                Rationale = kept.Select(s => s.Step.Reason).ToList(),
                Trace = _trace,
                Effect = effect,
                Recommendations = Recommendations,
                Missing = Missing,
            };
        }
    }
}
