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
public sealed class SagaExecutor(
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

    /// <summary>The name of the automatic snapshot taken before action <paramref name="actionIndex"/>.</summary>
    public static string AutoSnapshotName(string operationId, int actionIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"auto-before-{operationId}-{actionIndex}");

    /// <summary>
    /// Turns the caller's actions into commands; throws <see cref="SagaException"/> (invalid_action)
    /// listing every problem, not only the first.
    /// </summary>
    public static IReadOnlyList<SagaCommand> ToCommands(IReadOnlyList<RuntimeAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var errors = new List<string>();
        var commands = new List<SagaCommand>();
        if (actions.Count is 0 or > MaxActions)
        {
            errors.Add($"actions must hold 1 to {MaxActions} items (got {actions.Count})");
        }

        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            var p = action.Params ?? [];
            var where = $"actions[{i}] ({EnumText.Name(action.Type)})";
            switch (action.Type)
            {
                case ActionType.Start:
                    commands.Add(new SagaCommand { Type = SagaCommandType.Start });
                    break;
                case ActionType.Stop:
                    commands.Add(new SagaCommand { Type = SagaCommandType.Stop, Force = Bool(p, "force") });
                    break;
                case ActionType.Restart:
                    commands.Add(new SagaCommand { Type = SagaCommandType.Restart });
                    break;
                case ActionType.Scale:
                    var size = Text(p, "size");
                    var vcpus = Long(p, "vcpus");
                    var memory = Long(p, "memory_mib");
                    if (size is null && vcpus is null && memory is null)
                    {
                        errors.Add($"{where}: params needs size, vcpus or memory_mib");
                    }
                    else if (size is not null && !SizeTable.TryGet(size, out _))
                    {
                        errors.Add($"{where}: size '{size}' is not one of {string.Join(", ", SizeTable.Names)}");
                    }

                    commands.Add(new SagaCommand { Type = SagaCommandType.Scale, Size = size, Vcpus = (int?)vcpus, MemoryMiB = memory });
                    break;
                case ActionType.Snapshot:
                    var name = Text(p, "name");
                    if (name is null)
                    {
                        errors.Add($"{where}: params.name is required");
                    }
                    else if (name.StartsWith("auto-before-", StringComparison.Ordinal))
                    {
                        errors.Add($"{where}: snapshot names starting with 'auto-before-' are reserved for the executor's automatic snapshots");
                    }

                    commands.Add(new SagaCommand { Type = SagaCommandType.Snapshot, Snapshot = name });
                    break;
                case ActionType.Restore:
                    var snapshot = Text(p, "snapshot");
                    if (snapshot is null)
                    {
                        errors.Add($"{where}: params.snapshot is required");
                    }

                    commands.Add(new SagaCommand { Type = SagaCommandType.Restore, Snapshot = snapshot });
                    break;
                default:
                    errors.Add($"{where}: only start, stop, restart, scale, snapshot and restore can run in a saga");
                    break;
            }
        }

        if (errors.Count > 0)
        {
            throw new SagaException("invalid_action", string.Join("; ", errors));
        }

        return commands;
    }

    /// <summary>SHA-256 of the canonical payload (runtime id and normalized commands), hex.</summary>
    public static string PayloadDigest(string runtimeId, IReadOnlyList<SagaCommand> commands)
    {
        var canonical = runtimeId + "\n" + JsonSerializer.Serialize(commands.ToList(), SagaJsonContext.Default.ListSagaCommand);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>The steps a saga of <paramref name="commands"/> would run, with their compensations.</summary>
    public static IReadOnlyList<SagaStep> Plan(string operationId, IReadOnlyList<SagaCommand> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var steps = new List<SagaStep>();
        for (var i = 0; i < commands.Count; i++)
        {
            var command = commands[i];
            var actionIndex = i + 1;
            string? auto = null;
            if (command.Type is SagaCommandType.Stop or SagaCommandType.Restart or SagaCommandType.Restore)
            {
                auto = AutoSnapshotName(operationId, actionIndex);
                steps.Add(new SagaStep
                {
                    Step = steps.Count + 1,
                    ActionIndex = actionIndex,
                    Kind = "auto_snapshot",
                    Command = new SagaCommand { Type = SagaCommandType.Snapshot, Snapshot = auto },
                    Compensation = new SagaCommand { Type = SagaCommandType.DeleteSnapshot, Snapshot = auto },
                    Status = SagaStepStatus.Pending,
                });
            }

            steps.Add(new SagaStep
            {
                Step = steps.Count + 1,
                ActionIndex = actionIndex,
                Kind = "action",
                Command = command,
                Compensation = command.Type switch
                {
                    SagaCommandType.Start => new SagaCommand { Type = SagaCommandType.Stop, Force = true },
                    // start is lossless; the automatic snapshot stays the fallback a human can restore.
                    SagaCommandType.Stop => new SagaCommand { Type = SagaCommandType.Start },
                    SagaCommandType.Restart or SagaCommandType.Restore => new SagaCommand { Type = SagaCommandType.Restore, Snapshot = auto },
                    SagaCommandType.Snapshot => new SagaCommand { Type = SagaCommandType.DeleteSnapshot, Snapshot = command.Snapshot },
                    // The exact size is read just before the step runs (see ExecuteStepsAsync).
                    SagaCommandType.Scale => null,
                    _ => null,
                },
                Status = SagaStepStatus.Pending,
            });
        }

        return steps;
    }

    /// <summary>
    /// Runs <paramref name="request"/> as one saga operation. A repeated idempotency key with the
    /// same payload returns the first operation (<see cref="SagaOutcome.Replayed"/>); with another
    /// payload it throws <see cref="SagaException"/> (idempotency_conflict). Once started, the saga
    /// runs to an end state even if the caller goes away: a half-done saga is worse than a late answer.
    /// </summary>
    public async Task<SagaOutcome> ExecuteAsync(SagaRequest request, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var commands = ToCommands(request.Actions);
        var runtime = await inventory.GetRuntimeAsync(request.RuntimeId, cancellationToken).ConfigureAwait(false)
            ?? throw new LifecycleException("not_found", $"runtime '{request.RuntimeId}' does not exist; call list_runtimes to find a valid runtime_id");
        if (runtime.State == RuntimeState.Deleted)
        {
            throw new LifecycleException("invalid_state", $"runtime '{runtime.Id}' ({runtime.Name}) was deleted; nothing can be done to it");
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

        var run = RunSagaAsync(operationId, runtime, commands, request.Initiator?.Kind ?? request.Actor, claim, progress, request.Initiator);
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
        var hold = await lifecycle.HoldAsync(runtimeId, cancellationToken).ConfigureAwait(false);
        var held = RuntimeLifecycle.Enter(hold);
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
                Result = new JsonObject { ["rolls_back"] = operationId, ["executor_process"] = SagaProcess.Current() },
                Actor = initiator,
            };
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
                var (ok, updated) = await CompensateWithRetriesAsync(rollbackId, runtimeId, steps[i], steps[i].Command, actor).ConfigureAwait(false);
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
            held.Dispose();
            hold.Dispose();
        }
    }

    /// <summary>
    /// Settles saga operations a previous process left running: completed (and possibly started)
    /// steps are compensated in reverse — never resumed, because the caller who asked has gone and
    /// the world may have moved on since. Returns how many operations were settled.
    /// </summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var settled = 0;
        var unfinished = await inventory.ListUnfinishedOperationsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var operation in unfinished.Where(o => o.Action is ExecuteAction or RollbackAction && o.RuntimeId is not null))
        {
            // Another live process (a server, or a `runtimeai call` on the same data dir) may be
            // running this saga right now: only settle what a dead process left behind.
            if (SagaProcess.IsAlive(operation.Result?["executor_process"]))
            {
                logger.LogInformation("Saga {Operation} is running in another live process; not touching it", operation.OperationId);
                continue;
            }

            try
            {
                await RecoverOneAsync(operation, cancellationToken).ConfigureAwait(false);
                settled++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Could not settle interrupted saga {Operation}", operation.OperationId);
            }
        }

        return settled;
    }

    /// <summary>The steps of a saga operation (empty when it is not one).</summary>
    public Task<IReadOnlyList<SagaStep>> GetStepsAsync(string operationId, CancellationToken cancellationToken) =>
        store.GetStepsAsync(operationId, cancellationToken);

    private async Task RecoverOneAsync(Operation operation, CancellationToken cancellationToken)
    {
        var runtimeId = operation.RuntimeId!;
        var hold = await lifecycle.HoldAsync(runtimeId, cancellationToken).ConfigureAwait(false);
        var held = RuntimeLifecycle.Enter(hold);
        try
        {
            var steps = (await store.GetStepsAsync(operation.OperationId, cancellationToken).ConfigureAwait(false)).ToList();
            await EventAsync(runtimeId, "saga.recovery_started", EventSeverity.Warning, "system", new JsonObject
            {
                ["operation_id"] = operation.OperationId,
                ["action"] = operation.Action,
                ["reason"] = "the server stopped while this operation was running",
            }).ConfigureAwait(false);

            if (operation.Action == RollbackAction)
            {
                // A rollback has no compensation of its own: finishing it blindly could undo newer
                // changes, so a human decides.
                var remaining = steps.Where(s => s.Status is SagaStepStatus.Pending or SagaStepStatus.Running).Select(s => s.Command).ToList();
                var message = $"the server stopped while rolling back ({operation.Result?["rolls_back"]}); " +
                              (remaining.Count == 0
                                  ? "every rollback step had finished; check the runtime with get_runtime_status and then consider it rolled back."
                                  : $"check the runtime with get_runtime_status, then do by hand what is still missing, in this order: {string.Join("; ", remaining.Select(c => Manual(runtimeId, c)))}.");
                await EndAsync(operation, OperationStatus.Stuck, new OperationError("stuck", message), steps, "system").ConfigureAwait(false);
                return;
            }

            for (var i = 0; i < steps.Count; i++)
            {
                if (steps[i].Status == SagaStepStatus.Pending)
                {
                    steps[i] = steps[i] with { Status = SagaStepStatus.NotRun, UpdatedAt = time.GetUtcNow() };
                    await store.SaveStepAsync(operation.OperationId, steps[i], CancellationToken.None).ConfigureAwait(false);
                }
            }

            var running = steps.FirstOrDefault(s => s.Status == SagaStepStatus.Running);
            var lastDone = steps.LastOrDefault(s => s.Status == SagaStepStatus.Succeeded)?.Step ?? 0;
            var cause = running is not null
                ? $"the server stopped during step {running.Step} of {steps.Count} ({running.Command.Describe()}; it may or may not have happened)"
                : $"the server stopped after step {lastDone} of {steps.Count} had finished";
            var error = await CompensateAsync(operation.OperationId, runtimeId, steps, "system", cause).ConfigureAwait(false);
            await EndAsync(operation, error.Code == "stuck" ? OperationStatus.Stuck : OperationStatus.Failed, error, steps, "system").ConfigureAwait(false);
        }
        finally
        {
            held.Dispose();
            hold.Dispose();
        }
    }

    private async Task<SagaOutcome> RunSagaAsync(
        string operationId, Runtime runtime, IReadOnlyList<SagaCommand> commands, string actor, IdempotencyRecord? claim, IProgress<OperationProgress>? progress,
        OperationActor? initiator = null)
    {
        // The runtime's mutation lock is held for the whole saga: no other saga and no single
        // lifecycle call on this runtime runs between two steps.
        var hold = await lifecycle.HoldAsync(runtime.Id, CancellationToken.None).ConfigureAwait(false);
        var held = RuntimeLifecycle.Enter(hold);
        try
        {
            var steps = Plan(operationId, commands).Select(s => s with { UpdatedAt = time.GetUtcNow() }).ToList();
            var operation = new Operation
            {
                OperationId = operationId,
                Status = OperationStatus.Running,
                RuntimeId = runtime.Id,
                Action = ExecuteAction,
                CreatedAt = time.GetUtcNow(),
                Progress = new OperationProgress(0, $"{steps.Count} step(s) planned"),
                Result = new JsonObject { ["executor_process"] = SagaProcess.Current() },
                Actor = initiator,
            };

            // Intents and compensations are durable before anything touches the runtime.
            await store.SaveStepsAsync(operationId, steps, CancellationToken.None).ConfigureAwait(false);
            await inventory.SaveOperationAsync(operation, CancellationToken.None).ConfigureAwait(false);
            await EventAsync(runtime.Id, "saga.started", EventSeverity.Info, actor, new JsonObject
            {
                ["operation_id"] = operationId, ["steps"] = Describe(steps),
            }).ConfigureAwait(false);

            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                if (step.Command.Type == SagaCommandType.Scale)
                {
                    // "Scale back to the recorded size": the size right before this step, not before the saga.
                    var current = await inventory.GetRuntimeAsync(runtime.Id, CancellationToken.None).ConfigureAwait(false);
                    step = step with { Compensation = ScaleBackTo(current) };
                }

                step = step with { Status = SagaStepStatus.Running, UpdatedAt = time.GetUtcNow() };
                steps[i] = step;
                await store.SaveStepAsync(operationId, step, CancellationToken.None).ConfigureAwait(false);
                progress?.Report(new OperationProgress(5 + (90 * i / steps.Count), $"step {step.Step}/{steps.Count}: {step.Command.Describe()}"));

                var (child, failure) = await RunCommandAsync(runtime.Id, step.Command, actor).ConfigureAwait(false);
                if (failure is null && step.Command.Type == SagaCommandType.Scale && child?.Result?["previous_size"] is JsonObject before)
                {
                    step = step with
                    {
                        Compensation = new SagaCommand
                        {
                            Type = SagaCommandType.Scale,
                            Vcpus = before["vcpus"]!.GetValue<int>(),
                            MemoryMiB = before["memory_mib"]!.GetValue<long>(),
                        },
                    };
                }

                step = step with
                {
                    Status = failure is null ? SagaStepStatus.Succeeded : SagaStepStatus.Failed,
                    OperationId = child?.OperationId,
                    Error = failure,
                    UpdatedAt = time.GetUtcNow(),
                };
                steps[i] = step;
                await store.SaveStepAsync(operationId, step, CancellationToken.None).ConfigureAwait(false);
                await EventAsync(runtime.Id, failure is null ? "saga.step_succeeded" : "saga.step_failed",
                    failure is null ? EventSeverity.Info : EventSeverity.Warning, actor, StepEvent(operationId, step)).ConfigureAwait(false);

                if (failure is not null)
                {
                    for (var j = i + 1; j < steps.Count; j++)
                    {
                        steps[j] = steps[j] with { Status = SagaStepStatus.NotRun, UpdatedAt = time.GetUtcNow() };
                    }

                    await store.SaveStepsAsync(operationId, steps.Skip(i + 1).ToList(), CancellationToken.None).ConfigureAwait(false);
                    var error = await CompensateAsync(operationId, runtime.Id, steps, actor,
                        $"step {step.Step} ({step.Command.Describe()}) failed: {failure}").ConfigureAwait(false);
                    operation = await EndAsync(operation, error.Code == "stuck" ? OperationStatus.Stuck : OperationStatus.Failed, error, steps, actor).ConfigureAwait(false);
                    return await CompleteAsync(claim, operation, steps).ConfigureAwait(false);
                }

                SagaTestHooks.AfterDurableStep(step.Step);
            }

            operation = await EndAsync(operation, OperationStatus.Succeeded, null, steps, actor).ConfigureAwait(false);
            return await CompleteAsync(claim, operation, steps).ConfigureAwait(false);
        }
        finally
        {
            held.Dispose();
            hold.Dispose();
        }
    }

    /// <summary>
    /// Compensates, in reverse, every step that succeeded or may have run. Stops at the first
    /// compensation that fails after its retries: undoing anything older could destroy what a human
    /// needs to repair it (e.g. the automatic snapshot). Returns the operation's error.
    /// </summary>
    private async Task<OperationError> CompensateAsync(string operationId, string runtimeId, List<SagaStep> steps, string actor, string cause)
    {
        var toUndo = steps.Where(s => s.Status is SagaStepStatus.Succeeded or SagaStepStatus.Running).Reverse().ToList();
        var undone = new List<string>();
        for (var k = 0; k < toUndo.Count; k++)
        {
            var step = toUndo[k];
            var index = steps.FindIndex(s => s.Step == step.Step);
            if (step.Compensation is null)
            {
                // A scale interrupted before its size was read: nothing changed yet.
                steps[index] = step with { Status = SagaStepStatus.Compensated, UpdatedAt = time.GetUtcNow() };
                await store.SaveStepAsync(operationId, steps[index], CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            var (ok, updated) = await CompensateWithRetriesAsync(operationId, runtimeId, step, step.Compensation, actor).ConfigureAwait(false);
            steps[index] = updated;
            if (!ok)
            {
                var remaining = toUndo.Skip(k + 1).Where(s => s.Compensation is not null).Select(s => s.Compensation!).ToList();
                var message = await StuckMessageAsync(runtimeId, operationId, updated, step.Compensation, remaining, cause).ConfigureAwait(false);
                return new OperationError("stuck", message);
            }

            undone.Add(step.Step.ToString(CultureInfo.InvariantCulture));
        }

        return new OperationError("compensated",
            $"{cause}; " + (undone.Count == 0
                ? "no earlier step had changed anything."
                : $"completed steps {string.Join(", ", undone)} were compensated in reverse order, so the runtime is back where it was."));
    }

    private async Task<(bool Ok, SagaStep Step)> CompensateWithRetriesAsync(string operationId, string runtimeId, SagaStep step, SagaCommand compensation, string actor)
    {
        string? lastError = null;
        for (var attempt = 1; attempt <= 1 + CompensationRetries; attempt++)
        {
            var (child, failure) = await RunCompensationAsync(runtimeId, compensation, actor).ConfigureAwait(false);
            if (failure is null)
            {
                var done = step with
                {
                    Status = step.Kind == "rollback" ? SagaStepStatus.Succeeded : SagaStepStatus.Compensated,
                    CompensationOperationId = child?.OperationId,
                    UpdatedAt = time.GetUtcNow(),
                };
                await store.SaveStepAsync(operationId, done, CancellationToken.None).ConfigureAwait(false);
                await EventAsync(runtimeId, step.Kind == "rollback" ? "saga.rollback_step_succeeded" : "saga.compensated", EventSeverity.Info, actor,
                    StepEvent(operationId, done, compensation)).ConfigureAwait(false);
                return (true, done);
            }

            lastError = failure;
            if (attempt <= CompensationRetries)
            {
                var delay = s_firstRetryDelay * Math.Pow(2, attempt - 1);
                var retry = StepEvent(operationId, step, compensation);
                retry["attempt"] = attempt;
                retry["error"] = failure;
                retry["retry_in_seconds"] = delay.TotalSeconds;
                await EventAsync(runtimeId, "saga.compensation_retry", EventSeverity.Warning, actor, retry).ConfigureAwait(false);
                await Task.Delay(delay, time, CancellationToken.None).ConfigureAwait(false);
            }
        }

        var failed = step with
        {
            Status = SagaStepStatus.CompensationFailed,
            Error = $"{compensation.Describe()} failed {1 + CompensationRetries} times: {lastError}",
            UpdatedAt = time.GetUtcNow(),
        };
        await store.SaveStepAsync(operationId, failed, CancellationToken.None).ConfigureAwait(false);
        var data = StepEvent(operationId, failed, compensation);
        await EventAsync(runtimeId, "saga.compensation_failed", EventSeverity.Critical, actor, data).ConfigureAwait(false);
        return (false, failed);
    }

    private async Task<(Operation? Child, string? Failure)> RunCommandAsync(string runtimeId, SagaCommand command, string actor)
    {
        try
        {
            if (command.Type == SagaCommandType.DeleteSnapshot)
            {
                await lifecycle.DeleteSnapshotAsync(runtimeId, command.Snapshot!, actor, CancellationToken.None).ConfigureAwait(false);
                return (null, null);
            }

            var request = new LifecycleRequest
            {
                RuntimeId = runtimeId,
                Actor = actor,
                Action = command.Type switch
                {
                    SagaCommandType.Start => ActionType.Start,
                    SagaCommandType.Stop => ActionType.Stop,
                    SagaCommandType.Restart => ActionType.Restart,
                    SagaCommandType.Scale => ActionType.Scale,
                    SagaCommandType.Snapshot => ActionType.Snapshot,
                    _ => ActionType.Restore,
                },
                Stop = command.Type == SagaCommandType.Stop ? new StopOptions(command.Force == true, TimeSpan.FromSeconds(30)) : null,
                Size = command.Size,
                Vcpus = command.Vcpus,
                MemoryMiB = command.MemoryMiB,
                SnapshotName = command.Snapshot,
                SnapshotDescription = command.Type == SagaCommandType.Snapshot ? "taken by execute_actions" : null,
            };
            var (child, _) = await lifecycle.RunAsync(request, null, CancellationToken.None).ConfigureAwait(false);
            return child.Status == OperationStatus.Succeeded
                ? (child, null)
                : (child, child.Error?.Message ?? EnumText.Name(child.Status));
        }
        catch (Exception ex) when (ex is LifecycleException or RuntimeDriverException)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>
    /// Runs a compensation, first checking whether the runtime is already where the compensation
    /// would bring it (a step interrupted by a crash may never have happened).
    /// </summary>
    private async Task<(Operation? Child, string? Failure)> RunCompensationAsync(string runtimeId, SagaCommand compensation, string actor)
    {
        try
        {
            var (runtime, observation, _) = await lifecycle.ObserveAsync(runtimeId, CancellationToken.None).ConfigureAwait(false);
            if (SagaTestHooks.FailCompensationFor(runtime.Name))
            {
                return (null, $"test hook RUNTIMEAI_TEST_FAIL_COMPENSATION made this compensation fail for runtime '{runtime.Name}'");
            }

            switch (compensation.Type)
            {
                case SagaCommandType.Start when observation.State == RuntimeState.Running:
                case SagaCommandType.Stop when observation.State == RuntimeState.Stopped:
                    return (null, null);
                case SagaCommandType.DeleteSnapshot:
                    var snapshots = await lifecycle.ListSnapshotsAsync(runtimeId, CancellationToken.None).ConfigureAwait(false);
                    if (!snapshots.Any(s => s.Name == compensation.Snapshot))
                    {
                        return (null, null);
                    }

                    break;
            }
        }
        catch (Exception ex) when (ex is LifecycleException or RuntimeDriverException)
        {
            return (null, ex.Message);
        }

        return await RunCommandAsync(runtimeId, compensation, actor).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<SagaCommand>> CompensationsOfAsync(Operation original, CancellationToken cancellationToken)
    {
        if (original.Action == ExecuteAction)
        {
            var steps = await store.GetStepsAsync(original.OperationId, cancellationToken).ConfigureAwait(false);
            return steps.Where(s => s.Status == SagaStepStatus.Succeeded && s.Compensation is not null)
                .Reverse().Select(s => s.Compensation!).ToList();
        }

        var result = original.Result ?? [];
        var previousState = result["previous_state"]?.GetValue<string>();
        SagaCommand? undo = original.Action switch
        {
            "start" when previousState == "stopped" => new SagaCommand { Type = SagaCommandType.Stop, Force = true },
            "stop" when previousState == "running" => new SagaCommand { Type = SagaCommandType.Start },
            "scale" when result["previous_size"] is JsonObject size => new SagaCommand
            {
                Type = SagaCommandType.Scale, Vcpus = size["vcpus"]!.GetValue<int>(), MemoryMiB = size["memory_mib"]!.GetValue<long>(),
            },
            "snapshot" when result["snapshot"]?.GetValue<string>() is { } name => new SagaCommand { Type = SagaCommandType.DeleteSnapshot, Snapshot = name },
            _ => null,
        };
        return undo is null
            ? throw new SagaException("not_reversible",
                $"operation '{original.OperationId}' ({original.Action}) did not record what would undo it " +
                "(only start, stop, scale and snapshot operations and execute_actions sagas can be rolled back; a restore or restart " +
                "can be undone only when it ran inside execute_actions, which snapshots first)")
            : [undo];
    }

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

    private async Task<Operation> EndAsync(Operation operation, OperationStatus status, OperationError? error, List<SagaStep> steps, string actor)
    {
        var result = operation.Result?.DeepClone().AsObject() ?? [];
        result["steps"] = Describe(steps);
        var autos = steps.Where(s => s.Kind == "auto_snapshot" && s.Status == SagaStepStatus.Succeeded).Select(s => s.Command.Snapshot!).ToList();
        if (autos.Count > 0)
        {
            result["auto_snapshots"] = new JsonArray(autos.Select(a => (JsonNode)JsonValue.Create(a)).ToArray());
        }

        var done = operation with
        {
            Status = status,
            FinishedAt = time.GetUtcNow(),
            Progress = new OperationProgress(100, EnumText.Name(status)),
            Error = error,
            Result = result,
        };
        await inventory.SaveOperationAsync(done, CancellationToken.None).ConfigureAwait(false);
        var type = (operation.Action == RollbackAction ? "saga.rollback_" : "saga.") + EnumText.Name(status);
        var data = new JsonObject { ["operation_id"] = operation.OperationId };
        if (error is not null)
        {
            data["error"] = error.Message;
        }

        await EventAsync(operation.RuntimeId!, type, status switch
        {
            OperationStatus.Succeeded => EventSeverity.Info,
            OperationStatus.Stuck => EventSeverity.Critical,
            _ => EventSeverity.Warning,
        }, actor, data).ConfigureAwait(false);
        if (status == OperationStatus.Stuck)
        {
            logger.LogError("Operation {Operation} is stuck: {Message}", operation.OperationId, error?.Message);
        }

        return done;
    }

    private async Task<string> StuckMessageAsync(string runtimeId, string operationId, SagaStep failedStep, SagaCommand compensation, IReadOnlyList<SagaCommand> remaining, string cause)
    {
        var runtime = await inventory.GetRuntimeAsync(runtimeId, CancellationToken.None).ConfigureAwait(false);
        var who = runtime is null ? runtimeId : $"{runtime.Name} ({runtimeId})";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"STUCK — a human must act. {cause}. Undoing step {failedStep.Step} ({failedStep.Command.Describe()}) by {compensation.Describe()} failed {1 + CompensationRetries} times: {failedStep.Error ?? "unknown error"}. ");
        text.Append(CultureInfo.InvariantCulture, $"Runtime {who} is NOT back to its state before operation {operationId}. To repair it: 1) check it with get_runtime_status and list_snapshots; 2) {Manual(runtimeId, compensation)}");
        for (var i = 0; i < remaining.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {i + 3}) {Manual(runtimeId, remaining[i])}");
        }

        text.Append(". Nothing further was undone automatically, so no snapshot you may need was deleted.");
        if (failedStep.Kind == "action" && failedStep.Command.Type == SagaCommandType.Stop
            && AutoSnapshotName(operationId, failedStep.ActionIndex) is { } auto)
        {
            text.Append(CultureInfo.InvariantCulture, $" If it will not start, restore_snapshot '{auto}' returns it to the moment before the stop.");
        }

        return text.ToString();
    }

    private static string Manual(string runtimeId, SagaCommand command) => command.Type switch
    {
        SagaCommandType.Start => $"start it: start_runtime runtime_id={runtimeId}",
        SagaCommandType.Stop => $"stop it: stop_runtime runtime_id={runtimeId} force=true",
        SagaCommandType.Scale => $"scale it back: scale_runtime runtime_id={runtimeId} vcpus={command.Vcpus} memory_mib={command.MemoryMiB}",
        SagaCommandType.Restore => $"restore it: restore_snapshot runtime_id={runtimeId} snapshot={command.Snapshot}",
        SagaCommandType.DeleteSnapshot => $"delete snapshot '{command.Snapshot}' on the backend (e.g. virsh snapshot-delete) once the runtime is healthy",
        _ => command.Describe(),
    };

    private static SagaCommand? ScaleBackTo(Runtime? runtime)
    {
        var cpu = runtime?.Spec.Resources?.Cpu;
        return cpu is not null && Quantity.TryParseMiB(runtime!.Spec.Resources?.Memory, out var memory)
            ? new SagaCommand { Type = SagaCommandType.Scale, Vcpus = (int)cpu, MemoryMiB = memory }
            : null;
    }


    private static JsonArray Describe(IEnumerable<SagaStep> steps) =>
        new(steps.Select(s =>
        {
            var node = new JsonObject
            {
                ["step"] = s.Step,
                ["kind"] = s.Kind,
                ["action"] = s.Command.Describe(),
                ["status"] = SagaJson.Name(s.Status),
            };
            if (s.Compensation is not null)
            {
                node["compensation"] = s.Compensation.Describe();
            }

            if (s.OperationId is not null)
            {
                node["operation_id"] = s.OperationId;
            }

            if (s.Error is not null)
            {
                node["error"] = s.Error;
            }

            return (JsonNode)node;
        }).ToArray());

    private static JsonObject StepEvent(string operationId, SagaStep step, SagaCommand? compensation = null)
    {
        var data = new JsonObject
        {
            ["operation_id"] = operationId,
            ["step"] = step.Step,
            ["kind"] = step.Kind,
            ["action"] = step.Command.Describe(),
            ["status"] = SagaJson.Name(step.Status),
        };
        if ((compensation ?? step.Compensation) is { } c)
        {
            data["compensation"] = c.Describe();
        }

        if (step.Error is not null)
        {
            data["error"] = step.Error;
        }

        return data;
    }

    private Task EventAsync(string runtimeId, string type, EventSeverity severity, string actor, JsonObject data) =>
        inventory.AppendEventAsync(new RuntimeEvent
        {
            Id = ids.New("ev"),
            RuntimeId = runtimeId,
            Type = type,
            Severity = severity,
            Ts = time.GetUtcNow(),
            Actor = actor,
            Data = data,
        }, CancellationToken.None);

    private static string? Text(JsonObject p, string name) =>
        p[name] is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s : null;

    private static long? Long(JsonObject p, string name) =>
        p[name] is JsonValue v && v.TryGetValue<double>(out var d) ? (long)d : null;

    private static bool? Bool(JsonObject p, string name) =>
        p[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
}
