using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RuntimeAI.Core.Operations;

/// <summary>Where an operation is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OperationStatus>))]
public enum OperationStatus
{
    [JsonStringEnumMemberName("queued")] Queued,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    /// <summary>A compensation failed after retries: a human must act (see the error).</summary>
    [JsonStringEnumMemberName("stuck")] Stuck,
}

/// <summary>How far an operation has come.</summary>
public sealed record OperationProgress(int Percent, string? Message);

/// <summary>Why an operation failed, in words an operator can act on.</summary>
public sealed record OperationError(string Code, string Message);

/// <summary>A unit of asynchronous work against one runtime (the brief's Operation).</summary>
public sealed record Operation
{
    public required string OperationId { get; init; }
    public required OperationStatus Status { get; init; }
    public string? RuntimeId { get; init; }
    /// <summary>What the operation does, e.g. <c>start</c> or <c>create</c>.</summary>
    public required string Action { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public OperationProgress? Progress { get; init; }
    public OperationError? Error { get; init; }
    /// <summary>Action-specific result (e.g. the snapshot taken, or notes such as "restart needed").</summary>
    public JsonObject? Result { get; init; }
    /// <summary>Who started the operation and under which decisions (null for the system's own work).</summary>
    public OperationActor? Actor { get; init; }

    /// <summary>True when the operation will not change any more.</summary>
    [JsonIgnore]
    public bool IsTerminal => Status is OperationStatus.Succeeded or OperationStatus.Failed
        or OperationStatus.Cancelled or OperationStatus.Stuck;
}

/// <summary>
/// Who started an operation and what allowed it: the authenticated principal, whether it is a
/// person or an agent, the approver and channel, the policy rule ids, the proposal and the tool
/// call, as the pipeline decided them. The same facts reach the events and the audit record.
/// </summary>
public sealed record OperationActor
{
    /// <summary>The principal's name, e.g. <c>key:ci-deploy</c>, <c>human:alice</c>.</summary>
    public required string Principal { get; init; }

    /// <summary>human or agent (events record this as their actor).</summary>
    public required string Kind { get; init; }

    public string? Approver { get; init; }

    public string? ApprovalChannel { get; init; }

    public string? ProposalId { get; init; }

    /// <summary>The policy rules that decided the call.</summary>
    public IReadOnlyList<string> PolicyRuleIds { get; init; } = [];

    /// <summary>The audited tool call (its <c>call_id</c> in the audit trail).</summary>
    public string? CallId { get; init; }

    public string? IdempotencyKey { get; init; }
}
