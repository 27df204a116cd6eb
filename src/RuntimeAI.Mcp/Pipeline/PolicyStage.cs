using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Decides every planned change with the policies in force at the caller's autonomy level. Deny
/// is absolute (refused, naming the rule ids); require-approval hands over to the approval stage.
/// </summary>
internal sealed class PolicyStage(IPolicySource policies, BudgetGate budgetGate, TimeProvider time) : IToolCallStage
{
    public async ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.Changes.Count == 0)
        {
            return StageVerdict.Continue;
        }

        // Budgets are counted under the gate, held until this call's operation is recorded.
        await budgetGate.EnterAsync(context, cancellationToken).ConfigureAwait(false);
        var evaluator = policies.Current;
        var budget = await BudgetAsync(evaluator, context, cancellationToken).ConfigureAwait(false);
        var decisions = context.Changes.Select(change => evaluator.Evaluate(Input(change, context, budget))).ToList();
        var effect = decisions.Any(d => d.Effect == PolicyEffect.Deny) ? PolicyEffect.Deny
            : decisions.Any(d => d.Effect == PolicyEffect.RequireApproval) ? PolicyEffect.RequireApproval
            : PolicyEffect.Allow;
        var deciding = decisions.Where(d => d.Effect == effect).ToList();
        context.Decision = new PolicyDecision
        {
            Effect = effect,
            RuleIds = deciding.SelectMany(d => d.RuleIds).Distinct(StringComparer.Ordinal).ToList(),
            Reasons = deciding.SelectMany(d => d.Reasons).Distinct(StringComparer.Ordinal).ToList(),
            Warnings = decisions.SelectMany(d => d.Warnings).ToList(),
        };

        if (effect == PolicyEffect.RequireApproval)
        {
            context.ApprovalReasons.AddRange(context.Decision.Reasons.Select(r => $"policy: {r}"));
        }

        if (effect == PolicyEffect.Deny && !context.DryRun)
        {
            return StageVerdict.Refuse("denied_by_policy",
                $"'{context.ToolName}' is denied by policy (rules: {string.Join(", ", context.Decision.RuleIds)}): " +
                string.Join("; ", context.Decision.Reasons) +
                ". Deny rules are absolute; use check_policy to see what is allowed, or draft_recommendation to ask a human.");
        }

        return StageVerdict.Continue;
    }

    internal static PolicyInput Input(PlannedChange change, ToolCallContext context, PolicyBudgetCounters budget)
    {
        var parameters = change.Action.Params;
        var targetSize = parameters?["size"]?.GetValue<string>() ?? (parameters?["spec"] as JsonObject)?["size"]?.GetValue<string>();
        PolicyRuntimeFacts facts;
        if (change.RuntimeId is { } id && context.Targets.TryGetValue(id, out var runtime))
        {
            facts = PolicyRuntimeFacts.From(runtime, targetSize);
        }
        else
        {
            // A create: the facts are those of the runtime it would make.
            var labels = parameters?["labels"] is JsonObject l
                ? l.ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);
            SizeTable.TryGet(targetSize ?? "nano", out var size);
            facts = new PolicyRuntimeFacts
            {
                Type = parameters?["type"]?.GetValue<string>() is { } t ? EnumText.Parse<RuntimeType>(t) : RuntimeType.Vm,
                TenantId = parameters?["tenant_id"]?.GetValue<string>(),
                Labels = labels,
                CurrentVcpus = 0,
                CurrentMemoryMiB = 0,
                TargetSize = targetSize ?? "nano",
                TargetVcpus = size?.Vcpus,
                TargetMemoryMiB = size?.MemoryMiB,
            };
        }

        if (change.Action.Type == ActionType.Scale)
        {
            facts = facts with
            {
                TargetVcpus = parameters?["vcpus"]?.GetValue<int>() ?? (SizeTable.TryGet(targetSize, out var s) ? s.Vcpus : facts.CurrentVcpus),
                TargetMemoryMiB = parameters?["memory_mib"]?.GetValue<long>() ?? (SizeTable.TryGet(targetSize, out var m) ? m.MemoryMiB : facts.CurrentMemoryMiB),
            };
        }

        var networking = (parameters?["spec"] as JsonObject)?["networking"] as JsonObject;
        return new PolicyInput
        {
            Action = change.Action.Type,
            Autonomy = context.Autonomy,
            Runtime = facts,
            RequestedExposure = networking?["exposure"]?.GetValue<string>(),
            RequestedEgress = networking?["egress_policy"]?.GetValue<string>(),
            Budget = budget,
        };
    }

    private async Task<PolicyBudgetCounters> BudgetAsync(PolicyEvaluator evaluator, ToolCallContext context, CancellationToken cancellationToken)
    {
        var inventory = context.Services.GetRequiredService<IRuntimeInventory>();
        var mutations = new Dictionary<TimeSpan, int>();
        var changed = new Dictionary<TimeSpan, int>();
        var now = time.GetUtcNow();
        foreach (var window in evaluator.BudgetWindows)
        {
            var (operations, runtimes) = await inventory.CountMutationsSinceAsync(now - window, cancellationToken).ConfigureAwait(false);
            mutations[window] = operations;
            changed[window] = runtimes;
        }

        if (!evaluator.NeedsFleetTotals)
        {
            // No rule reads them: reading every runtime for them made each gated call O(fleet).
            return new PolicyBudgetCounters { MutationsInWindow = mutations, RuntimesChangedInWindow = changed };
        }

        var all = await PlanStage.AllRuntimesAsync(context, cancellationToken).ConfigureAwait(false);
        var live = all.Where(r => r.State != RuntimeState.Deleted).Select(r => PolicyRuntimeFacts.From(r)).ToList();
        return new PolicyBudgetCounters
        {
            MutationsInWindow = mutations,
            RuntimesChangedInWindow = changed,
            RuntimesInScope = live.Count,
            TotalVcpus = live.Sum(f => f.CurrentVcpus ?? 0),
            TotalMemoryMiB = live.Sum(f => f.CurrentMemoryMiB ?? 0),
        };
    }
}
