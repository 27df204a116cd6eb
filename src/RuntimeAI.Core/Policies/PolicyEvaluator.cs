using System.Collections.Frozen;
using System.Globalization;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Policies;

/// <summary>
/// Decides allow / deny / require_approval for one action from a compiled, immutable set of
/// policies. Thread-safe; build a new evaluator when policies change and swap the reference.
/// </summary>
/// <remarks>
/// The decision table (enforced rules; audit/warn rules only add warnings):
/// <list type="number">
/// <item>Any matching deny (deny_action, or a violated budget_guardrail/data_egress whose effect is deny) → deny, at every level.</item>
/// <item>advisor → deny (<see cref="PolicyDecision.AdvisorRuleId"/>).</item>
/// <item>copilot → require_approval (the matching require_approval rules, and <see cref="PolicyDecision.CopilotRuleId"/>).</item>
/// <item>guardian/autonomous with a matching require_approval (or a violated guardrail whose effect is require_approval) → require_approval.</item>
/// <item>guardian/autonomous with an allow_action matching at that level → allow.</item>
/// <item>Otherwise guardian → require_approval, autonomous → deny (<see cref="PolicyDecision.NoAllowRuleId"/>).</item>
/// </list>
/// Rules are pre-indexed by action type, so a decision only looks at rules that can apply.
/// </remarks>
public sealed class PolicyEvaluator
{
    private readonly FrozenDictionary<ActionType, CompiledRule[]> _byAction;

    private PolicyEvaluator(IReadOnlyList<Policy> policies, FrozenDictionary<ActionType, CompiledRule[]> byAction, IReadOnlyList<TimeSpan> windows, int ruleCount, bool needsFleetTotals)
    {
        Policies = policies;
        _byAction = byAction;
        BudgetWindows = windows;
        RuleCount = ruleCount;
        NeedsFleetTotals = needsFleetTotals;
    }

    /// <summary>An evaluator with no policies: guardian needs approval for everything, autonomous is denied everything.</summary>
    public static PolicyEvaluator Empty { get; } = Create([]);

    /// <summary>The policies, as given.</summary>
    public IReadOnlyList<Policy> Policies { get; }

    /// <summary>The number of rules over all policies.</summary>
    public int RuleCount { get; }

    /// <summary>
    /// The distinct windows of <c>max_mutations_per_window</c> and <c>max_changed_percent</c>
    /// guardrails: the caller supplies counts for each in <see cref="PolicyBudgetCounters.MutationsInWindow"/>
    /// and <see cref="PolicyBudgetCounters.RuntimesChangedInWindow"/>.
    /// </summary>
    public IReadOnlyList<TimeSpan> BudgetWindows { get; }

    /// <summary>
    /// True when a rule limits the whole fleet (<c>max_changed_percent</c>, <c>max_total_vcpu</c>,
    /// <c>max_total_memory</c>): only then must the caller count every runtime for
    /// <see cref="PolicyBudgetCounters.RuntimesInScope"/>, <see cref="PolicyBudgetCounters.TotalVcpus"/>
    /// and <see cref="PolicyBudgetCounters.TotalMemoryMiB"/>. Without such a rule they are never read.
    /// </summary>
    public bool NeedsFleetTotals { get; }

    /// <summary>Compiles policies into an evaluator.</summary>
    /// <param name="policies">Policies, e.g. from <see cref="PolicyLoader"/>.</param>
    /// <returns>The evaluator.</returns>
    /// <exception cref="ArgumentException">Two rules share an id (the loader reports this as an error first).</exception>
    public static PolicyEvaluator Create(IEnumerable<Policy> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var list = policies.ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var compiled = new List<CompiledRule>();
        foreach (var policy in list)
        {
            foreach (var rule in policy.Rules)
            {
                if (!seen.Add(rule.Id))
                {
                    throw new ArgumentException($"Rule id '{rule.Id}' is used twice; rule ids must be unique across all policies.", nameof(policies));
                }

                compiled.Add(new CompiledRule(policy, rule));
            }
        }

        var byAction = new Dictionary<ActionType, CompiledRule[]>();
        foreach (var action in Enum.GetValues<ActionType>())
        {
            byAction[action] = compiled.Where(r => r.AppliesTo(action)).ToArray();
        }

        var windows = compiled
            .Where(r => r.Rule.Kind == PolicyRuleKind.BudgetGuardrail && r.Rule.Params.Window is not null)
            .Select(r => r.Rule.Params.Window!.Value)
            .Distinct()
            .Order()
            .ToArray();

        var needsFleetTotals = compiled.Any(r => r.Rule.Params is { MaxChangedPercent: not null } or { MaxTotalVcpu: not null } or { MaxTotalMemoryMiB: not null });
        return new PolicyEvaluator(list, byAction.ToFrozenDictionary(), windows, compiled.Count, needsFleetTotals);
    }

    /// <summary>Decides on one action.</summary>
    /// <param name="input">The action, the runtime facts, the autonomy level and the budget counters.</param>
    /// <returns>The decision, naming the rules that decided it.</returns>
    public PolicyDecision Evaluate(PolicyInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        List<(string Id, string Reason)>? denies = null, approvals = null, allows = null;
        List<PolicyWarning>? warnings = null;

        var rules = _byAction.TryGetValue(input.Action, out var r) ? r : [];
        var env = input.Runtime.Env;
        foreach (var rule in rules)
        {
            if (!rule.Matches(input.Runtime, env))
            {
                continue;
            }

            foreach (var (effect, reason) in rule.Outcomes(input))
            {
                if (rule.Policy.Mode != PolicyMode.Enforce)
                {
                    if (effect != PolicyEffect.Allow)
                    {
                        (warnings ??= []).Add(new PolicyWarning(rule.Rule.Id, rule.Policy.Id, rule.Policy.Mode, effect,
                            $"{rule.Rule.Id} ({PolicyNames.Mode(rule.Policy.Mode)} mode, not enforced) would {(effect == PolicyEffect.Deny ? "deny" : "require approval")}: {reason}"));
                    }

                    continue;
                }

                var bucket = effect switch
                {
                    PolicyEffect.Deny => denies ??= [],
                    PolicyEffect.RequireApproval => approvals ??= [],
                    _ => allows ??= [],
                };
                if (!bucket.Exists(h => h.Id == rule.Rule.Id))
                {
                    bucket.Add((rule.Rule.Id, $"{rule.Rule.Id}: {reason}"));
                }
                else
                {
                    var i = bucket.FindIndex(h => h.Id == rule.Rule.Id);
                    bucket[i] = (rule.Rule.Id, bucket[i].Reason + "; " + reason);
                }
            }
        }

        IReadOnlyList<PolicyWarning> w = warnings ?? (IReadOnlyList<PolicyWarning>)[];
        var action = PolicyNames.Action(input.Action);

        if (denies is not null)
        {
            return Decide(PolicyEffect.Deny, denies, w);
        }

        switch (input.Autonomy)
        {
            case AutonomyLevel.Advisor:
                return Decide(PolicyEffect.Deny, [(PolicyDecision.AdvisorRuleId,
                    $"{PolicyDecision.AdvisorRuleId}: autonomy level advisor never executes '{action}'; simulate it or draft a recommendation for a human instead")], w);
            case AutonomyLevel.Copilot:
                var copilot = approvals ?? [];
                copilot.Add((PolicyDecision.CopilotRuleId,
                    $"{PolicyDecision.CopilotRuleId}: autonomy level copilot needs a human approval for every mutation, including '{action}'"));
                return Decide(PolicyEffect.RequireApproval, copilot, w);
        }

        if (approvals is not null)
        {
            return Decide(PolicyEffect.RequireApproval, approvals, w);
        }

        if (allows is not null)
        {
            return Decide(PolicyEffect.Allow, allows, w);
        }

        var level = PolicyNames.Autonomy(input.Autonomy);
        return input.Autonomy == AutonomyLevel.Guardian
            ? Decide(PolicyEffect.RequireApproval, [(PolicyDecision.NoAllowRuleId,
                $"{PolicyDecision.NoAllowRuleId}: no allow_action rule allows '{action}' on {Describe(input.Runtime)} at autonomy level {level}, so a human must approve it")], w)
            : Decide(PolicyEffect.Deny, [(PolicyDecision.NoAllowRuleId,
                $"{PolicyDecision.NoAllowRuleId}: no allow_action rule allows '{action}' on {Describe(input.Runtime)} at autonomy level {level}; add an allow_action rule or use a level with approvals")], w);
    }

    private static PolicyDecision Decide(PolicyEffect effect, List<(string Id, string Reason)> hits, IReadOnlyList<PolicyWarning> warnings) => new()
    {
        Effect = effect,
        RuleIds = hits.Select(h => h.Id).ToArray(),
        Reasons = hits.Select(h => h.Reason).ToArray(),
        Warnings = warnings,
    };

    internal static string Describe(PolicyRuntimeFacts runtime)
    {
        var what = runtime.Type is { } t ? PolicyNames.RuntimeTypeName(t) : "runtime";
        var id = runtime.Id ?? "(new)";
        var scope = new List<string>(2);
        if (runtime.TenantId is not null)
        {
            scope.Add("tenant " + runtime.TenantId);
        }

        if (runtime.Env is not null)
        {
            scope.Add("env " + runtime.Env);
        }

        return scope.Count == 0 ? $"{what} {id}" : $"{what} {id} ({string.Join(", ", scope)})";
    }

    /// <summary>A rule with its selector turned into fast lookups.</summary>
    private sealed class CompiledRule
    {
        private static readonly string[] s_defaultExposure = ["public"];
        private static readonly string[] s_defaultEgress = ["open"];
        private readonly HashSet<ActionType>? _actions;
        private readonly HashSet<RuntimeType>? _types;
        private readonly HashSet<string>? _tenants;
        private readonly HashSet<string>? _envs;
        private readonly HashSet<string>? _ids;
        private readonly KeyValuePair<string, string>[] _labels;
        private readonly HashSet<AutonomyLevel> _allowLevels;

        public CompiledRule(Policy policy, PolicyRule rule)
        {
            Policy = policy;
            Rule = rule;
            var s = rule.Selector;
            _actions = s.ActionTypes.Count > 0 ? [.. s.ActionTypes] : null;
            _types = s.RuntimeTypes.Count > 0 ? [.. s.RuntimeTypes] : null;
            _tenants = s.Tenants.Count > 0 ? new HashSet<string>(s.Tenants, StringComparer.Ordinal) : null;
            _envs = s.Env.Count > 0 ? new HashSet<string>(s.Env, StringComparer.Ordinal) : null;
            _ids = s.RuntimeIds.Count > 0 ? new HashSet<string>(s.RuntimeIds, StringComparer.Ordinal) : null;
            _labels = [.. s.Labels];
            _allowLevels = [.. rule.Params.AutonomyLevels ?? [AutonomyLevel.Guardian, AutonomyLevel.Autonomous]];
        }

        public Policy Policy { get; }

        public PolicyRule Rule { get; }

        public bool AppliesTo(ActionType action) => _actions is null || _actions.Contains(action);

        public bool Matches(PolicyRuntimeFacts runtime, string? env)
        {
            if (Policy.TenantId is not null && !string.Equals(Policy.TenantId, runtime.TenantId, StringComparison.Ordinal))
            {
                return false;
            }

            if (Policy.ScopeEnv is not null && !string.Equals(Policy.ScopeEnv, env, StringComparison.Ordinal))
            {
                return false;
            }

            if (_types is not null && (runtime.Type is not { } type || !_types.Contains(type)))
            {
                return false;
            }

            if (_tenants is not null && (runtime.TenantId is null || !_tenants.Contains(runtime.TenantId)))
            {
                return false;
            }

            if (_envs is not null && (env is null || !_envs.Contains(env)))
            {
                return false;
            }

            if (_ids is not null && (runtime.Id is null || !_ids.Contains(runtime.Id)))
            {
                return false;
            }

            foreach (var (key, value) in _labels)
            {
                if (!runtime.Labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>The rule's verdicts on a matching input (none when it has nothing to say).</summary>
        public IEnumerable<(PolicyEffect Effect, string Reason)> Outcomes(PolicyInput input)
        {
            var p = Rule.Params;
            var action = PolicyNames.Action(input.Action);
            var target = Describe(input.Runtime);
            switch (Rule.Kind)
            {
                case PolicyRuleKind.DenyAction:
                    yield return (PolicyEffect.Deny, p.Reason ?? $"policy '{Policy.Name}' denies '{action}' on {target}");
                    break;
                case PolicyRuleKind.RequireApproval:
                    yield return (PolicyEffect.RequireApproval, p.Reason ?? $"policy '{Policy.Name}' requires a human approval for '{action}' on {target}");
                    break;
                case PolicyRuleKind.AllowAction:
                    if (_allowLevels.Contains(input.Autonomy))
                    {
                        yield return (PolicyEffect.Allow, p.Reason ?? $"policy '{Policy.Name}' allows '{action}' on {target} at autonomy level {PolicyNames.Autonomy(input.Autonomy)}");
                    }

                    break;
                case PolicyRuleKind.BudgetGuardrail:
                    foreach (var violation in BudgetViolations(input))
                    {
                        yield return (p.Effect ?? PolicyEffect.Deny, p.Reason is null ? violation : $"{p.Reason} ({violation})");
                    }

                    break;
                case PolicyRuleKind.DataEgress:
                    if (input.RequestedExposure is { } exposure && (p.DenyExposure ?? s_defaultExposure).Contains(exposure, StringComparer.Ordinal))
                    {
                        var why = $"exposure '{exposure}' for {target} is not allowed by policy '{Policy.Name}'; keep the runtime private";
                        yield return (p.Effect ?? PolicyEffect.Deny, p.Reason is null ? why : $"{p.Reason} ({why})");
                    }

                    if (input.RequestedEgress is { } egress && (p.DenyEgress ?? s_defaultEgress).Contains(egress, StringComparer.Ordinal))
                    {
                        var why = $"egress policy '{egress}' for {target} is not allowed by policy '{Policy.Name}'; use a restricted egress policy";
                        yield return (p.Effect ?? PolicyEffect.Deny, p.Reason is null ? why : $"{p.Reason} ({why})");
                    }

                    break;
            }
        }

        private IEnumerable<string> BudgetViolations(PolicyInput input)
        {
            var p = Rule.Params;
            var runtime = input.Runtime;
            if (p.MaxMutationsPerWindow is { } maxMutations && p.Window is { } window)
            {
                var w = PolicyNames.Window(window);
                if (!input.Budget.MutationsInWindow.TryGetValue(window, out var done))
                {
                    yield return $"the mutation count for the last {w} was not supplied, so the budget of {maxMutations} per {w} cannot be checked (fail closed)";
                }
                else if (done + 1 > maxMutations)
                {
                    yield return $"{done} mutations in the last {w} already; the budget allows {maxMutations} per {w}, wait or ask a human";
                }
            }

            if (p.MaxChangedPercent is { } maxPercent && p.Window is { } percentWindow)
            {
                var w = PolicyNames.Window(percentWindow);
                if (!input.Budget.RuntimesChangedInWindow.TryGetValue(percentWindow, out var changed) || input.Budget.RuntimesInScope is not { } inScope)
                {
                    yield return $"the runtimes changed in the last {w} or the runtimes in scope were not supplied, so the blast-radius limit of {maxPercent}% cannot be checked (fail closed)";
                }
                else if (inScope <= 0 || (changed + 1) * 100L > (long)maxPercent * inScope)
                {
                    yield return $"changing this runtime would make {changed + 1} of {inScope} runtimes in scope changed in the last {w}, above the blast-radius limit of {maxPercent}%; wait or ask a human";
                }
            }

            var targetSize = ResolveSize(runtime.TargetSize);
            if (runtime.TargetSize is not null && targetSize is null)
            {
                yield return $"the size '{runtime.TargetSize}' is unknown; use one of {string.Join(", ", SizeTable.Names)}";
            }

            var targetVcpus = runtime.TargetVcpus ?? targetSize?.Vcpus;
            var targetMemory = runtime.TargetMemoryMiB ?? targetSize?.MemoryMiB;

            if (p.MaxSize is { } maxSizeName && ResolveSize(maxSizeName) is { } maxSize)
            {
                if ((targetVcpus is { } tv && tv > maxSize.Vcpus) || (targetMemory is { } tm && tm > maxSize.MemoryMiB))
                {
                    var asked = runtime.TargetSize ?? $"{targetVcpus?.ToString(CultureInfo.InvariantCulture) ?? "?"} vCPU/{(targetMemory is { } m ? Quantity.FormatMiB(m) : "?")}";
                    yield return $"size {asked} exceeds the largest allowed size {maxSize.Name} ({maxSize.Vcpus} vCPU/{Quantity.FormatMiB(maxSize.MemoryMiB)}); choose {maxSize.Name} or smaller";
                }
            }

            if (p.MaxTotalVcpu is { } maxVcpu && targetVcpus is { } newVcpus)
            {
                var delta = newVcpus - (runtime.CurrentVcpus ?? 0);
                if (delta > 0)
                {
                    if (input.Budget.TotalVcpus is not { } total)
                    {
                        yield return $"the total vCPUs in scope were not supplied, so the limit of {maxVcpu} cannot be checked (fail closed)";
                    }
                    else if (total + delta > maxVcpu)
                    {
                        yield return $"total vCPUs in scope would be {total + delta}, above the limit of {maxVcpu}; free capacity or choose a smaller size";
                    }
                }
            }

            if (p.MaxTotalMemoryMiB is { } maxMemory && targetMemory is { } newMemory)
            {
                var delta = newMemory - (runtime.CurrentMemoryMiB ?? 0);
                if (delta > 0)
                {
                    if (input.Budget.TotalMemoryMiB is not { } total)
                    {
                        yield return $"the total memory in scope was not supplied, so the limit of {Quantity.FormatMiB(maxMemory)} cannot be checked (fail closed)";
                    }
                    else if (total + delta > maxMemory)
                    {
                        yield return $"total memory in scope would be {Quantity.FormatMiB(total + delta)}, above the limit of {Quantity.FormatMiB(maxMemory)}; free capacity or choose a smaller size";
                    }
                }
            }
        }

        private static RuntimeSize? ResolveSize(string? name) => SizeTable.TryGet(name, out var size) ? size : null;
    }
}
