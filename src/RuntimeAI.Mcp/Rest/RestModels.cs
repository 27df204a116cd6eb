using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Mcp.Rest;

// The brief's component schemas that the engine's own records do not already match (Runtime,
// RuntimeCreateRequest, RuntimeSpec and ResourceProfile are the engine's). Type names carry a Rest
// prefix so they never collide with engine types; the OpenAPI document drops it (RestApi).

/// <summary>The brief's Operation status values (the engine's <c>stuck</c> is reported as failed with error code stuck).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestOperationStatus>))]
internal enum RestOperationStatus
{
    [JsonStringEnumMemberName("queued")] Queued,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

/// <summary>Progress of an operation.</summary>
internal sealed record RestOperationProgress(int Percent, string? Message);

/// <summary>Why an operation failed.</summary>
internal sealed record RestOperationError(string Code, string Message);

/// <summary>An asynchronous operation (the brief's Operation; <c>operation_id</c> repeats <c>id</c> as the MCP tools name it).</summary>
internal sealed record RestOperation
{
    public required string Id { get; init; }
    public required RestOperationStatus Status { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public RestOperationProgress? Progress { get; init; }
    public RestOperationError? Error { get; init; }
    public string? OperationId { get; init; }
    public string? RuntimeId { get; init; }
    public string? Action { get; init; }
    public JsonObject? Result { get; init; }
}

/// <summary>One page of runtimes.</summary>
internal sealed record RestRuntimeListResponse(IReadOnlyList<Runtime> Items, string? NextPageToken);

/// <summary>The brief's EventListResponse (documents what GET /runtimes/{id}/events writes).</summary>
internal sealed record RestEventListResponse(IReadOnlyList<RuntimeAI.Core.Events.RuntimeEvent> Items, string? NextPageToken);

/// <summary>A runtime's health.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestHealth>))]
internal enum RestHealth
{
    [JsonStringEnumMemberName("ok")] Ok,
    [JsonStringEnumMemberName("warning")] Warning,
    [JsonStringEnumMemberName("critical")] Critical,
    [JsonStringEnumMemberName("unknown")] Unknown,
}

/// <summary>One signal of a runtime's status.</summary>
internal sealed record RestSignal
{
    public JsonNode? Value { get; init; }
    public string? Unit { get; init; }
    public DateTimeOffset? Ts { get; init; }
}

/// <summary>Live state, health and signals of a runtime.</summary>
internal sealed record RestRuntimeStatus
{
    public required string RuntimeId { get; init; }
    public required RuntimeState State { get; init; }
    public RestHealth? Health { get; init; }
    public IReadOnlyDictionary<string, RestSignal>? Signals { get; init; }
    public required DateTimeOffset ObservedAt { get; init; }
}

/// <summary>Body of POST lifecycle/start.</summary>
internal sealed record RestLifecycleStartRequest
{
    /// <summary>Why; kept in the audit trail as the call's reasoning.</summary>
    public string? Reason { get; init; }
}

/// <summary>Body of POST lifecycle/stop.</summary>
internal sealed record RestLifecycleStopRequest
{
    public bool? Force { get; init; }
    public int? TimeoutSeconds { get; init; }
}

/// <summary>Body of POST lifecycle/scale: a size, or resources (cpu, memory; gpu and replicas are refused by today's backends).</summary>
internal sealed record RestLifecycleScaleRequest
{
    public string? Size { get; init; }
    public ResourceProfile? Resources { get; init; }
}

/// <summary>Body of POST lifecycle/snapshot.</summary>
internal sealed record RestLifecycleSnapshotRequest
{
    public string? Name { get; init; }
    public string? Description { get; init; }
}

/// <summary>Body of POST lifecycle/restore (extension).</summary>
internal sealed record RestLifecycleRestoreRequest
{
    public required string Snapshot { get; init; }
}

/// <summary>How boldly a plan may act.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestPolicyMode>))]
internal enum RestPolicyMode
{
    [JsonStringEnumMemberName("safe_first")] SafeFirst,
    [JsonStringEnumMemberName("balanced")] Balanced,
    [JsonStringEnumMemberName("aggressive")] Aggressive,
}

/// <summary>An intent: a goal with constraints for one runtime.</summary>
internal sealed record RestIntentRequest
{
    public required string Goal { get; init; }
    public JsonObject? Constraints { get; init; }
    public JsonObject? Context { get; init; }
    public RestPolicyMode? PolicyMode { get; init; }
    public bool? DryRun { get; init; }
}

/// <summary>Where an intent is.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestIntentStatus>))]
internal enum RestIntentStatus
{
    [JsonStringEnumMemberName("accepted")] Accepted,
    [JsonStringEnumMemberName("planned")] Planned,
    [JsonStringEnumMemberName("executing")] Executing,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

/// <summary>Where a just-submitted intent is (it cannot be cancelled yet).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestSubmittedIntentStatus>))]
internal enum RestSubmittedIntentStatus
{
    [JsonStringEnumMemberName("accepted")] Accepted,
    [JsonStringEnumMemberName("planned")] Planned,
    [JsonStringEnumMemberName("executing")] Executing,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
}

/// <summary>The answer to a submitted intent.</summary>
internal sealed record RestIntentResponse
{
    public required string IntentId { get; init; }
    public required string OperationId { get; init; }
    public required RestSubmittedIntentStatus Status { get; init; }
    public IReadOnlyList<RestAction>? PlannedActions { get; init; }
}

/// <summary>A stored intent.</summary>
internal sealed record RestIntentRecord
{
    public required string IntentId { get; init; }
    public required string RuntimeId { get; init; }
    public required RestIntentRequest Request { get; init; }
    public required RestIntentStatus Status { get; init; }
    public RestIntentResult? Result { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? OperationId { get; init; }
}

/// <summary>What an intent did.</summary>
internal sealed record RestIntentResult
{
    public string? Summary { get; init; }
    public IReadOnlyList<RestActionResult>? ExecutedActions { get; init; }
    public IReadOnlyList<string>? Recommendations { get; init; }
}

/// <summary>Body of POST actions/plan.</summary>
internal sealed record RestActionPlanRequest
{
    public required string Goal { get; init; }
    public JsonObject? Signals { get; init; }
    public JsonObject? Constraints { get; init; }
    public RestPolicyMode? PolicyMode { get; init; }
}

/// <summary>A plan: actions and why.</summary>
internal sealed record RestActionPlan
{
    public required IReadOnlyList<RestAction> Actions { get; init; }
    public IReadOnlyList<string>? Rationale { get; init; }
}

/// <summary>Body of POST actions/execute.</summary>
internal sealed record RestActionExecutionRequest
{
    public required IReadOnlyList<RestAction> Actions { get; init; }
    public string? IdempotencyKey { get; init; }
}

/// <summary>The brief's action types (this server runs start, stop, restart, scale, snapshot; execute also takes restore, see docs/api.md).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestActionType>))]
internal enum RestActionType
{
    [JsonStringEnumMemberName("start")] Start,
    [JsonStringEnumMemberName("stop")] Stop,
    [JsonStringEnumMemberName("restart")] Restart,
    [JsonStringEnumMemberName("scale")] Scale,
    [JsonStringEnumMemberName("snapshot")] Snapshot,
    [JsonStringEnumMemberName("migrate")] Migrate,
    [JsonStringEnumMemberName("rollout_restart")] RolloutRestart,
    [JsonStringEnumMemberName("tune_policy")] TunePolicy,
    [JsonStringEnumMemberName("attach_observer")] AttachObserver,
    [JsonStringEnumMemberName("detach_observer")] DetachObserver,
}

/// <summary>One action of the agent contract.</summary>
internal sealed record RestAction
{
    public required RestActionType Type { get; init; }

    /// <summary>Optional sub-target; <c>{"runtime_id": "rt_…"}</c> names another runtime of the same saga.</summary>
    public JsonObject? Target { get; init; }

    public JsonObject? Params { get; init; }
}

/// <summary>How one action ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestActionStatus>))]
internal enum RestActionStatus
{
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("skipped")] Skipped,
}

/// <summary>The result of one action.</summary>
internal sealed record RestActionResult
{
    public required RestAction Action { get; init; }
    public required RestActionStatus Status { get; init; }
    public string? Message { get; init; }
}

/// <summary>The brief's rule kinds.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RestPolicyRuleKind>))]
internal enum RestPolicyRuleKind
{
    [JsonStringEnumMemberName("deny_action")] DenyAction,
    [JsonStringEnumMemberName("allow_action")] AllowAction,
    [JsonStringEnumMemberName("require_approval")] RequireApproval,
    [JsonStringEnumMemberName("budget_guardrail")] BudgetGuardrail,
    [JsonStringEnumMemberName("data_egress")] DataEgress,
}

/// <summary>One rule of a policy.</summary>
internal sealed record RestPolicyRule
{
    /// <summary>Unique across every loaded policy; generated from the policy id when left out.</summary>
    public string? Id { get; init; }
    public required RestPolicyRuleKind Kind { get; init; }
    public JsonObject? Selector { get; init; }
    public JsonObject? Params { get; init; }
}

/// <summary>Body of POST /policies.</summary>
internal sealed record RestPolicyCreateRequest
{
    public required string Name { get; init; }

    /// <summary>The policy id; derived from the name when left out.</summary>
    public string? Id { get; init; }
    public string? TenantId { get; init; }
    public string? ScopeEnv { get; init; }
    public required IReadOnlyList<RestPolicyRule> Rules { get; init; }
}

/// <summary>A policy.</summary>
internal sealed record RestPolicy
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? TenantId { get; init; }
    public string? ScopeEnv { get; init; }
    public required IReadOnlyList<RestPolicyRule> Rules { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Where it was loaded from (file or api).</summary>
    public string? Origin { get; init; }

    /// <summary>enforce or audit.</summary>
    public string? Mode { get; init; }
}

/// <summary>Every policy the caller may see.</summary>
internal sealed record RestPolicyListResponse(IReadOnlyList<RestPolicy> Items);

/// <summary>A call that waits for a human: 202, <c>Location</c> points at the proposal.</summary>
internal sealed record RestPendingApproval
{
    public required string Status { get; init; }
    public required string ProposalId { get; init; }
    public string? ExpiresAt { get; init; }
    public IReadOnlyList<string>? ApprovalReasons { get; init; }
    public string? DryRun { get; init; }
    public string? HowToApprove { get; init; }
    public string? Then { get; init; }
}

/// <summary>Body of POST /proposals/{id}/approve|reject.</summary>
internal sealed record RestProposalDecision
{
    public string? Reason { get; init; }
}
