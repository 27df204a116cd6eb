using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Policies;

/// <summary>How much an agent may do on its own ("Lane Assist": the human hand on the wheel).</summary>
public enum AutonomyLevel
{
    /// <summary>Observe, analyse and recommend only; every mutation is refused.</summary>
    Advisor,

    /// <summary>Every mutation needs a human approval.</summary>
    Copilot,

    /// <summary>Mutations an <c>allow_action</c> rule allows run; anything else needs approval.</summary>
    Guardian,

    /// <summary>Mutations an <c>allow_action</c> rule allows run; anything else is denied. Deny rules stay absolute.</summary>
    Autonomous,
}

/// <summary>Whether a policy's verdicts are enforced or only reported.</summary>
public enum PolicyMode
{
    /// <summary>Rules decide the outcome.</summary>
    Enforce,

    /// <summary>Rules never change the outcome; what they would have denied or held is recorded for the audit trail.</summary>
    Audit,

    /// <summary>Like <see cref="Audit"/>, and the would-be verdict is also shown to the caller as a warning.</summary>
    Warn,
}

/// <summary>The kinds of rule of the brief.</summary>
public enum PolicyRuleKind
{
    /// <summary>Denies the selected actions outright (deny wins over everything).</summary>
    DenyAction,

    /// <summary>Allows the selected actions at the autonomy levels in <see cref="PolicyRuleParams.AutonomyLevels"/>.</summary>
    AllowAction,

    /// <summary>Selected actions need a human approval.</summary>
    RequireApproval,

    /// <summary>Blast-radius limits: mutations per window, total vCPU/memory in scope, largest size.</summary>
    BudgetGuardrail,

    /// <summary>Denies opening a runtime to the world: public exposure or open egress.</summary>
    DataEgress,
}

/// <summary>The outcome of a policy decision.</summary>
public enum PolicyEffect
{
    /// <summary>The action may run.</summary>
    Allow,

    /// <summary>The action must not run.</summary>
    Deny,

    /// <summary>The action may run only after a human approves it.</summary>
    RequireApproval,
}

/// <summary>
/// A named set of rules, optionally scoped to one tenant and one environment (the brief's Policy).
/// </summary>
public sealed record Policy
{
    /// <summary>Unique id, e.g. <c>prod-safety</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Human-readable name; defaults to the id.</summary>
    public required string Name { get; init; }

    /// <summary>When set, the policy applies only to runtimes of this tenant.</summary>
    public string? TenantId { get; init; }

    /// <summary>When set, the policy applies only to runtimes whose <c>env</c> label equals it.</summary>
    public string? ScopeEnv { get; init; }

    /// <summary>Enforce, or only report (audit/warn).</summary>
    public PolicyMode Mode { get; init; } = PolicyMode.Enforce;

    /// <summary>The rules, evaluated together (order only affects the order of rule ids in a decision).</summary>
    public IReadOnlyList<PolicyRule> Rules { get; init; } = [];
}

/// <summary>One rule of a policy.</summary>
public sealed record PolicyRule
{
    /// <summary>Id, unique across every loaded policy, named in decisions.</summary>
    public required string Id { get; init; }

    /// <summary>What the rule does.</summary>
    public required PolicyRuleKind Kind { get; init; }

    /// <summary>Which actions and runtimes the rule applies to; empty matches everything in the policy's scope.</summary>
    public PolicySelector Selector { get; init; } = new();

    /// <summary>Kind-specific parameters.</summary>
    public PolicyRuleParams Params { get; init; } = new();
}

/// <summary>
/// Which actions and runtimes a rule applies to. Every non-empty field must match (AND); a field
/// matches when the value is one of its entries (OR). Empty fields match everything.
/// </summary>
public sealed record PolicySelector
{
    /// <summary>Runtime types, e.g. vm, vcluster.</summary>
    public IReadOnlyList<RuntimeType> RuntimeTypes { get; init; } = [];

    /// <summary>Labels the runtime must all carry with exactly these values.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Tenant ids.</summary>
    public IReadOnlyList<string> Tenants { get; init; } = [];

    /// <summary>Environments (the runtime's <c>env</c> label).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Action types.</summary>
    public IReadOnlyList<ActionType> ActionTypes { get; init; } = [];

    /// <summary>Runtime ids.</summary>
    public IReadOnlyList<string> RuntimeIds { get; init; } = [];
}

/// <summary>Kind-specific rule parameters (the loader rejects parameters that do not fit the kind).</summary>
public sealed record PolicyRuleParams
{
    /// <summary>A sentence shown in decisions, e.g. "production runtimes are never deleted by agents".</summary>
    public string? Reason { get; init; }

    /// <summary>allow_action: the autonomy levels at which the rule allows; default guardian and autonomous.</summary>
    public IReadOnlyList<AutonomyLevel>? AutonomyLevels { get; init; }

    /// <summary>budget_guardrail and data_egress: the effect of a violation, deny (default) or require_approval.</summary>
    public PolicyEffect? Effect { get; init; }

    /// <summary>budget_guardrail: at most this many mutations in scope per <see cref="Window"/>.</summary>
    public int? MaxMutationsPerWindow { get; init; }

    /// <summary>budget_guardrail: the sliding window for <see cref="MaxMutationsPerWindow"/> and <see cref="MaxChangedPercent"/>.</summary>
    public TimeSpan? Window { get; init; }

    /// <summary>
    /// budget_guardrail: at most this percentage (1-100) of the runtimes in scope may be changed
    /// per <see cref="Window"/> (the blast radius); the target counts as one more changed runtime.
    /// </summary>
    public int? MaxChangedPercent { get; init; }

    /// <summary>budget_guardrail: the total vCPUs in scope may not grow beyond this.</summary>
    public int? MaxTotalVcpu { get; init; }

    /// <summary>budget_guardrail: the total memory (MiB) in scope may not grow beyond this.</summary>
    public long? MaxTotalMemoryMiB { get; init; }

    /// <summary>budget_guardrail: the largest size (from <see cref="SizeTable"/>) a runtime may be given.</summary>
    public string? MaxSize { get; init; }

    /// <summary>data_egress: exposures to deny; default <c>public</c>.</summary>
    public IReadOnlyList<string>? DenyExposure { get; init; }

    /// <summary>data_egress: egress policies to deny; default <c>open</c>.</summary>
    public IReadOnlyList<string>? DenyEgress { get; init; }
}
