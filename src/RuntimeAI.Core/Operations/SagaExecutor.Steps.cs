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

/// <summary>Running a saga: the durable plan, each step through the lifecycle engine, the end state, and the events it leaves.</summary>
public sealed partial class SagaExecutor
{
    private async Task<SagaOutcome> RunSagaAsync(
        string operationId, Runtime runtime, IReadOnlyList<SagaCommand> commands, string actor, IdempotencyRecord? claim, IProgress<OperationProgress>? progress,
        OperationActor? initiator = null)
    {
        // The mutation lock of every runtime the saga touches is held for the whole saga (taken in
        // ordinal order, so two sagas over the same runtimes cannot deadlock): no other saga and no
        // single lifecycle call on these runtimes runs between two steps.
        var steps = Plan(operationId, commands).Select(s => s with { UpdatedAt = time.GetUtcNow() }).ToList();
        var runtimes = RuntimesOf(runtime.Id, steps);
        var holds = await lifecycle.HoldAllAsync(runtimes, CancellationToken.None).ConfigureAwait(false);
        var held = RuntimeLifecycle.Enter(holds);
        try
        {
            var operation = new Operation
            {
                OperationId = operationId,
                Status = OperationStatus.Running,
                RuntimeId = runtime.Id,
                Action = ExecuteAction,
                CreatedAt = time.GetUtcNow(),
                Progress = new OperationProgress(0, $"{steps.Count} step(s) planned"),
                Result = new JsonObject { ["executor_process"] = lifecycle.Coordinator.Executor() },
                Actor = initiator,
            };
            if (runtimes.Count > 1)
            {
                operation.Result["runtimes"] = new JsonArray(runtimes.Select(r => (JsonNode)JsonValue.Create(r)).ToArray());
            }

            foreach (var id in runtimes)
            {
                _running[id] = new RunningSaga(operationId, initiator);
            }

            // Intents and compensations are durable before anything touches the runtime.
            await store.SaveStepsAsync(operationId, steps, CancellationToken.None).ConfigureAwait(false);
            await inventory.SaveOperationAsync(operation, CancellationToken.None).ConfigureAwait(false);
            foreach (var id in runtimes)
            {
                await EventAsync(id, "saga.started", EventSeverity.Info, actor, new JsonObject
                {
                    ["operation_id"] = operationId, ["steps"] = Describe(steps),
                }).ConfigureAwait(false);
            }

            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                var on = RuntimeOf(step, runtime.Id);
                if (step.Command.Type == SagaCommandType.Scale)
                {
                    // "Scale back to the recorded size": the size right before this step, not before the saga.
                    var current = await inventory.GetRuntimeAsync(on, CancellationToken.None).ConfigureAwait(false);
                    step = step with { Compensation = ScaleBackTo(current) is { } back ? back with { RuntimeId = step.Command.RuntimeId } : null };
                }

                step = step with { Status = SagaStepStatus.Running, UpdatedAt = time.GetUtcNow() };
                steps[i] = step;
                await store.SaveStepAsync(operationId, step, CancellationToken.None).ConfigureAwait(false);
                progress?.Report(new OperationProgress(5 + (90 * i / steps.Count), $"step {step.Step}/{steps.Count}: {step.Command.Describe()}"));

                Failpoints.Hit(Failpoints.StepBefore);
                var stepSpan = Telemetry.RuntimeAiTelemetry.Source.HasListeners()
                    ? Telemetry.RuntimeAiTelemetry.Source.StartActivity($"saga.step {EnumText.Name(step.Command.Type)}")
                    : null;
                stepSpan?.SetTag("runtimeai.saga.step", step.Step);
                stepSpan?.SetTag("runtimeai.operation_id", operationId);
                var (child, failure) = await RunCommandAsync(on, step.Command, actor).ConfigureAwait(false);
                stepSpan?.SetTag("runtimeai.outcome", failure is null ? "ok" : "failed");
                stepSpan?.SetStatus(failure is null ? System.Diagnostics.ActivityStatusCode.Ok : System.Diagnostics.ActivityStatusCode.Error);
                stepSpan?.Dispose();
                Failpoints.Hit(Failpoints.StepAfter);
                if (failure is null && step.Command.Type == SagaCommandType.Scale && child?.Result?["previous_size"] is JsonObject before)
                {
                    step = step with
                    {
                        Compensation = new SagaCommand
                        {
                            Type = SagaCommandType.Scale,
                            Vcpus = before["vcpus"]!.GetValue<int>(),
                            MemoryMiB = before["memory_mib"]!.GetValue<long>(),
                            RuntimeId = step.Command.RuntimeId,
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
                await EventAsync(on, failure is null ? "saga.step_succeeded" : "saga.step_failed",
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
                    await lifecycle.EnsureHeldAsync(runtime.Id, CancellationToken.None).ConfigureAwait(false);
                    operation = await EndAsync(operation, error.Code == "stuck" ? OperationStatus.Stuck : OperationStatus.Failed, error, steps, actor).ConfigureAwait(false);
                    return await CompleteAsync(claim, operation, steps).ConfigureAwait(false);
                }

                Failpoints.AfterDurableStep(step.Step);
            }

            // The end state is written by the replica that still holds the saga, never by one replaced meanwhile.
            foreach (var id in runtimes)
            {
                await lifecycle.EnsureHeldAsync(id, CancellationToken.None).ConfigureAwait(false);
            }

            operation = await EndAsync(operation, OperationStatus.Succeeded, null, steps, actor).ConfigureAwait(false);
            return await CompleteAsync(claim, operation, steps).ConfigureAwait(false);
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

    private async Task<(Operation? Child, string? Failure)> RunCommandAsync(string runtimeId, SagaCommand command, string actor)
    {
        // Fencing: a replica that lost its locks in the store may already be replaced by another
        // that settles this saga; running the step here too could run it twice. The exception
        // leaves the saga unfinished for the replica that takes it over.
        await lifecycle.EnsureHeldAsync(runtimeId, CancellationToken.None).ConfigureAwait(false);
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
                Initiator = _running.TryGetValue(runtimeId, out var saga) ? saga.Actor : null,
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

        foreach (var id in RuntimesOf(operation.RuntimeId!, steps))
        {
            await EventAsync(id, type, status switch
            {
                OperationStatus.Succeeded => EventSeverity.Info,
                OperationStatus.Stuck => EventSeverity.Critical,
                _ => EventSeverity.Warning,
            }, actor, data.DeepClone().AsObject()).ConfigureAwait(false);
        }
        if (status == OperationStatus.Stuck)
        {
            logger.LogError("Operation {Operation} is stuck: {Message}", operation.OperationId, error?.Message);
        }

        return done;
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
            if (s.Command.RuntimeId is not null)
            {
                node["runtime_id"] = s.Command.RuntimeId;
            }

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
        if (step.Command.RuntimeId is not null)
        {
            data["runtime_id"] = step.Command.RuntimeId;
        }

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

    // The saga running on the runtime (it holds the runtime's lock, so there is at most one) names
    // the operation and the principal behind every event it leaves.
    private Task EventAsync(string runtimeId, string type, EventSeverity severity, string actor, JsonObject data)
    {
        var saga = _running.TryGetValue(runtimeId, out var running) ? running : null;
        return inventory.AppendEventAsync(new RuntimeEvent
        {
            Id = ids.New("ev"),
            RuntimeId = runtimeId,
            Type = type,
            Severity = severity,
            Ts = time.GetUtcNow(),
            Actor = saga?.Actor?.Kind ?? actor,
            Principal = saga?.Actor?.Principal,
            OperationId = saga?.OperationId,
            Data = data,
        }, CancellationToken.None);
    }

    /// <summary>The saga (or rollback) that holds a runtime's lock right now.</summary>
    private sealed record RunningSaga(string OperationId, OperationActor? Actor);
}
