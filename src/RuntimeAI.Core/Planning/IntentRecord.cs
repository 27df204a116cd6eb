using System.Text.Json.Nodes;

namespace RuntimeAI.Core.Planning;

/// <summary>
/// A submitted intent as it is kept (the brief's IntentRecord): the request, the plan made for it,
/// and what ran — the operation or the proposal — with the result.
/// </summary>
public sealed record IntentRecord
{
    /// <summary>int_… id.</summary>
    public required string IntentId { get; init; }

    /// <summary>The runtime it names (null when it names a selector).</summary>
    public string? RuntimeId { get; init; }

    /// <summary>accepted, planned, executing, succeeded, failed, inconclusive or pending_approval.</summary>
    public required string Status { get; init; }

    /// <summary>The request as submitted (goal, constraints, context, policy_mode, dry_run, selector).</summary>
    public required JsonObject Request { get; init; }

    /// <summary>The plan: goal, actions, rationale, explanation_trace, expected_effect, recommendations, missing.</summary>
    public required JsonObject Plan { get; init; }

    /// <summary>Who submitted it.</summary>
    public required string Principal { get; init; }

    /// <summary>The autonomy level it was judged at.</summary>
    public string? Autonomy { get; init; }

    /// <summary>The operation that ran the plan.</summary>
    public string? OperationId { get; init; }

    /// <summary>The proposal a human must approve (copilot, or a step that needs approval).</summary>
    public string? ProposalId { get; init; }

    /// <summary>summary, executed_actions and recommendations (the brief's IntentResult).</summary>
    public JsonObject? Result { get; init; }

    /// <summary>When it was submitted.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it reached a final status.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>Where intents are kept.</summary>
public interface IIntentStore
{
    /// <summary>Inserts or replaces an intent record.</summary>
    Task SaveAsync(IntentRecord record, CancellationToken cancellationToken);

    /// <summary>One intent, or null.</summary>
    Task<IntentRecord?> GetAsync(string intentId, CancellationToken cancellationToken);
}
