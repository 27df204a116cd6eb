using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Mcp.Identity;

namespace RuntimeAI.Mcp.Rest;

/// <summary>
/// Extensions: /v1/proposals (list, get, approve, reject). Approving is what <c>runtimeai approve</c>
/// does, with the caller as approver: never the requester, the approver role, every tenant of the
/// proposal visible; the decision is on the audit trail like a tool call.
/// </summary>
internal static class ProposalEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/proposals", ListAsync).WithName("listProposals").WithTags("Proposals")
            .Produces<JsonObject>();
        group.MapGet("/proposals/{proposal_id}", GetAsync).WithName("getProposal").WithTags("Proposals")
            .Produces<JsonObject>();
        group.MapPost("/proposals/{proposal_id}/approve", ApproveAsync).WithName("approveProposal").WithTags("Proposals")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestProposalDecision>(required: false)).Produces<JsonObject>();
        group.MapPost("/proposals/{proposal_id}/reject", RejectAsync).WithName("rejectProposal").WithTags("Proposals")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestProposalDecision>(required: false)).Produces<JsonObject>();
    }

    private static async Task ListAsync(HttpContext context, [FromQuery(Name = "status")] string? status)
    {
        var principal = context.RequestServices.GetRequiredService<PrincipalResolver>().Resolve(context.User);
        if (!principal.Has(Role.Viewer))
        {
            await RestProblem.WriteAsync(context, "forbidden", $"listing proposals needs the viewer role; you are '{principal.Name}' with {(principal.Roles.Count == 0 ? "no role" : "roles " + string.Join(", ", principal.Roles.Select(EnumText.Name)))}").ConfigureAwait(false);
            return;
        }

        ProposalStatus? filter = ProposalStatus.Pending;
        if (status is not null && status != "all")
        {
            if (!Enum.GetValues<ProposalStatus>().Any(s => EnumText.Name(s) == status))
            {
                await RestProblem.WriteAsync(context, "invalid_params", $"status '{status}' is not a proposal status; pass one of {string.Join(", ", Enum.GetValues<ProposalStatus>().Select(EnumText.Name))} or all").ConfigureAwait(false);
                return;
            }

            filter = Enum.GetValues<ProposalStatus>().First(s => EnumText.Name(s) == status);
        }
        else if (status == "all")
        {
            filter = null;
        }

        var store = context.RequestServices.GetRequiredService<IProposalStore>();
        var inventory = context.RequestServices.GetRequiredService<IRuntimeInventory>();
        var items = new JsonArray();
        foreach (var proposal in await store.ListAsync(filter, 200, context.RequestAborted).ConfigureAwait(false))
        {
            // The same tenant rule as get_proposal: a proposal shows when every runtime it touches does.
            if (principal.AllTenants || ProposalScope.Visible(principal, await ProposalScope.TenantsAsync(proposal, new TenantScopedInventory(inventory, principal), context.RequestAborted).ConfigureAwait(false)))
            {
                items.Add((JsonNode)CoreJson.ToNode(proposal, CoreJsonContext.Default.Proposal));
            }
        }

        await RestJson.WriteAsync(context, StatusCodes.Status200OK, new JsonObject { ["items"] = SecretRedactor.Redact(items) }).ConfigureAwait(false);
    }

    private static async Task GetAsync([FromRoute(Name = "proposal_id")] string proposalId, HttpContext context)
    {
        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "get_proposal", new JsonObject { ["proposal_id"] = proposalId }).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, proposal => RestJson.WriteAsync(context, StatusCodes.Status200OK, proposal)).ConfigureAwait(false);
    }

    private static Task ApproveAsync([FromRoute(Name = "proposal_id")] string proposalId, HttpContext context) =>
        DecideAsync(context, proposalId, ProposalStatus.Approved);

    private static Task RejectAsync([FromRoute(Name = "proposal_id")] string proposalId, HttpContext context) =>
        DecideAsync(context, proposalId, ProposalStatus.Rejected);

    private static async Task DecideAsync(HttpContext context, string proposalId, ProposalStatus outcome)
    {
        if (await RestIo.ReadBodyAsync(context, required: false).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        var reason = body["reason"] is JsonValue r && r.TryGetValue<string>(out var text) ? text : null;
        var verb = outcome == ProposalStatus.Approved ? "approve" : "reject";
        var audited = context.RequestServices.GetRequiredService<RestAuditedAction>();
        await audited.RunAsync(context, verb + "_proposal", new JsonObject { ["proposal_id"] = proposalId, ["reason"] = reason }, async (approver, ct) =>
        {
            var store = context.RequestServices.GetRequiredService<IProposalStore>();
            var time = context.RequestServices.GetRequiredService<TimeProvider>();
            var proposal = await store.GetAsync(proposalId, ct).ConfigureAwait(false);
            var inventory = context.RequestServices.GetRequiredService<IRuntimeInventory>();
            var tenants = proposal is null ? [] : await ProposalScope.TenantsAsync(proposal, inventory, ct).ConfigureAwait(false);
            if (proposal is null || (!approver.AllTenants && !ProposalScope.Visible(approver, tenants)))
            {
                return RestActionOutcome.Fail("not_found", $"proposal '{proposalId}' does not exist; list them with GET {RestApi.Prefix}/proposals");
            }

            if (proposal.Status != ProposalStatus.Pending)
            {
                return RestActionOutcome.Fail("invalid_state", $"proposal '{proposalId}' is {EnumText.Name(proposal.Status)}, not pending; only pending proposals can be decided");
            }

            var now = time.GetUtcNow();
            if (proposal.ExpiresAt is { } expires && expires < now)
            {
                await store.TransitionAsync(proposal with { Status = ProposalStatus.Expired }, ProposalStatus.Pending, ct).ConfigureAwait(false);
                return RestActionOutcome.Fail("invalid_state", $"proposal '{proposalId}' expired at {expires:u}; the requester must propose again");
            }

            if (ApprovalDecider.Refusal(proposal, approver, tenants) is { } refusal)
            {
                return RestActionOutcome.Fail(refusal.EndsWith("does not exist", StringComparison.Ordinal) ? "not_found" : "forbidden", refusal);
            }

            var decided = ApprovalDecider.Decide(proposal, approver, outcome, reason, now);
            var complete = decided.Status != ProposalStatus.Pending;
            if (!await store.TransitionAsync(decided, ProposalStatus.Pending, ct, approvalsBefore: proposal.Approvals.Count).ConfigureAwait(false))
            {
                return RestActionOutcome.Fail("conflict", $"proposal '{proposalId}' was decided or approved by someone else a moment ago, so your decision was not recorded; GET it and decide again if it is still pending");
            }

            var answer = CoreJson.ToNode(decided, CoreJsonContext.Default.Proposal);
            answer["message"] = complete
                ? $"{proposalId} {EnumText.Name(outcome)} by {approver.Name}" + (outcome == ProposalStatus.Approved ? $"; the requester ({proposal.ProposedBy}) repeats the call with proposal_id={proposalId} to run it once" : string.Empty)
                : $"{proposalId} approved by {approver.Name} ({decided.Approvals.Count} of {proposal.RequiredApprovals}); it stays pending until {proposal.RequiredApprovals - decided.Approvals.Count} more approver(s) approve";
            return RestActionOutcome.Ok(answer, proposalId);
        }).ConfigureAwait(false);
    }
}
