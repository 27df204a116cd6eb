using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Everything known about one tool call, built once by the call-tool filter and handed to every
/// stage and then to the tool itself (through <see cref="ToolCall"/>): who calls (principal,
/// roles, tenants, transport, client), what they asked (arguments, reasoning, idempotency key)
/// and what the stages decided (autonomy, plan, policy decision, proposal, approver).
/// </summary>
internal sealed class ToolCallContext
{
    /// <summary>The key under which the filter leaves the context in the request's items for the tool.</summary>
    public const string ItemKey = "runtimeai.call";

    private IRuntimeInventory? _inventory;

    public required string CallId { get; init; }

    public required string ToolName { get; init; }

    /// <summary>Null when the client named a tool that does not exist.</summary>
    public RuntimeTool? Tool { get; init; }

    /// <summary>The arguments exactly as the client sent them.</summary>
    public required JsonObject Arguments { get; init; }

    /// <summary>Who is calling, as the transport established it.</summary>
    public required Principal Principal { get; init; }

    /// <summary>The inventory as <see cref="Principal"/> sees it: other tenants' runtimes, events and operations are not found.</summary>
    public IRuntimeInventory ScopedInventory => _inventory ??= Principal.AllTenants
        ? Services.GetRequiredService<IRuntimeInventory>()
        : new TenantScopedInventory(Services.GetRequiredService<IRuntimeInventory>(), Principal);

    /// <summary>The caller's idempotency key, when the tool takes one.</summary>
    public string? IdempotencyKey => Arguments["idempotency_key"] is JsonValue v && v.TryGetValue<string>(out var key) ? key : null;

    public ClaimsPrincipal? User { get; init; }

    public string? Client { get; init; }

    public string? Transport { get; init; }

    public string? ProtocolVersion { get; init; }

    /// <summary>The level in force: the global one, narrowed to the targets' scope by the autonomy gate.</summary>
    public required AutonomyLevel Autonomy { get; set; }

    /// <summary>The agent's reasoning trace (untrusted text), from <c>_meta</c> or a <c>reasoning</c> argument.</summary>
    public string? Reasoning { get; init; }

    public required IServiceProvider Services { get; init; }

    /// <summary>The MCP request (null when the pipeline is driven without one).</summary>
    public ModelContextProtocol.Server.RequestContext<ModelContextProtocol.Protocol.CallToolRequestParams>? Request { get; init; }

    /// <summary>True when the caller asked only for the simulation (<c>dry_run: true</c>).</summary>
    public bool DryRun => Arguments["dry_run"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>What the call would change (set by the plan stage).</summary>
    public IReadOnlyList<PlannedChange> Changes { get; set; } = [];

    /// <summary>The runtimes the changes target, by id (set by the plan stage).</summary>
    public IReadOnlyDictionary<string, RuntimeAI.Core.Runtimes.Runtime> Targets { get; set; } =
        new Dictionary<string, RuntimeAI.Core.Runtimes.Runtime>();

    /// <summary>Every runtime of the inventory, once a stage needed them all (fleet-wide budgets); see <see cref="PlanStage.AllRuntimesAsync"/>.</summary>
    internal IReadOnlyList<RuntimeAI.Core.Runtimes.Runtime>? Inventory { get; set; }

    /// <summary>The runtimes that declare dependencies, once the simulation needed them; see <see cref="PlanStage.DependentCandidatesAsync"/>.</summary>
    internal IReadOnlyList<RuntimeAI.Core.Runtimes.Runtime>? DependentCandidates { get; set; }

    /// <summary>The combined policy decision over all changes.</summary>
    public RuntimeAI.Core.Policies.PolicyDecision? Decision { get; set; }

    /// <summary>The dry-run report of each change.</summary>
    public List<RuntimeAI.Core.Governance.SimulationReport> Simulations { get; } = [];

    /// <summary>Why a human must approve (empty when none is needed).</summary>
    public List<string> ApprovalReasons { get; } = [];

    public string? ProposalId { get; set; }

    public string? Approver { get; set; }

    /// <summary>The channel the approval came through (approver or client), when one was needed.</summary>
    public string? ApprovalChannel { get; set; }

    /// <summary>True while this call holds the budget gate (taken by the policy stage, released when the call ends).</summary>
    public bool HoldsBudgetGate { get; set; }

    /// <summary>The operation id reserved for this call when its idempotency key was claimed.</summary>
    public string? OperationId { get; set; }

    /// <summary>Who runs the call and what allowed it, as recorded on the operation and its events.</summary>
    public RuntimeAI.Core.Operations.OperationActor ToActor() => new()
    {
        Principal = Principal.Name,
        Kind = Principal.Kind == PrincipalKind.Human ? "human" : "agent",
        Approver = Approver,
        ApprovalChannel = ApprovalChannel,
        ProposalId = ProposalId,
        PolicyRuleIds = Decision?.RuleIds ?? [],
        CallId = CallId,
        IdempotencyKey = IdempotencyKey,
    };

    /// <summary>The approved proposal this call redeemed (executing until the call ends).</summary>
    public RuntimeAI.Core.Governance.Proposal? RedeemedProposal { get; set; }
}

/// <summary>What a stage says: go on, or stop with a refusal or an invalid-params error.</summary>
internal sealed record StageVerdict
{
    public static readonly StageVerdict Continue = new();

    /// <summary>A tool result with isError (the call was understood and refused).</summary>
    public ToolResult? Refusal { get; init; }

    /// <summary>An answer given instead of running the tool (a dry-run report, a pending proposal).</summary>
    public ToolResult? Answer { get; init; }

    /// <summary>A JSON-RPC InvalidParams error message (the call was malformed).</summary>
    public string? InvalidParams { get; init; }

    public static StageVerdict Refuse(string code, string message) => new() { Refusal = ToolResult.Error(code, message) };

    public static StageVerdict Invalid(string message) => new() { InvalidParams = message };

    public static StageVerdict Answered(ToolResult answer) => new() { Answer = answer };
}

/// <summary>One stage of the pipeline: small, ordered, failing closed.</summary>
internal interface IToolCallStage
{
    /// <summary>Checks the call; anything but <see cref="StageVerdict.Continue"/> stops it.</summary>
    ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken);
}
