namespace RuntimeAI.Core.Operations;

/// <summary>
/// The durable steps of saga operations. A write is durable when its task completes: the executor
/// relies on that to persist a step's intent and compensation before the step runs.
/// </summary>
public interface ISagaStore
{
    /// <summary>Inserts or replaces all <paramref name="steps"/> of an operation in one transaction.</summary>
    Task SaveStepsAsync(string operationId, IReadOnlyList<SagaStep> steps, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces one step.</summary>
    Task SaveStepAsync(string operationId, SagaStep step, CancellationToken cancellationToken);

    /// <summary>The steps of an operation in order; empty when it is not a saga.</summary>
    Task<IReadOnlyList<SagaStep>> GetStepsAsync(string operationId, CancellationToken cancellationToken);
}

/// <summary>An idempotency key as first used: who, for which tool, which payload, which operation.</summary>
public sealed record IdempotencyRecord
{
    /// <summary>The key the client chose.</summary>
    public required string Key { get; init; }

    /// <summary>Keys are scoped by principal: two principals may use the same key independently.</summary>
    public required string Principal { get; init; }

    /// <summary>The tool the key was used with.</summary>
    public required string Tool { get; init; }

    /// <summary>SHA-256 of the canonical payload.</summary>
    public required string PayloadDigest { get; init; }

    /// <summary>The operation the first request started.</summary>
    public required string OperationId { get; init; }

    /// <summary>When the key was first used.</summary>
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Idempotency keys of mutating requests.</summary>
public interface IIdempotencyStore
{
    /// <summary>
    /// Records <paramref name="candidate"/> unless its principal already used its key; returns the
    /// record that holds the key (the candidate when it won, else the first one).
    /// </summary>
    Task<IdempotencyRecord> ClaimAsync(IdempotencyRecord candidate, CancellationToken cancellationToken);

    /// <summary>The record holding <paramref name="principal"/>'s <paramref name="key"/>, or null when the key is unused (reads only).</summary>
    Task<IdempotencyRecord?> FindAsync(string principal, string key, CancellationToken cancellationToken);

    /// <summary>Stores the first request's final result next to its key.</summary>
    Task CompleteAsync(IdempotencyRecord record, string resultJson, CancellationToken cancellationToken);
}
