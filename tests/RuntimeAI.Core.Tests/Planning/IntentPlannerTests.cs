using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Planning;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Core.Tests.Planning;

/// <summary>The free-text parser and the planning rules, on synthetic signals with known answers.</summary>
public sealed class IntentPlannerTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero); // Monday 03:00 UTC

    private static Runtime Vm(string id, string size = "large", RuntimeState state = RuntimeState.Running, params (string, string)[] labels) => new()
    {
        Id = id,
        Name = "vm-" + id[^2..],
        Type = RuntimeType.Vm,
        State = state,
        Spec = new RuntimeSpec { Size = size },
        Labels = labels.ToDictionary(l => l.Item1, l => l.Item2),
        CreatedAt = s_now.AddDays(-30),
    };

    private static List<SignalPoint> Flat(double value, int count = 60) =>
        Enumerable.Range(0, count).Select(i => new SignalPoint(s_now.AddMinutes(i - count), value, value, value, 1)).ToList();

    private static PlanRequest Request(IntentGoal goal, IntentPolicyMode mode = IntentPolicyMode.Balanced, IntentConstraints? constraints = null) =>
        new() { Goal = goal, Mode = mode, Now = s_now, Constraints = constraints ?? new IntentConstraints() };

    [Theory]
    [InlineData("reduce cost while keeping latency < 50ms", "reduce_cost", 50d, null)]
    [InlineData("Cut our spend but keep availability high", "reduce_cost", null, "high")]
    [InlineData("absorb the traffic spike on friday", "absorb_load", null, null)]
    [InlineData("recover the degraded database", "recover_degraded", null, null)]
    [InlineData("prepare for maintenance in the window 22:00-02:00", "prepare_maintenance", null, null)]
    [InlineData("improve latency", "improve_performance", null, null)]
    public void Parse_FreeText_GoalAndConstraints(string text, string goal, double? latency, string? availability)
    {
        var parsed = IntentParser.Parse(text);

        Assert.Equal(goal, IntentParser.Name(parsed.Goal!.Value));
        Assert.Equal(latency, parsed.Constraints.LatencyMs);
        Assert.Equal(availability, parsed.Constraints.Availability);
        Assert.NotEmpty(parsed.Notes);
    }

    [Fact]
    public void Parse_MaintenanceWindow_AndAGoalNobodyServes()
    {
        Assert.Equal("22:00-02:00", IntentParser.Parse("prepare for maintenance in the window 22:00-02:00").Constraints.MaintenanceWindow);
        Assert.True(IntentParser.InWindow("22:00-02:00", s_now.Date.AddHours(1)));
        Assert.Null(IntentParser.Parse("write me a poem about clouds").Goal);
    }

    [Fact]
    public void ReduceCost_IdleVm_StopCitingTheSamplesWithCostDelta()
    {
        var plan = IntentPlanner.Plan(Request(IntentGoal.ReduceCost), [new RuntimeSignals { Runtime = Vm("rt_01"), Cpu = Flat(1.5) }]);

        Assert.Equal("planned", plan.Status);
        var step = Assert.Single(plan.Steps);
        Assert.Equal(ActionType.Stop, step.Action.Type);
        Assert.Contains(step.Evidence, e => e.StartsWith("cpu_usage=1.5 at ", StringComparison.Ordinal));
        Assert.Equal(2, plan.Effect.VcpusFreed);
        Assert.Equal(8192, plan.Effect.MemoryMiBFreed);
        Assert.Equal(-(2 * 0.04 + 8 * 0.005) * 730, plan.Effect.CostDeltaMonthly, 2);
        Assert.Equal("conclusion", plan.Trace[^1].Step);
    }

    [Fact]
    public void ReduceCost_IdleHighAvailabilityVm_ShrinksNeverStops()
    {
        var plan = IntentPlanner.Plan(Request(IntentGoal.ReduceCost), [new RuntimeSignals { Runtime = Vm("rt_01", labels: ("availability", "high")), Cpu = Flat(1) }]);

        Assert.DoesNotContain(plan.Steps, s => s.Action.Type == ActionType.Stop);
        Assert.Equal([ActionType.Snapshot, ActionType.Scale], plan.Steps.Select(s => s.Action.Type));
        Assert.Equal("medium", plan.Steps[1].Action.Params!["size"]!.GetValue<string>());
        Assert.Contains(plan.Trace, t => t.Step == "constraint" && t.Detail.Contains("availability=high", StringComparison.Ordinal));
    }

    [Fact]
    public void ReduceCost_LatencyConstraintAndAHotPeak_LeavesItAsItIs()
    {
        var cpu = Flat(2);
        cpu[10] = cpu[10] with { Max = 60 };
        var plan = IntentPlanner.Plan(Request(IntentGoal.ReduceCost, IntentPolicyMode.SafeFirst, new IntentConstraints { LatencyMs = 50 }),
            [new RuntimeSignals { Runtime = Vm("rt_01", "xlarge"), Cpu = cpu }]);

        Assert.Equal("no_action", plan.Status);
        Assert.Contains(plan.Trace, t => t.Step == "constraint" && t.Detail.Contains("latency_ms < 50", StringComparison.Ordinal));
    }

    [Fact]
    public void ReduceCost_TooFewSamples_InconclusiveSayingWhatIsMissing()
    {
        var plan = IntentPlanner.Plan(Request(IntentGoal.ReduceCost), [new RuntimeSignals { Runtime = Vm("rt_01"), Cpu = Flat(1, 2) }]);

        Assert.Equal("inconclusive", plan.Status);
        Assert.Empty(plan.Steps);
        Assert.Contains("cpu_usage has 2 point(s)", Assert.Single(plan.Missing), StringComparison.Ordinal);
    }

    [Fact]
    public void AbsorbLoad_RampToExhaustion_ScaleUpCitingTheForecast()
    {
        var ramp = Enumerable.Range(0, 12).Select(i => new SignalPoint(s_now.AddHours(i - 12), 40 + 4 * i, 40 + 4 * i, 40 + 4 * i, 1)).ToList();
        var plan = IntentPlanner.Plan(Request(IntentGoal.AbsorbLoad), [new RuntimeSignals { Runtime = Vm("rt_01", "small"), Cpu = ramp }]);

        var step = Assert.Single(plan.Steps);
        Assert.Equal(ActionType.Scale, step.Action.Type);
        Assert.Equal("medium", step.Action.Params!["size"]!.GetValue<string>());
        Assert.Contains(plan.Trace, t => t.Step == "forecast" && t.Detail.Contains("WARNING", StringComparison.Ordinal));
        Assert.True(plan.Effect.CostDeltaMonthly > 0);
    }

    [Fact]
    public void Recover_CrashLoopWithAnEarlierSnapshot_RestoresIt()
    {
        var up = Enumerable.Range(0, 20).Select(i => new SignalPoint(s_now.AddMinutes(i - 20), i % 4 < 2 ? 1 : 0, 0, 1, 1)).ToList();
        var crash = new RuntimeEvent { Id = "ev_9", RuntimeId = "rt_01", Type = "lifecycle.crashed", Ts = s_now.AddMinutes(-17) };
        var snapshots = new[] { new Drivers.SnapshotInfo("good", null, s_now.AddHours(-5), RuntimeState.Running, false) };

        var plan = IntentPlanner.Plan(Request(IntentGoal.RecoverDegraded),
            [new RuntimeSignals { Runtime = Vm("rt_01"), Up = up, Events = [crash], Snapshots = snapshots }]);

        var step = Assert.Single(plan.Steps);
        Assert.Equal(ActionType.Restore, step.Action.Type);
        Assert.Equal("good", step.Action.Params!["snapshot"]!.GetValue<string>());
        Assert.Contains(step.Evidence, e => e.Contains("ev_9", StringComparison.Ordinal));
    }

    [Fact]
    public void SafeFirst_TwoIdleRuntimes_OneRuntimeNowTheOtherRecommended_DeniedStepDropped()
    {
        var runtimes = new[]
        {
            new RuntimeSignals { Runtime = Vm("rt_01"), Cpu = Flat(1) },
            new RuntimeSignals { Runtime = Vm("rt_02"), Cpu = Flat(1) },
        };

        var safe = IntentPlanner.Plan(Request(IntentGoal.ReduceCost, IntentPolicyMode.SafeFirst), runtimes);
        Assert.All(safe.Steps, s => Assert.Equal("rt_01", s.RuntimeId));
        Assert.Contains(safe.Recommendations, r => r.StartsWith("next", StringComparison.Ordinal));

        var denied = IntentPlanner.Plan(Request(IntentGoal.ReduceCost), runtimes,
            (id, action) => new StepVerdict(id == "rt_02" && action.Type == ActionType.Stop, "rule no-stop"));
        Assert.All(denied.Steps, s => Assert.Equal("rt_01", s.RuntimeId));
        Assert.Contains(denied.Trace, t => t.Detail.Contains("policy denies stop on rt_02", StringComparison.Ordinal));
    }
}
