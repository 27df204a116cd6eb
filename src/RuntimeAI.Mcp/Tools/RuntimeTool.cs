using System.Security.Claims;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace RuntimeAI.Mcp.Tools;

/// <summary>The four tiers of tools, from harmless to mutating.</summary>
public enum ToolTier
{
    /// <summary>Reads state; never changes anything.</summary>
    Observe,
    /// <summary>Reasons over state (simulate, check policy, forecast); never changes anything.</summary>
    Analyse,
    /// <summary>Drafts plans and proposals; changes only the proposal store.</summary>
    Recommend,
    /// <summary>Changes infrastructure; gated by the whole pipeline.</summary>
    Execute,
}

/// <summary>
/// A tool of the catalog: its contract (name, tier, annotations, schemas, risk) and its handler.
/// Subclasses are stateless; services come from the call's request scope.
/// </summary>
internal abstract class RuntimeTool
{
    public abstract string Name { get; }

    public abstract string Title { get; }

    public abstract ToolTier Tier { get; }

    /// <summary>Written for a model that has never seen the system: what, when, returns.</summary>
    public abstract string Description { get; }

    /// <summary>none, low, medium or high: how much harm a wrong call can do.</summary>
    public virtual string Risk => Tier switch
    {
        ToolTier.Observe or ToolTier.Analyse => "none",
        ToolTier.Recommend => "low",
        _ => Destructive ? "high" : "medium",
    };

    public virtual bool ReadOnly => Tier is ToolTier.Observe or ToolTier.Analyse;

    public virtual bool Destructive => false;

    public virtual bool Idempotent => Tier is ToolTier.Observe or ToolTier.Analyse;

    /// <summary>True when the tool reaches systems outside this server (real infrastructure).</summary>
    public virtual bool OpenWorld => Tier == ToolTier.Execute;

    /// <summary>
    /// True when the tool changes runtimes (so per-scope autonomy applies to it); false for
    /// execute tools that change the server itself (policies), which follow the global level.
    /// </summary>
    public virtual bool TargetsRuntimes => Tier == ToolTier.Execute;

    /// <summary>The role a caller needs: viewer to observe and analyse, operator to recommend and execute.</summary>
    public virtual RuntimeAI.Core.Identity.Role RequiredRole => Tier is ToolTier.Observe or ToolTier.Analyse
        ? RuntimeAI.Core.Identity.Role.Viewer
        : RuntimeAI.Core.Identity.Role.Operator;

    /// <summary>The argument naming the tenant a call creates something in (null when it creates nothing tenanted).</summary>
    public virtual string? TenantArgument => null;

    public abstract JsonObject InputSchema { get; }

    public abstract JsonObject OutputSchema { get; }

    /// <summary>
    /// The changes this call would make, for the governance stages (policy, dry-run, approval).
    /// Empty for tools that change nothing. Called only on arguments that passed the firewall.
    /// </summary>
    public virtual IReadOnlyList<PlannedChange> PlanChanges(JsonObject arguments) => [];

    /// <summary>
    /// The changes of this call, when working them out needs the store (e.g. the target of a
    /// rollback is the runtime of the operation it undoes). Defaults to <see cref="PlanChanges"/>.
    /// </summary>
    public virtual ValueTask<IReadOnlyList<PlannedChange>> PlanChangesAsync(Pipeline.ToolCallContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult(PlanChanges(context.Arguments));
    }

    /// <summary>Runs the tool on arguments that already passed the schema firewall.</summary>
    public abstract ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken);
}

/// <summary>One change a tool call would make: the target runtime (null for a create) and the action.</summary>
internal sealed record PlannedChange(string? RuntimeId, RuntimeAI.Core.Actions.RuntimeAction Action)
{
    /// <summary>The call's arguments as action parameters, without the target and the pipeline's own inputs.</summary>
    public static JsonObject ParametersOf(JsonObject arguments)
    {
        var parameters = new JsonObject();
        foreach (var (key, value) in arguments)
        {
            if (key is not ("runtime_id" or "reasoning" or "dry_run" or "proposal_id" or "idempotency_key"))
            {
                parameters[key] = value?.DeepClone();
            }
        }

        return parameters;
    }
}

/// <summary>One invocation of a tool, as the handler sees it: the pipeline's call context and a progress sink.</summary>
internal sealed class ToolCall(Pipeline.ToolCallContext context, IProgress<ProgressNotificationValue> progress)
{
    /// <summary>The call context the pipeline built (principal, decisions, proposal, approver).</summary>
    public Pipeline.ToolCallContext Context { get; } = context;

    public JsonObject Arguments => Context.Arguments;

    public IServiceProvider Services => Context.Services;

    public ClaimsPrincipal? User => Context.User;

    public IProgress<ProgressNotificationValue> Progress { get; } = progress;

    public RequestContext<ModelContextProtocol.Protocol.CallToolRequestParams>? Request => Context.Request;

    /// <summary>Who is calling, named exactly as the pipeline names them in the audit trail.</summary>
    public string Principal => Context.Principal.Name;

    /// <summary>Who is calling: roles, tenants, kind.</summary>
    public RuntimeAI.Core.Identity.Principal Caller => Context.Principal;

    /// <summary>The inventory as the caller sees it (other tenants' runtimes are not found).</summary>
    public RuntimeAI.Core.Inventory.IRuntimeInventory Inventory => Context.ScopedInventory;

    public string? GetString(string name) => Arguments[name]?.GetValue<string>();

    public int GetInt(string name, int fallback) => Arguments[name] is JsonValue v ? (int)v.GetValue<double>() : fallback;

    public bool GetBool(string name, bool fallback = false) => Arguments[name] is JsonValue v ? v.GetValue<bool>() : fallback;

    public IReadOnlyDictionary<string, string> GetStringMap(string name) =>
        Arguments[name] is JsonObject o
            ? o.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>What a tool returns: structured content plus a short text, or an error naming the cause.</summary>
internal sealed record ToolResult
{
    public JsonObject? Structured { get; init; }

    public required string Text { get; init; }

    public bool IsError { get; init; }

    /// <summary>Machine-readable error code (e.g. <c>not_found</c>) when <see cref="IsError"/>.</summary>
    public string? ErrorCode { get; init; }

    public static ToolResult Ok(JsonObject structured, string text) => new() { Structured = structured, Text = text };

    public static ToolResult Error(string code, string message) => new() { Text = message, IsError = true, ErrorCode = code };
}
