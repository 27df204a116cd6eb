using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Operations;

/// <summary>A list of actions to run against one runtime as one saga operation.</summary>
public sealed record SagaRequest
{
    /// <summary>The runtime every action targets.</summary>
    public required string RuntimeId { get; init; }

    /// <summary>The actions, in order.</summary>
    public required IReadOnlyList<RuntimeAction> Actions { get; init; }

    /// <summary>Who asked, as recorded on events: agent, human or system.</summary>
    public string Actor { get; init; } = "agent";

    /// <summary>The authenticated caller; idempotency keys are scoped by it.</summary>
    public required string Principal { get; init; }

    /// <summary>Optional idempotency key chosen by the caller.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The caller and the decisions behind the request, recorded on the operation.</summary>
    public OperationActor? Initiator { get; init; }
}

/// <summary>What a saga operation did: the operation, its steps, and whether this is a replay.</summary>
public sealed record SagaOutcome(Operation Operation, IReadOnlyList<SagaStep> Steps, bool Replayed);

/// <summary>
/// Runs a list of lifecycle actions as one Operation with compensations (a saga). Before a step
/// runs, its intent and the command that undoes it are durable in <see cref="ISagaStore"/>; a
/// destructive step (stop, restart, restore) is preceded by an automatic snapshot
/// <c>auto-before-&lt;op&gt;-&lt;n&gt;</c>. When a step fails, the completed steps are compensated in
/// reverse order; a compensation that keeps failing marks the operation <c>stuck</c> with what a
/// human must do. The runtime's mutation lock is held for the whole saga; steps run through
/// <see cref="RuntimeLifecycle"/>, so every step and compensation is also a lifecycle operation
/// with its own event.
/// </summary>
public sealed partial class SagaExecutor(
    IRuntimeInventory inventory,
    ISagaStore store,
    IIdempotencyStore idempotency,
    RuntimeLifecycle lifecycle,
    IdGenerator ids,
    TimeProvider time,
    ILogger<SagaExecutor> logger)
{
    /// <summary>The operation action of a saga started by execute_actions.</summary>
    public const string ExecuteAction = "execute_actions";

    /// <summary>The operation action of a rollback.</summary>
    public const string RollbackAction = "rollback_operation";

    /// <summary>Most actions one saga accepts.</summary>
    public const int MaxActions = 20;

    private const int CompensationRetries = 3;
    private static readonly TimeSpan s_firstRetryDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Task<SagaOutcome>> _inflight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RunningSaga> _running = new(StringComparer.Ordinal);

    /// <summary>
    /// Runs <paramref name="request"/> as one saga operation. A repeated idempotency key with the
    /// same payload returns the first operation (<see cref="SagaOutcome.Replayed"/>); with another
    /// payload it throws <see cref="SagaException"/> (idempotency_conflict). Once started, the saga
    /// runs to an end state even if the caller goes away: a half-done saga is worse than a late answer.
    /// </summary>
    public async Task<SagaOutcome> ExecuteAsync(SagaRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var commands = ToCommands(request.Actions, request.RuntimeId);
        Runtime? runtime = null;
        foreach (var id in new[] { request.RuntimeId }.Concat(commands.Select(c => c.RuntimeId).OfType<string>()).Distinct(StringComparer.Ordinal))
        {
            var found = await inventory.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new LifecycleException("not_found", $"runtime '{id}' does not exist; call list_runtimes to find a valid runtime_id");
            if (found.State == RuntimeState.Deleted)
            {
                throw new LifecycleException("invalid_state", $"runtime '{found.Id}' ({found.Name}) was deleted; nothing can be done to it");
            }

            runtime ??= found;
        }

        var operationId = ids.New("op");
        IdempotencyRecord? claim = null;
        if (request.IdempotencyKey is { } key)
        {
            var digest = PayloadDigest(request.RuntimeId, commands);
            claim = new IdempotencyRecord
            {
                Key = key, Principal = request.Principal, Tool = ExecuteAction, PayloadDigest = digest,
                OperationId = operationId, CreatedAt = time.GetUtcNow(),
            };
            var holder = await idempotency.ClaimAsync(claim, cancellationToken).ConfigureAwait(false);
            if (holder.OperationId != operationId)
            {
                if (holder.PayloadDigest != digest || holder.Tool != ExecuteAction)
                {
                    throw new SagaException("idempotency_conflict",
                        $"idempotency_key '{key}' was already used by {request.Principal} for a different request (operation {holder.OperationId}); " +
                        "send the exact same runtime_id and actions to get that result again, or use a new key for a new request");
                }

                return await ReplayAsync(key, holder.OperationId, cancellationToken).ConfigureAwait(false);
            }
        }

        var run = RunSagaAsync(operationId, runtime!, commands, request.Initiator?.Kind ?? request.Actor, claim, progress, request.Initiator);
        _inflight[operationId] = run;
        try
        {
            return await run.ConfigureAwait(false);
        }
        finally
        {
            _inflight.TryRemove(operationId, out _);
        }
    }

    /// <summary>
    /// Undoes a succeeded saga operation (its recorded compensations, in reverse) or a succeeded
    /// single lifecycle operation whose result carries what undoes it, as a new operation.
    /// </summary>
    public async Task<SagaOutcome> RollbackAsync(string operationId, string actor, CancellationToken cancellationToken) =>
        await RollbackAsync(operationId, actor, null, null, cancellationToken).ConfigureAwait(false);

    /// <summary>Rolls back <paramref name="operationId"/>, recording <paramref name="initiator"/> on the rollback operation.</summary>
    public async Task<SagaOutcome> RollbackAsync(
        string operationId, string actor, OperationActor? initiator, string? rollbackOperationId, CancellationToken cancellationToken)
    {
        var original = await inventory.GetOperationAsync(operationId, cancellationToken).ConfigureAwait(false)
            ?? throw new SagaException("not_found", $"operation '{operationId}' does not exist; use the operation_id an execute tool returned");
        var runtimeId = original.RuntimeId
            ?? throw new SagaException("not_reversible", $"operation '{operationId}' ({original.Action}) targets no runtime; nothing to roll back");
        // A saga's steps do not change once it ended, so the runtimes it touched are known before locking them all.
        var runtimes = original.Action == ExecuteAction
            ? RuntimesOf(runtimeId, await store.GetStepsAsync(operationId, cancellationToken).ConfigureAwait(false))
            : [runtimeId];
        var holds = await lifecycle.HoldAllAsync(runtimes, cancellationToken).ConfigureAwait(false);
        var held = RuntimeLifecycle.Enter(holds);
        try
        {
            // Re-read under the lock: a concurrent rollback of the same operation must see the first one.
            original = (await inventory.GetOperationAsync(operationId, CancellationToken.None).ConfigureAwait(false))!;
            if (original.Status != OperationStatus.Succeeded)
            {
                throw new SagaException("invalid_state", original.Status switch
                {
                    OperationStatus.Failed when original.Action == ExecuteAction =>
                        $"operation '{operationId}' failed and its completed steps were already compensated; there is nothing to roll back",
                    OperationStatus.Stuck => $"operation '{operationId}' is stuck; follow the instructions in its error (get_operation) instead",
                    _ => $"operation '{operationId}' is {EnumText.Name(original.Status)}; only a succeeded operation can be rolled back",
                });
            }

            if (original.Result?["rolled_back_by"] is { } by)
            {
                throw new SagaException("invalid_state", $"operation '{operationId}' was already rolled back by operation {by}");
            }

            var compensations = await CompensationsOfAsync(original, cancellationToken).ConfigureAwait(false);
            var rollbackId = rollbackOperationId ?? ids.New("op");
            var steps = compensations.Select((c, i) => new SagaStep
            {
                Step = i + 1, ActionIndex = 0, Kind = "rollback", Command = c, Status = SagaStepStatus.Pending, UpdatedAt = time.GetUtcNow(),
            }).ToList();
            var operation = new Operation
            {
                OperationId = rollbackId,
                Status = OperationStatus.Running,
                RuntimeId = runtimeId,
                Action = RollbackAction,
                CreatedAt = time.GetUtcNow(),
                Progress = new OperationProgress(0, $"rolling back {operationId}"),
                Result = new JsonObject { ["rolls_back"] = operationId, ["executor_process"] = lifecycle.Coordinator.Executor() },
                Actor = initiator,
            };
            foreach (var id in runtimes)
            {
                _running[id] = new RunningSaga(rollbackId, initiator);
            }

            await store.SaveStepsAsync(rollbackId, steps, CancellationToken.None).ConfigureAwait(false);
            await inventory.SaveOperationAsync(operation, CancellationToken.None).ConfigureAwait(false);
            var marked = (original.Result?.DeepClone().AsObject()) ?? [];
            marked["rolled_back_by"] = rollbackId;
            await inventory.SaveOperationAsync(original with { Result = marked }, CancellationToken.None).ConfigureAwait(false);
            await EventAsync(runtimeId, "saga.rollback_started", EventSeverity.Info, actor, new JsonObject
            {
                ["operation_id"] = rollbackId, ["rolls_back"] = operationId, ["steps"] = Describe(steps),
            }).ConfigureAwait(false);

            for (var i = 0; i < steps.Count; i++)
            {
                var on = RuntimeOf(steps[i], runtimeId);
                var (ok, updated) = await CompensateWithRetriesAsync(rollbackId, on, steps[i], steps[i].Command, actor).ConfigureAwait(false);
                steps[i] = updated;
                if (!ok)
                {
                    var remaining = steps.Skip(i + 1).Select(s => s.Command).ToList();
                    var message = await StuckMessageAsync(runtimeId, rollbackId, steps[i], steps[i].Command, remaining, "rolling back " + operationId).ConfigureAwait(false);
                    operation = await EndAsync(operation, OperationStatus.Stuck, new OperationError("stuck", message), steps, actor).ConfigureAwait(false);
                    return new SagaOutcome(operation, steps, false);
                }
            }

            operation = await EndAsync(operation, OperationStatus.Succeeded, null, steps, actor).ConfigureAwait(false);
            return new SagaOutcome(operation, steps, false);
        }
        finally
        {
            foreach (var id in runtimes)
            {
                _running.TryRemove(id, out _);
            }

            held.Dispose();
            RuntimeLifecycle.Release(holds);
        }
    }

    /// <summary>The steps of a saga operation (empty when it is not one).</summary>
    public Task<IReadOnlyList<SagaStep>> GetStepsAsync(string operationId, CancellationToken cancellationToken) =>
        store.GetStepsAsync(operationId, cancellationToken);

    private async Task<SagaOutcome> ReplayAsync(string key, string operationId, CancellationToken cancellationToken)
    {
        if (_inflight.TryGetValue(operationId, out var running))
        {
            var first = await running.ConfigureAwait(false);
            return first with { Replayed = true };
        }

        var operation = await inventory.GetOperationAsync(operationId, cancellationToken).ConfigureAwait(false)
            ?? throw new SagaException("idempotency_conflict",
                $"idempotency_key '{key}' belongs to a request that never started (the server stopped first); use a new key");
        var steps = await store.GetStepsAsync(operationId, cancellationToken).ConfigureAwait(false);
        return new SagaOutcome(operation, steps, true);
    }

    private async Task<SagaOutcome> CompleteAsync(IdempotencyRecord? claim, Operation operation, List<SagaStep> steps)
    {
        if (claim is not null)
        {
            await idempotency.CompleteAsync(claim, JsonSerializer.Serialize(operation, CoreJsonContext.Default.Operation), CancellationToken.None).ConfigureAwait(false);
        }

        return new SagaOutcome(operation, steps, false);
    }
}
