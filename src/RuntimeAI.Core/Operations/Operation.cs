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

    /// <summary>True when the operation will not change any more.</summary>
    [JsonIgnore]
    public bool IsTerminal => Status is OperationStatus.Succeeded or OperationStatus.Failed
        or OperationStatus.Cancelled or OperationStatus.Stuck;
}
