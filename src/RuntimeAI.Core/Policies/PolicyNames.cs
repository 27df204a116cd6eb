using System.Globalization;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Policies;

/// <summary>Wire names (snake_case, as in the brief) of the policy enums, both ways, without reflection.</summary>
public static class PolicyNames
{
    private static readonly (ActionType Value, string Name)[] s_actions =
    [
        (ActionType.Start, "start"), (ActionType.Stop, "stop"), (ActionType.Restart, "restart"),
        (ActionType.Scale, "scale"), (ActionType.Snapshot, "snapshot"), (ActionType.Restore, "restore"),
        (ActionType.Delete, "delete"), (ActionType.Create, "create"), (ActionType.Migrate, "migrate"),
        (ActionType.RolloutRestart, "rollout_restart"), (ActionType.TunePolicy, "tune_policy"),
        (ActionType.AttachObserver, "attach_observer"), (ActionType.DetachObserver, "detach_observer"),
    ];

    private static readonly (RuntimeType Value, string Name)[] s_runtimeTypes =
    [
        (RuntimeType.Vm, "vm"), (RuntimeType.Vcluster, "vcluster"), (RuntimeType.Sandbox, "sandbox"),
        (RuntimeType.AgentRuntime, "agent_runtime"),
    ];

    private static readonly (AutonomyLevel Value, string Name)[] s_levels =
    [
        (AutonomyLevel.Advisor, "advisor"), (AutonomyLevel.Copilot, "copilot"),
        (AutonomyLevel.Guardian, "guardian"), (AutonomyLevel.Autonomous, "autonomous"),
    ];

    private static readonly (PolicyRuleKind Value, string Name)[] s_kinds =
    [
        (PolicyRuleKind.DenyAction, "deny_action"), (PolicyRuleKind.AllowAction, "allow_action"),
        (PolicyRuleKind.RequireApproval, "require_approval"), (PolicyRuleKind.BudgetGuardrail, "budget_guardrail"),
        (PolicyRuleKind.DataEgress, "data_egress"),
    ];

    private static readonly (PolicyMode Value, string Name)[] s_modes =
    [
        (PolicyMode.Enforce, "enforce"), (PolicyMode.Audit, "audit"), (PolicyMode.Warn, "warn"),
    ];

    private static readonly (PolicyEffect Value, string Name)[] s_effects =
    [
        (PolicyEffect.Allow, "allow"), (PolicyEffect.Deny, "deny"), (PolicyEffect.RequireApproval, "require_approval"),
    ];

    /// <summary>All action type names.</summary>
    public static IReadOnlyList<string> ActionNames { get; } = s_actions.Select(a => a.Name).ToArray();

    /// <summary>All runtime type names.</summary>
    public static IReadOnlyList<string> RuntimeTypeNames { get; } = s_runtimeTypes.Select(a => a.Name).ToArray();

    /// <summary>All autonomy level names.</summary>
    public static IReadOnlyList<string> AutonomyNames { get; } = s_levels.Select(a => a.Name).ToArray();

    /// <summary>All rule kind names.</summary>
    public static IReadOnlyList<string> RuleKindNames { get; } = s_kinds.Select(a => a.Name).ToArray();

    /// <summary>All mode names.</summary>
    public static IReadOnlyList<string> ModeNames { get; } = s_modes.Select(a => a.Name).ToArray();

    /// <summary>All effect names.</summary>
    public static IReadOnlyList<string> EffectNames { get; } = s_effects.Select(a => a.Name).ToArray();

    /// <summary>The wire name of an action type.</summary>
    public static string Action(ActionType value) => Find(s_actions, value);

    /// <summary>The wire name of a runtime type.</summary>
    public static string RuntimeTypeName(RuntimeType value) => Find(s_runtimeTypes, value);

    /// <summary>The wire name of an autonomy level.</summary>
    public static string Autonomy(AutonomyLevel value) => Find(s_levels, value);

    /// <summary>The wire name of a rule kind.</summary>
    public static string RuleKind(PolicyRuleKind value) => Find(s_kinds, value);

    /// <summary>The wire name of a mode.</summary>
    public static string Mode(PolicyMode value) => Find(s_modes, value);

    /// <summary>The wire name of an effect.</summary>
    public static string Effect(PolicyEffect value) => Find(s_effects, value);

    /// <summary>Parses an action type name.</summary>
    public static bool TryParseAction(string? name, out ActionType value) => TryFind(s_actions, name, out value);

    /// <summary>Parses a runtime type name.</summary>
    public static bool TryParseRuntimeType(string? name, out RuntimeType value) => TryFind(s_runtimeTypes, name, out value);

    /// <summary>Parses an autonomy level name.</summary>
    public static bool TryParseAutonomy(string? name, out AutonomyLevel value) => TryFind(s_levels, name, out value);

    /// <summary>Parses a rule kind name.</summary>
    public static bool TryParseRuleKind(string? name, out PolicyRuleKind value) => TryFind(s_kinds, name, out value);

    /// <summary>Parses a mode name.</summary>
    public static bool TryParseMode(string? name, out PolicyMode value) => TryFind(s_modes, name, out value);

    /// <summary>Parses an effect name.</summary>
    public static bool TryParseEffect(string? name, out PolicyEffect value) => TryFind(s_effects, name, out value);

    /// <summary>Formats a window as the loader reads it: 90s, 15m, 1h, 1d.</summary>
    public static string Window(TimeSpan window)
    {
        if (window.TotalDays >= 1 && window.Ticks % TimeSpan.TicksPerDay == 0)
        {
            return ((long)window.TotalDays).ToString(CultureInfo.InvariantCulture) + "d";
        }

        if (window.TotalHours >= 1 && window.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return ((long)window.TotalHours).ToString(CultureInfo.InvariantCulture) + "h";
        }

        if (window.TotalMinutes >= 1 && window.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return ((long)window.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m";
        }

        return ((long)window.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>Parses a window written as a positive whole number and a unit: s, m, h or d (e.g. 1h).</summary>
    public static bool TryParseWindow(string? text, out TimeSpan window)
    {
        window = default;
        if (string.IsNullOrEmpty(text) || text.Length < 2
            || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 100_000)
        {
            return false;
        }

        window = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => default,
        };
        return window > TimeSpan.Zero;
    }

    private static string Find<T>((T Value, string Name)[] table, T value) where T : struct, Enum
    {
        foreach (var (v, n) in table)
        {
            if (EqualityComparer<T>.Default.Equals(v, value))
            {
                return n;
            }
        }

        return value.ToString();
    }

    private static bool TryFind<T>((T Value, string Name)[] table, string? name, out T value) where T : struct, Enum
    {
        foreach (var (v, n) in table)
        {
            if (string.Equals(n, name, StringComparison.Ordinal))
            {
                value = v;
                return true;
            }
        }

        value = default;
        return false;
    }
}
