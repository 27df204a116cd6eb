using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RuntimeAI.Core.Governance;

/// <summary>Where a proposal is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProposalStatus>))]
public enum ProposalStatus
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("approved")] Approved,
    [JsonStringEnumMemberName("rejected")] Rejected,
    /// <summary>Approved and redeemed: the approved call is running (used once; cannot be redeemed again).</summary>
    [JsonStringEnumMemberName("executing")] Executing,
    /// <summary>The approved call ran and succeeded.</summary>
    [JsonStringEnumMemberName("executed")] Executed,
    /// <summary>The approved call ran and failed (see <see cref="Proposal.ExecutionError"/>); propose again to retry.</summary>
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("expired")] Expired,
    /// <summary>A recommendation drafted for humans; nothing executes it.</summary>
    [JsonStringEnumMemberName("draft")] Draft,
}

/// <summary>
/// "AI proposals are draft PRs; a human merges them": a change an agent asked for that needs a
/// human, bound to the exact tool call by a digest so a changed plan needs a new approval.
/// </summary>
public sealed record Proposal
{
    public required string ProposalId { get; init; }
    public required ProposalStatus Status { get; init; }
    public required string Title { get; init; }
    public string Severity { get; init; } = "info";
    /// <summary>The tool the approval is for (null for a drafted recommendation).</summary>
    public string? Tool { get; init; }
    public JsonObject? Arguments { get; init; }
    public string? RuntimeId { get; init; }

    /// <summary>Every runtime the proposal's actions touch (a saga may span several); its tenants scope who sees and decides it.</summary>
    public IReadOnlyList<string> RuntimeIds { get; init; } = [];

    public JsonArray? Actions { get; init; }
    public required string Digest { get; init; }
    public required string ProposedBy { get; init; }
    public string? Reasoning { get; init; }
    public string? DryRunSummary { get; init; }
    public IReadOnlyList<string> ApprovalReasons { get; init; } = [];
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? DecidedBy { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public string? DecisionReason { get; init; }

    /// <summary>
    /// The requester's separation-of-duties identities (its name, the OS account or OAuth client
    /// behind it): a principal sharing any of them can never approve this proposal.
    /// </summary>
    public IReadOnlyList<string> RequesterIdentities { get; init; } = [];

    /// <summary>Who may approve: <c>approver</c> (another authenticated principal with the approver role) or <c>client</c> (the human at the agent's client).</summary>
    public string ApprovalChannel { get; init; } = ApprovalChannels.Approver;

    /// <summary>How many distinct approvers must approve (N of M); 1 unless configured.</summary>
    public int RequiredApprovals { get; init; } = 1;

    /// <summary>The approvals given so far, each with the approver's authenticated identity and channel.</summary>
    public IReadOnlyList<ProposalApproval> Approvals { get; init; } = [];

    /// <summary>Why the approved call failed, when <see cref="Status"/> is failed.</summary>
    public string? ExecutionError { get; init; }

    /// <summary>SHA-256 of the tool name and its planned actions (canonical JSON): what an approval binds to.</summary>
    public static string ComputeDigest(string tool, string? runtimeId, JsonArray actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var canonical = $"{tool}\n{runtimeId}\n{Canonical(actions)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canonical(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };
}

/// <summary>One approver's decision.</summary>
public sealed record ProposalApproval
{
    /// <summary>The approver's authenticated principal name (or <c>human-in-client:…</c> for a client-attested approval).</summary>
    public required string By { get; init; }

    /// <summary><c>approver</c> or <c>client</c> (client-attested: the server cannot tell who clicked).</summary>
    public required string Channel { get; init; }

    /// <summary>How the approver was authenticated (os, api_key, jwt, client-attested).</summary>
    public string? AuthenticatedBy { get; init; }

    public required DateTimeOffset At { get; init; }

    public string? Reason { get; init; }
}

/// <summary>The approval channels.</summary>
public static class ApprovalChannels
{
    /// <summary>A different authenticated principal with the approver role decides out of band (CLI today).</summary>
    public const string Approver = "approver";

    /// <summary>The human at the agent's own client answers an elicitation (client-attested).</summary>
    public const string Client = "client";
}

/// <summary>
/// Separation of duties for an approval, on every channel: the requester, and every principal
/// that shares an identity with it (its OS account, the OAuth client it acted through), can never
/// approve; an approver must hold the approver role, see the proposal's tenant, and approve once.
/// </summary>
public static class ApprovalDecider
{
    /// <summary>
    /// Null when <paramref name="approver"/> may decide <paramref name="proposal"/>; otherwise why
    /// not. <paramref name="tenants"/> are the proposal's tenants (<see cref="ProposalScope.TenantsAsync"/>):
    /// the approver must see every one of them.
    /// </summary>
    public static string? Refusal(Proposal proposal, Identity.Principal approver, IReadOnlyCollection<string?> tenants)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(approver);
        if (string.Equals(approver.Name, proposal.ProposedBy, StringComparison.Ordinal) || approver.IsSameParty(proposal.RequesterIdentities)
            || proposal.RequesterIdentities.Contains(approver.Name, StringComparer.Ordinal))
        {
            return $"'{approver.Name}' is the requester of '{proposal.ProposalId}' (or acts as the same party: {proposal.ProposedBy}) and cannot also decide it; another person with the approver role must";
        }

        if (!approver.Has(Identity.Role.Approver))
        {
            return $"'{approver.Name}' does not have the approver role; ask an admin for an approver key ('runtimeai keys create --role approver --human')";
        }

        ArgumentNullException.ThrowIfNull(tenants);
        if (!ProposalScope.Visible(approver, tenants))
        {
            return $"proposal '{proposal.ProposalId}' does not exist";
        }

        if (proposal.Approvals.Any(a => string.Equals(a.By, approver.Name, StringComparison.Ordinal)))
        {
            return $"'{approver.Name}' already approved '{proposal.ProposalId}'; it needs {proposal.RequiredApprovals} different approvers";
        }

        return null;
    }

    /// <summary>
    /// The proposal after <paramref name="approver"/>'s decision (checked by <see cref="Refusal"/>
    /// first): a rejection decides it; an approval is added, and decides it once it has
    /// <see cref="Proposal.RequiredApprovals"/> of them (until then it stays pending).
    /// </summary>
    public static Proposal Decide(Proposal proposal, Identity.Principal approver, ProposalStatus outcome, string? reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(approver);
        var approvals = outcome == ProposalStatus.Approved
            ? proposal.Approvals.Append(new ProposalApproval
            {
                By = approver.Name, Channel = ApprovalChannels.Approver, AuthenticatedBy = approver.AuthenticatedBy, At = now, Reason = reason,
            }).ToList()
            : proposal.Approvals.ToList();
        var complete = outcome == ProposalStatus.Rejected || approvals.Count >= proposal.RequiredApprovals;
        return proposal with
        {
            Status = complete ? outcome : ProposalStatus.Pending,
            Approvals = approvals,
            DecidedBy = complete ? approver.Name : null,
            DecidedAt = complete ? now : null,
            DecisionReason = complete ? reason : null,
        };
    }
}

/// <summary>
/// The tenants a proposal belongs to: those of every runtime its actions touch, or, for a create,
/// the tenant it would create in. A principal sees (and may decide) a proposal only when it sees
/// all of them, so a saga across tenants is never shown to, or approved by, someone who can see
/// only part of it.
/// </summary>
public static class ProposalScope
{
    /// <summary>The proposal's tenants, looked up in <paramref name="inventory"/>; null for a runtime it does not know (or does not show).</summary>
    public static async Task<IReadOnlyList<string?>> TenantsAsync(Proposal proposal, Inventory.IRuntimeInventory inventory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(inventory);
        var runtimeIds = proposal.RuntimeIds.Count > 0 ? proposal.RuntimeIds : proposal.RuntimeId is { } single ? [single] : [];
        if (runtimeIds.Count == 0)
        {
            return [proposal.Arguments?["tenant_id"] is JsonValue v && v.TryGetValue<string>(out var tenant) ? tenant : null];
        }

        var tenants = new List<string?>(runtimeIds.Count);
        foreach (var runtimeId in runtimeIds)
        {
            tenants.Add((await inventory.GetRuntimeAsync(runtimeId, cancellationToken).ConfigureAwait(false))?.TenantId);
        }

        return tenants;
    }

    /// <summary>True when <paramref name="principal"/> sees every one of <paramref name="tenants"/>.</summary>
    public static bool Visible(Identity.Principal principal, IReadOnlyCollection<string?> tenants)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(tenants);
        return principal.AllTenants || tenants.All(principal.CanSee);
    }
}

/// <summary>The durable store of proposals.</summary>
public interface IProposalStore
{
    Task SaveAsync(Proposal proposal, CancellationToken cancellationToken);

    Task<Proposal?> GetAsync(string proposalId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Proposal>> ListAsync(ProposalStatus? status, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically moves a proposal from <paramref name="from"/> to its new value; false when it was
    /// not in <paramref name="from"/>, or, when <paramref name="approvalsBefore"/> is given, when
    /// another approver recorded an approval since it was read (so no approval is overwritten).
    /// </summary>
    Task<bool> TransitionAsync(Proposal updated, ProposalStatus from, CancellationToken cancellationToken, int? approvalsBefore = null);
}
