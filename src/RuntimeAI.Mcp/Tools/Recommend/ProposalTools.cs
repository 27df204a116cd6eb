using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;

namespace RuntimeAI.Mcp.Tools.Recommend;

internal sealed class GetProposalTool : RuntimeTool
{
    public override string Name => "get_proposal";

    public override string Title => "Get a proposal";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "Read a proposal: its status, who decided and why; poll it after pending_approval.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Required("proposal_id", Schema.String(null, "^prp_[0-9A-HJKMNP-TV-Z]{26}$")), Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("proposal_id", "status", "title");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var id = call.GetString("proposal_id")!;
        var proposal = await call.Services.GetRequiredService<IProposalStore>().GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (proposal is null || !await ProposalVisibility.VisibleAsync(call, proposal, cancellationToken).ConfigureAwait(false))
        {
            return ToolResult.Error("not_found", $"proposal '{id}' does not exist; use the proposal_id an execute tool or draft_recommendation returned");
        }

        var node = CoreJson.ToNode(proposal, CoreJsonContext.Default.Proposal);
        return ToolResult.Ok(node, $"Proposal {id} ({proposal.Title}) is {EnumText.Name(proposal.Status)}" +
            (proposal.DecidedBy is null ? "." : $", decided by {proposal.DecidedBy}{(proposal.DecisionReason is null ? "" : $": {proposal.DecisionReason}")}."));
    }
}

/// <summary>Proposals follow their runtimes' tenants (a create, the tenant it would create in): see <see cref="ProposalScope"/>.</summary>
internal static class ProposalVisibility
{
    public static async Task<bool> VisibleAsync(ToolCall call, Proposal proposal, CancellationToken cancellationToken) =>
        call.Caller.AllTenants
        || ProposalScope.Visible(call.Caller, await ProposalScope.TenantsAsync(proposal, call.Inventory, cancellationToken).ConfigureAwait(false));
}

internal sealed class DraftRecommendationTool : RuntimeTool
{
    public override string Name => "draft_recommendation";

    public override string Title => "Draft a recommendation";

    public override ToolTier Tier => ToolTier.Recommend;

    public override string Description =>
        "Record a recommendation (title, severity, reasoning, actions) for a human; nothing runs.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Required("title", Schema.String(null, maxLength: 200, minLength: 3)),
        Schema.Required("severity", Schema.Enum(null, ["info", "warning", "critical"])),
        Schema.Required("reasoning", Schema.String(null, maxLength: 8000, minLength: 3)),
        Schema.Optional("runtime_id", Schema.String(null, Schema.RuntimeIdPattern)),
        Schema.Optional("proposed_actions", Schema.Array(Analyse.Simulation.ActionSchema(), maxItems: 20)));

    public override JsonObject OutputSchema { get; } = Schema.Row("proposal_id", "status");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var ids = call.Services.GetRequiredService<IdGenerator>();
        var time = call.Services.GetRequiredService<TimeProvider>();
        var actions = call.Arguments["proposed_actions"]?.DeepClone() as JsonArray ?? [];
        var runtimeId = call.GetString("runtime_id");
        if (runtimeId is not null && await call.Inventory.GetRuntimeAsync(runtimeId, cancellationToken).ConfigureAwait(false) is null)
        {
            return ToolErrors.RuntimeNotFound(runtimeId);
        }

        var proposal = new Proposal
        {
            ProposalId = ids.New("prp"),
            Status = ProposalStatus.Draft,
            Title = call.GetString("title")!,
            Severity = call.GetString("severity")!,
            RuntimeId = runtimeId,
            Actions = actions,
            Digest = Proposal.ComputeDigest(Name, runtimeId, actions),
            ProposedBy = call.Principal,
            Arguments = call.Caller.AllTenants ? null : new System.Text.Json.Nodes.JsonObject { ["tenant_id"] = call.Caller.Tenants.FirstOrDefault() },
            Reasoning = call.GetString("reasoning"),
            CreatedAt = time.GetUtcNow(),
        };
        await call.Services.GetRequiredService<IProposalStore>().SaveAsync(proposal, cancellationToken).ConfigureAwait(false);
        return ToolResult.Ok(new JsonObject { ["proposal_id"] = proposal.ProposalId, ["status"] = "draft" },
            $"Recommendation {proposal.ProposalId} recorded for human review; nothing was executed.");
    }
}
