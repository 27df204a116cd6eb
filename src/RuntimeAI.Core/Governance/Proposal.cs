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
    [JsonStringEnumMemberName("executed")] Executed,
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

/// <summary>The durable store of proposals.</summary>
public interface IProposalStore
{
    Task SaveAsync(Proposal proposal, CancellationToken cancellationToken);

    Task<Proposal?> GetAsync(string proposalId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Proposal>> ListAsync(ProposalStatus? status, int limit, CancellationToken cancellationToken);

    /// <summary>Atomically moves a proposal from <paramref name="from"/> to its new value; false when it was not in <paramref name="from"/>.</summary>
    Task<bool> TransitionAsync(Proposal updated, ProposalStatus from, CancellationToken cancellationToken);
}
