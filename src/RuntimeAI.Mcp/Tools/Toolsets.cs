namespace RuntimeAI.Mcp.Tools;

/// <summary>
/// Named groups of tools, so a client loads only what it uses (<c>--toolsets observe,vm</c>):
/// every tool of a loaded set is registered, the others do not exist for that server (tools/list
/// leaves them out and tools/call answers "unknown tool"). Sets overlap; the union is loaded. The
/// autonomy level and the caller's role still filter on top. Documented in docs/toolsets.md.
/// </summary>
public static class Toolsets
{
    /// <summary>The set that loads every tool (the default).</summary>
    public const string All = "all";

    // What a runtime-family set needs besides its lifecycle tools: find the runtime, read it, poll the operation.
    private static readonly string[] s_runtimeBasics = ["list_runtimes", "get_runtime", "get_runtime_status", "get_operation"];

    /// <summary>Set name to a one-line summary (for errors, help and docs), in presentation order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Summaries { get; } =
    [
        new("observe", "every observe-tier tool: read runtimes, status, metrics, events, snapshots, operations, proposals, your audit trail"),
        new("analyse", "simulate_action, check_policy, forecast_capacity, detect_anomalies, find_root_cause, get_dependencies, what_changed, diff_runtime: what an action would do, whether it is allowed, what the signals and the state graph say"),
        new("recommend", "draft_recommendation, get_proposal, plan_actions, submit_intent, get_intent: hand a change to a human, or plan and run a goal"),
        new("execute", "every execute-tier tool (lifecycle, snapshots, sagas, rollback, policy writes)"),
        new("vm", "virtual machines: create, start, stop, restart, scale, snapshot, restore, delete, execute_actions, rollback, plus the runtime basics"),
        new("vcluster", "virtual clusters: create, start, stop, scale, delete, execute_actions, rollback, plus the runtime basics"),
        new("policies", "list_policies, put_policy, delete_policy"),
        new(All, "every tool (the default)"),
    ];

    private static readonly Dictionary<string, string[]> s_members = new(StringComparer.Ordinal)
    {
        ["observe"] = [.. ToolCatalog.All.Where(t => t.Tier == ToolTier.Observe).Select(t => t.Name)],
        ["analyse"] = [.. ToolCatalog.All.Where(t => t.Tier == ToolTier.Analyse).Select(t => t.Name)],
        ["recommend"] = ["draft_recommendation", "get_proposal", "plan_actions", "submit_intent", "get_intent"],
        ["execute"] = [.. ToolCatalog.All.Where(t => t.Tier == ToolTier.Execute).Select(t => t.Name)],
        ["vm"] = [.. s_runtimeBasics, "create_runtime", "start_runtime", "stop_runtime", "restart_runtime", "scale_runtime",
            "snapshot_runtime", "restore_snapshot", "list_snapshots", "delete_runtime", "execute_actions", "rollback_operation"],
        ["vcluster"] = [.. s_runtimeBasics, "create_runtime", "start_runtime", "stop_runtime", "scale_runtime", "delete_runtime",
            "execute_actions", "rollback_operation"],
        ["policies"] = ["list_policies", "put_policy", "delete_policy"],
        [All] = [.. ToolCatalog.All.Select(t => t.Name)],
    };

    /// <summary>The valid set names, comma-separated (for error messages).</summary>
    public static string ValidNames => string.Join(", ", Summaries.Select(s => s.Key));

    /// <summary>The tool names of a set, or null when no set has that name.</summary>
    public static IReadOnlyList<string>? Members(string name) => s_members.GetValueOrDefault(name);

    /// <summary>Checks set names; returns one error per unknown name, naming the valid ones.</summary>
    public static IReadOnlyList<string> Validate(IEnumerable<string> names) =>
        [.. names.Where(n => !s_members.ContainsKey(n)).Select(n => $"toolset '{n}' is not known; valid toolsets are {ValidNames}")];

    /// <summary>Whether a tool belongs to the union of the sets (every tool when no set is named).</summary>
    internal static bool Includes(IReadOnlyCollection<string> names, string tool) =>
        names.Count == 0 || names.Any(n => s_members.TryGetValue(n, out var members) && members.Contains(tool, StringComparer.Ordinal));
}
