using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// "AI proposals are draft PRs; a human merges them." When a change needs a human, the call
/// either asks the human in the client (MRTR elicitation, when the client offers it) or becomes a
/// pending proposal and does nothing. A retry that carries an approved <c>proposal_id</c> runs
/// once, and only if the plan is exactly the one that was approved (same digest).
/// </summary>
internal sealed class ApprovalStage(
    IProposalStore proposals,
    IdGenerator ids,
    RequestStateProtector requestState,
    Hosting.RuntimeAiServerOptions options,
    TimeProvider time) : IToolCallStage
{
    /// <summary>How long a pending proposal waits for a human.</summary>
    public static readonly TimeSpan ProposalLifetime = TimeSpan.FromHours(24);

    public async ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.Changes.Count == 0 || context.ApprovalReasons.Count == 0)
        {
            return StageVerdict.Continue;
        }

        var runtimeId = context.Changes[0].RuntimeId;
        // Each action names its runtime, so the digest binds the approval to every runtime a
        // multi-runtime saga touches and the approver sees them all.
        var actions = new JsonArray(context.Changes.Select(c =>
        {
            var action = CoreJson.ToNode(c.Action, CoreJsonContext.Default.RuntimeAction);
            if (c.RuntimeId is not null)
            {
                action["runtime_id"] = c.RuntimeId;
            }

            return (JsonNode)action;
        }).ToArray());
        var digest = Proposal.ComputeDigest(context.ToolName, runtimeId, actions);

        if (context.Arguments["proposal_id"] is JsonValue idValue && idValue.TryGetValue<string>(out var proposalId))
        {
            return await RedeemAsync(context, proposalId, digest, cancellationToken).ConfigureAwait(false);
        }

        var channel = Channel(context, options.ClientApprovalTransports);
        if (channel == ApprovalChannels.Client && await AskWithMrtrAsync(context, digest, cancellationToken).ConfigureAwait(false) is { } redeemed)
        {
            return redeemed;
        }

        var now = time.GetUtcNow();
        var proposal = new Proposal
        {
            ProposalId = ids.New("prp"),
            Status = ProposalStatus.Pending,
            Title = $"{context.ToolName} {(runtimeId is null ? context.Arguments["name"]?.ToString() ?? string.Empty : string.Join(", ", context.Changes.Select(c => c.RuntimeId).Distinct(StringComparer.Ordinal)))}".Trim(),
            Severity = context.Simulations.Any(s => !s.Reversible || s.Disruptive) ? "high" : "medium",
            Tool = context.ToolName,
            Arguments = StripControl(context.Arguments),
            RuntimeId = runtimeId,
            RuntimeIds = context.Changes.Select(c => c.RuntimeId).OfType<string>().Distinct(StringComparer.Ordinal).ToList(),
            Actions = actions,
            Digest = digest,
            ProposedBy = context.Principal.Name,
            RequesterIdentities = context.Principal.Identities,
            ApprovalChannel = channel,
            RequiredApprovals = channel == ApprovalChannels.Approver ? Math.Max(1, options.ApprovalsRequired) : 1,
            Reasoning = context.Reasoning is null ? null : RuntimeAI.Core.Audit.SecretRedactor.RedactText(context.Reasoning),
            DryRunSummary = string.Join(" | ", context.Simulations.Select(s => s.Summary)),
            ApprovalReasons = context.ApprovalReasons.ToList(),
            CreatedAt = now,
            ExpiresAt = now + ProposalLifetime,
        };
        await proposals.SaveAsync(proposal, cancellationToken).ConfigureAwait(false);
        context.ProposalId = proposal.ProposalId;
        RuntimeAI.Core.Telemetry.RuntimeAiTelemetry.ApprovalsRequested.Add(1, new KeyValuePair<string, object?>("channel", channel));
        var structured = new JsonObject
        {
            ["status"] = "pending_approval",
            ["proposal_id"] = proposal.ProposalId,
            ["expires_at"] = proposal.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture),
            ["approval_reasons"] = new JsonArray(proposal.ApprovalReasons.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
            ["dry_run"] = proposal.DryRunSummary,
            ["approval_channel"] = channel,
            ["approvals_required"] = proposal.RequiredApprovals,
            ["how_to_approve"] = $"another person with the approver role (never the requester) runs: runtimeai approve {proposal.ProposalId}",
            ["then"] = $"call {context.ToolName} again with the same arguments plus \"proposal_id\": \"{proposal.ProposalId}\"; poll with get_proposal",
        };
        return StageVerdict.Answered(ToolResult.Ok(structured,
            $"NOT executed: {context.ToolName} needs a human approval ({string.Join("; ", proposal.ApprovalReasons)}). " +
            $"Proposal {proposal.ProposalId} is pending until {proposal.ExpiresAt:u}; another person with the approver role approves it with 'runtimeai approve {proposal.ProposalId}'" +
            (proposal.RequiredApprovals > 1 ? $" ({proposal.RequiredApprovals} approvers needed), " : ", ") +
            "then repeat this call with proposal_id. Poll with get_proposal."));
    }

    private async Task<StageVerdict> RedeemAsync(ToolCallContext context, string proposalId, string digest, CancellationToken cancellationToken)
    {
        var proposal = await proposals.GetAsync(proposalId, cancellationToken).ConfigureAwait(false);
        if (proposal is null)
        {
            return StageVerdict.Refuse("approval_invalid", $"proposal '{proposalId}' does not exist; omit proposal_id to create a new proposal");
        }

        if (proposal.Status != ProposalStatus.Approved)
        {
            return StageVerdict.Refuse("approval_invalid",
                $"proposal '{proposalId}' is {EnumText.Name(proposal.Status)}, not approved; " +
                (proposal.Status == ProposalStatus.Pending ? "wait for a human to approve it (poll get_proposal)" : "omit proposal_id to create a new proposal"));
        }

        if (proposal.ExpiresAt is { } expires && expires < time.GetUtcNow())
        {
            return StageVerdict.Refuse("approval_invalid", $"the approval of '{proposalId}' expired at {expires:u}; omit proposal_id to propose again");
        }

        if (!string.Equals(proposal.Digest, digest, StringComparison.Ordinal))
        {
            return StageVerdict.Refuse("approval_invalid",
                $"proposal '{proposalId}' approved a different change (tool or arguments differ); an approval covers exactly the approved actions — omit proposal_id to propose this one");
        }

        if (!string.Equals(proposal.ProposedBy, context.Principal.Name, StringComparison.Ordinal))
        {
            return StageVerdict.Refuse("approval_invalid",
                $"proposal '{proposalId}' was made by {proposal.ProposedBy}; only the requester can run what was approved for it — omit proposal_id to propose this change yourself");
        }

        // Redeemed once: executing now; the pipeline marks it executed or failed when the call ends.
        var executing = proposal with { Status = ProposalStatus.Executing };
        if (!await proposals.TransitionAsync(executing, ProposalStatus.Approved, cancellationToken).ConfigureAwait(false))
        {
            return StageVerdict.Refuse("approval_invalid", $"proposal '{proposalId}' was already used; an approval runs once");
        }

        context.ProposalId = proposalId;
        context.RedeemedProposal = executing;
        context.Approver = proposal.Approvals.Count > 0 ? string.Join(",", proposal.Approvals.Select(a => a.By)) : proposal.DecidedBy;
        context.ApprovalChannel = proposal.ApprovalChannel;
        ApprovalDecided("approved", proposal.ApprovalChannel);
        return StageVerdict.Continue;
    }

    /// <summary>
    /// Multi round-trip request (MRTR): when the client declared elicitation and the session
    /// supports MRTR (protocol 2026-07-28, or the SDK's bridge on older sessions), the first call
    /// ends with an InputRequired result carrying the prompt and a protected request state; the
    /// client's retry carries the human's answer. Null when MRTR cannot be used.
    /// </summary>
    private async Task<StageVerdict?> AskWithMrtrAsync(ToolCallContext context, string digest, CancellationToken cancellationToken)
    {
        var server = context.Request?.Server;
        var parameters = context.Request?.Params;
        if (server is null || parameters is null || !server.IsMrtrSupported || server.ClientCapabilities?.Elicitation is null)
        {
            return null;
        }

        if (parameters.InputResponses?.TryGetValue("approval", out var response) == true && parameters.RequestState is { } state)
        {
            var (redeemed, why) = await requestState.TryRedeemAsync(state, context.Principal.Name, digest, cancellationToken).ConfigureAwait(false);
            if (!redeemed)
            {
                return StageVerdict.Refuse("approval_invalid", $"{why}; nothing was changed");
            }

            var answer = response.RawValue;
            var approved = answer.ValueKind == System.Text.Json.JsonValueKind.Object
                           && answer.TryGetProperty("action", out var action) && action.GetString() == "accept"
                           && answer.TryGetProperty("content", out var content) && content.ValueKind == System.Text.Json.JsonValueKind.Object
                           && content.TryGetProperty("approve", out var approve) && approve.ValueKind == System.Text.Json.JsonValueKind.True;
            ApprovalDecided(approved ? "approved" : "rejected", ApprovalChannels.Client);
            if (!approved)
            {
                return StageVerdict.Refuse("approval_rejected", $"the human in the client did not approve {context.ToolName}; nothing was changed");
            }

            // Client-attested: the server cannot tell who answered in the client, so policy allows this
            // channel only for non-destructive changes outside prod on a local transport.
            context.Approver = $"human-in-client:{context.Client ?? "unknown"}";
            context.ApprovalChannel = ApprovalChannels.Client;
            return StageVerdict.Continue;
        }

        throw new InputRequiredException(
            new Dictionary<string, InputRequest> { ["approval"] = InputRequest.ForElicitation(Prompt(context)) },
            requestState.Issue(context.Principal.Name, digest));
    }

    /// <summary>
    /// Which channel may approve this call. The human at the agent's own client (client-attested)
    /// is enough only on the configured transports (default: stdio and the CLI), for non-destructive changes outside
    /// any env=prod scope; everything else needs a different authenticated approver.
    /// </summary>
    internal static string Channel(ToolCallContext context, IEnumerable<string> clientTransports)
    {
        var local = context.Transport is { } transport && clientTransports.Contains(transport, StringComparer.Ordinal);
        var destructive = context.Tool?.Destructive == true
            || context.Changes.Any(c => c.Action.Type is Core.Actions.ActionType.Stop or Core.Actions.ActionType.Restart
                or Core.Actions.ActionType.Restore or Core.Actions.ActionType.Delete);
        var prod = context.Targets.Values.Any(r => r.Labels.TryGetValue("env", out var env) && env == "prod")
                   || context.Changes.Any(c => c.Action.Params?["labels"] is JsonObject labels && labels["env"]?.ToString() == "prod");
        return local && !destructive && !prod ? ApprovalChannels.Client : ApprovalChannels.Approver;
    }

    /// <summary>Marks a redeemed proposal executed (the call succeeded) or failed (it did not), once the call ends.</summary>
    internal async Task CompleteAsync(ToolCallContext context, bool succeeded, string? error)
    {
        if (context.RedeemedProposal is not { } proposal)
        {
            return;
        }

        var done = proposal with
        {
            Status = succeeded ? ProposalStatus.Executed : ProposalStatus.Failed,
            ExecutionError = succeeded ? null : RuntimeAI.Core.Audit.SecretRedactor.RedactText(error ?? "the call failed"),
        };
        await proposals.TransitionAsync(done, ProposalStatus.Executing, CancellationToken.None).ConfigureAwait(false);
    }

    private static ElicitRequestParams Prompt(ToolCallContext context) => new()
    {
        Message = $"RuntimeAI: an agent asks to run {context.ToolName}.\n" +
                  $"Why approval is needed: {string.Join("; ", context.ApprovalReasons)}\n" +
                  $"Dry run: {string.Join(" | ", context.Simulations.Select(s => s.Summary))}\n" +
                  (context.Reasoning is null ? string.Empty : $"Agent's reasoning (unverified): {RuntimeAI.Core.Audit.SecretRedactor.RedactText(context.Reasoning)}\n") +
                  "Approve this change?",
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition>
            {
                ["approve"] = new ElicitRequestParams.BooleanSchema { Description = "Approve the change" },
            },
            Required = ["approve"],
        },
    };

    private static JsonObject StripControl(JsonObject arguments)
    {
        var copy = RuntimeAI.Core.Audit.SecretRedactor.Redact(arguments)!;
        copy.Remove("proposal_id");
        copy.Remove("dry_run");
        return copy;
    }

    // Counted where the server learns the decision: an approved proposal redeemed, or the answer of the human in the client.
    private static void ApprovalDecided(string decision, string channel) =>
        RuntimeAI.Core.Telemetry.RuntimeAiTelemetry.ApprovalsDecided.Add(1,
            new KeyValuePair<string, object?>("decision", decision), new KeyValuePair<string, object?>("channel", channel));
}
