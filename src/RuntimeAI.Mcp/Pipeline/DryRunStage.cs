using System.Text.Json.Nodes;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Simulates every planned change before anything runs. A failed simulation blocks the call
/// ("blocked by safety"); <c>dry_run: true</c> returns the report (with the policy decision)
/// instead of running the tool; a disruptive change needs a human.
/// </summary>
internal sealed class DryRunStage(DryRunSimulator simulator) : IToolCallStage
{
    public async ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.Changes.Count == 0)
        {
            return StageVerdict.Continue;
        }

        // Changes are simulated in order: each one starts from the state the previous left behind
        // (so [stop, start] is valid), and a step after a blocked one is judged from the recorded state.
        var simulated = new Dictionary<string, RuntimeAI.Core.Runtimes.Runtime>(context.Targets, StringComparer.Ordinal);
        foreach (var change in context.Changes)
        {
            var target = change.RuntimeId is { } id && simulated.TryGetValue(id, out var runtime) ? runtime : null;
            var candidates = target is null ? [] : await PlanStage.DependentCandidatesAsync(context, cancellationToken).ConfigureAwait(false);
            var report = await simulator.SimulateAsync(target, change.Action, candidates, r => context.Principal.CanSee(r.TenantId), cancellationToken).ConfigureAwait(false);
            context.Simulations.Add(report);
            if (target is not null && report.ToState is { } next && !report.Blocked)
            {
                simulated[target.Id] = target with { State = next };
            }
        }

        foreach (var disruptive in context.Simulations.Where(s => s.Disruptive))
        {
            context.ApprovalReasons.Add($"disruption: {disruptive.Summary}");
        }

        if (context.DryRun)
        {
            return StageVerdict.Answered(Report(context));
        }

        var blocked = context.Simulations.Where(s => s.Blocked).ToList();
        if (blocked.Count > 0)
        {
            return StageVerdict.Refuse("blocked_by_safety",
                "blocked by safety: " + string.Join("; ", blocked.SelectMany(b => b.BlockingReasons)) +
                ". Nothing was changed; check get_runtime_status and adjust the request.");
        }

        return StageVerdict.Continue;
    }

    /// <summary>The dry-run answer: the decision, each simulation, and whether it would need a human.</summary>
    internal static ToolResult Report(ToolCallContext context)
    {
        var decision = context.Decision;
        var blocked = context.Simulations.Any(s => s.Blocked);
        var verdict = decision?.Effect == PolicyEffect.Deny ? "would be denied by policy"
            : blocked ? "would be blocked by safety"
            : context.ApprovalReasons.Count > 0 ? "would need a human approval"
            : "would run";
        var structured = new JsonObject
        {
            ["dry_run"] = true,
            ["tool"] = context.ToolName,
            ["verdict"] = verdict,
            ["decision"] = decision?.ToJsonObject(),
            ["approval_reasons"] = new JsonArray(context.ApprovalReasons.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
            ["simulations"] = new JsonArray(context.Simulations.Select(s => (JsonNode)s.ToJsonObject()).ToArray()),
        };
        return ToolResult.Ok(structured,
            $"Dry run of {context.ToolName}: {verdict}. " + string.Join(" | ", context.Simulations.Select(s => s.Summary)) + " Nothing was changed.");
    }
}
