using System.Text.Json.Nodes;

namespace RuntimeAI.Core.Audit;

/// <summary>What is known about a tool call when it starts.</summary>
public sealed record AuditBegin
{
    public required string CallId { get; init; }
    public required DateTimeOffset Ts { get; init; }
    public required string Tool { get; init; }
    public string? Tier { get; init; }
    public string Principal { get; init; } = "anonymous";
    /// <summary>human or agent: agents and humans are different principals, and the trail says which acted.</summary>
    public string? PrincipalKind { get; init; }
    /// <summary>How the principal was established: os, api_key, jwt.</summary>
    public string? AuthenticatedBy { get; init; }
    public string? Client { get; init; }
    public string? Transport { get; init; }
    /// <summary>Arguments with secrets already redacted.</summary>
    public JsonObject? Arguments { get; init; }
    public string? AutonomyLevel { get; init; }
    /// <summary>The agent's reasoning as it sent it: untrusted text, stored for forensics.</summary>
    public string? Reasoning { get; init; }
    public string? IdempotencyKey { get; init; }
}

/// <summary>How a tool call ended.</summary>
public sealed record AuditEnd
{
    public required string CallId { get; init; }
    public required DateTimeOffset Ts { get; init; }
    /// <summary>ok, error, refused, invalid_params, pending_approval.</summary>
    public required string Outcome { get; init; }
    public string? Detail { get; init; }
    public string? OperationId { get; init; }
    public string? RuntimeId { get; init; }

    /// <summary>Every runtime the call touched, when more than one (a saga across runtimes); a query by runtime finds the call under each.</summary>
    public IReadOnlyList<string>? RuntimeIds { get; init; }

    public JsonObject? Decision { get; init; }
    public string? ProposalId { get; init; }
    public string? Approver { get; init; }
    /// <summary>approver (a different authenticated principal) or client (client-attested), when an approval was needed.</summary>
    public string? ApprovalChannel { get; init; }
    public string? DryRunSummary { get; init; }
}

/// <summary>One finished record of the audit trail.</summary>
public sealed record AuditRecord
{
    public required long Seq { get; init; }
    public required AuditBegin Begin { get; init; }
    public required AuditEnd End { get; init; }
    public required string PrevHash { get; init; }
    public required string Hash { get; init; }
}

/// <summary>Query over finished audit records.</summary>
public sealed record AuditQuery
{
    public string? Principal { get; init; }
    public string? Tool { get; init; }
    public string? RuntimeId { get; init; }
    public DateTimeOffset? Since { get; init; }
    public int PageSize { get; init; } = 50;
    public long? AfterSeq { get; init; }
}

/// <summary>
/// The append-only audit trail. <see cref="BeginAsync"/> records a call in flight (so a crash
/// mid-call leaves a trace); <see cref="EndAsync"/> appends the one finished record to the chain.
/// </summary>
public interface IAuditLog
{
    Task BeginAsync(AuditBegin begin, CancellationToken cancellationToken);

    /// <summary>
    /// The start of a call that can change nothing (observe and analyse tools, unknown tools). A
    /// store may keep it in memory and write the call's one record at <see cref="EndAsync"/>,
    /// which still completes before the answer is sent; by default it is written like any begin.
    /// </summary>
    Task BeginReadOnlyAsync(AuditBegin begin, CancellationToken cancellationToken) => BeginAsync(begin, cancellationToken);

    Task<AuditRecord> EndAsync(AuditEnd end, CancellationToken cancellationToken);

    Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Calls begun but never ended (the server stopped mid-call).</summary>
    Task<IReadOnlyList<AuditBegin>> ListInFlightAsync(CancellationToken cancellationToken);
}
