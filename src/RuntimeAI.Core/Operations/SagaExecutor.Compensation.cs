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

/// <summary>Undoing: compensations in reverse order, retries with backoff, stuck operations with a repair list, and what undoes a finished operation.</summary>
public sealed partial class SagaExecutor
{
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

            // Each step is undone on its own runtime (a saga may span several backends).
            var compensation = step.Compensation with { RuntimeId = step.Compensation.RuntimeId ?? step.Command.RuntimeId };
            var on = RuntimeOf(compensation, runtimeId);
            var (ok, updated) = await CompensateWithRetriesAsync(operationId, on, step, compensation, actor).ConfigureAwait(false);
            steps[index] = updated;
            if (!ok)
            {
                var remaining = toUndo.Skip(k + 1).Where(s => s.Compensation is not null)
                    .Select(s => s.Compensation! with { RuntimeId = s.Compensation!.RuntimeId ?? s.Command.RuntimeId }).ToList();
                var message = await StuckMessageAsync(runtimeId, operationId, updated, compensation, remaining, cause).ConfigureAwait(false);
                return new OperationError("stuck", message);
            }

            undone.Add(step.Step.ToString(CultureInfo.InvariantCulture));
        }

        return new OperationError("compensated",
            $"{cause}; " + (undone.Count == 0
                ? "no earlier step had changed anything."
                : $"completed steps {string.Join(", ", undone)} were compensated in reverse order, so " +
                  (RuntimesOf(runtimeId, steps).Count > 1 ? "every runtime it touched is" : "the runtime is") + " back where it was."));
    }

    private async Task<(bool Ok, SagaStep Step)> CompensateWithRetriesAsync(string operationId, string runtimeId, SagaStep step, SagaCommand compensation, string actor)
    {
        string? lastError = null;
        for (var attempt = 1; attempt <= 1 + CompensationRetries; attempt++)
        {
            Failpoints.Hit(Failpoints.CompensationBefore);
            var (child, failure) = await RunCompensationAsync(runtimeId, compensation, actor).ConfigureAwait(false);
            if (failure is null)
            {
                Failpoints.Hit(Failpoints.CompensationAfter);
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

    /// <summary>
    /// Runs a compensation, first checking whether the runtime is already where the compensation
    /// would bring it (a step interrupted by a crash may never have happened).
    /// </summary>
    private async Task<(Operation? Child, string? Failure)> RunCompensationAsync(string runtimeId, SagaCommand compensation, string actor)
    {
        try
        {
            var (runtime, observation, _) = await lifecycle.ObserveAsync(runtimeId, CancellationToken.None).ConfigureAwait(false);
            if (Failpoints.FailCompensationFor(runtime.Name))
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
                .Reverse().Select(s => s.Compensation! with { RuntimeId = s.Compensation.RuntimeId ?? s.Command.RuntimeId }).ToList();
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

    private async Task<string> StuckMessageAsync(string runtimeId, string operationId, SagaStep failedStep, SagaCommand compensation, IReadOnlyList<SagaCommand> remaining, string cause)
    {
        var runtime = await inventory.GetRuntimeAsync(RuntimeOf(compensation, runtimeId), CancellationToken.None).ConfigureAwait(false);
        var who = runtime is null ? RuntimeOf(compensation, runtimeId) : $"{runtime.Name} ({runtime.Id})";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"STUCK — a human must act. {cause}. Undoing step {failedStep.Step} ({failedStep.Command.Describe()}) by {compensation.Describe()} failed {1 + CompensationRetries} times: {failedStep.Error ?? "unknown error"}. ");
        text.Append(CultureInfo.InvariantCulture, $"Runtime {who} is NOT back to its state before operation {operationId}. To repair it: 1) check it with get_runtime_status and list_snapshots; 2) {Manual(RuntimeOf(compensation, runtimeId), compensation)}");
        for (var i = 0; i < remaining.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {i + 3}) {Manual(RuntimeOf(remaining[i], runtimeId), remaining[i])}");
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
}
