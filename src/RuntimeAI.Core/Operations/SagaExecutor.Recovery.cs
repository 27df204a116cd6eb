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

/// <summary>Crash safety: settle the sagas a dead process left running (compensate, never resume).</summary>
public sealed partial class SagaExecutor
{
    // Sagas of other machines already logged as left alone (the loop of a shared store asks every few seconds).
    private readonly ConcurrentDictionary<string, byte> _unknownLogged = new(StringComparer.Ordinal);

    /// <summary>
    /// Settles saga operations a dead process left running: completed (and possibly started)
    /// steps are compensated in reverse — never resumed, because the caller who asked has gone and
    /// the world may have moved on since. Runs at start and, when replicas share the store, again
    /// and again on every replica, so the sagas of a replica that died are taken over by another.
    /// Returns how many operations this call settled.
    /// </summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var coordinator = lifecycle.Coordinator;
        if (coordinator.Fenced is not null)
        {
            return 0;
        }

        var settled = 0;
        var unfinished = await inventory.ListUnfinishedOperationsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var operation in unfinished.Where(o => o.Action is ExecuteAction or RollbackAction && o.RuntimeId is not null))
        {
            var executor = operation.Result?["executor_process"];
            switch (await coordinator.ProbeAsync(executor, cancellationToken).ConfigureAwait(false))
            {
                case ExecutorLiveness.Alive:
                    // This replica or another live one runs it right now (a server, or a
                    // `runtimeai call` on the same data dir): only settle what a dead one left behind.
                    continue;
                case ExecutorLiveness.Unknown:
                    // Run on another machine by a server too old to record a replica id: whether it
                    // lives cannot be seen from here, and compensating a saga that still runs would
                    // undo it under its owner. docs/scale-out.md says so.
                    if (!coordinator.Shared || _unknownLogged.TryAdd(operation.OperationId, 0))
                    {
                        logger.LogWarning("Saga {Operation} was run on host {Host}, whose processes this server cannot see; not settling it",
                            operation.OperationId, InProcessReplicaCoordinator.OtherHost(executor));
                    }

                    continue;
            }

            try
            {
                if (await RecoverOneAsync(operation, cancellationToken).ConfigureAwait(false))
                {
                    settled++;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Could not settle interrupted saga {Operation}", operation.OperationId);
            }
        }

        return settled;
    }

    private async Task<bool> RecoverOneAsync(Operation operation, CancellationToken cancellationToken)
    {
        var runtimeId = operation.RuntimeId!;
        var steps = (await store.GetStepsAsync(operation.OperationId, cancellationToken).ConfigureAwait(false)).ToList();
        var runtimes = RuntimesOf(runtimeId, steps);
        // The claim: the runtimes' locks, which the dead executor held for the whole saga and lost
        // with its connection. Of several replicas claiming at once, one gets them; the others get
        // them after it settled the saga, re-read it, and leave it.
        var holds = await lifecycle.HoldAllAsync(runtimes, cancellationToken).ConfigureAwait(false);
        var held = RuntimeLifecycle.Enter(holds);
        try
        {
            var current = await inventory.GetOperationAsync(operation.OperationId, cancellationToken).ConfigureAwait(false);
            if (current is null || current.Status != OperationStatus.Running
                || !JsonNode.DeepEquals(current.Result?["executor_process"], operation.Result?["executor_process"]))
            {
                return false;
            }

            operation = current;
            steps = (await store.GetStepsAsync(operation.OperationId, cancellationToken).ConfigureAwait(false)).ToList();
            var result = operation.Result?.DeepClone().AsObject() ?? [];
            result["settled_by"] = lifecycle.Coordinator.Executor();
            operation = operation with { Result = result };
            logger.LogWarning("Settling saga operation {Operation}: the process that ran it is gone", operation.OperationId);
            foreach (var id in runtimes)
            {
                await EventAsync(id, "saga.recovery_started", EventSeverity.Warning, "system", new JsonObject
                {
                    ["operation_id"] = operation.OperationId,
                    ["action"] = operation.Action,
                    ["reason"] = "the server stopped while this operation was running",
                }).ConfigureAwait(false);
            }

            if (operation.Action == RollbackAction)
            {
                // A rollback has no compensation of its own: finishing it blindly could undo newer
                // changes, so a human decides.
                var remaining = steps.Where(s => s.Status is SagaStepStatus.Pending or SagaStepStatus.Running).Select(s => s.Command).ToList();
                var message = $"the server stopped while rolling back ({operation.Result?["rolls_back"]}); " +
                              (remaining.Count == 0
                                  ? "every rollback step had finished; check the runtime with get_runtime_status and then consider it rolled back."
                                  : $"check the runtime with get_runtime_status, then do by hand what is still missing, in this order: {string.Join("; ", remaining.Select(c => Manual(RuntimeOf(c, runtimeId), c)))}.");
                await EndAsync(operation, OperationStatus.Stuck, new OperationError("stuck", message), steps, "system").ConfigureAwait(false);
                return true;
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
            return true;
        }
        finally
        {
            held.Dispose();
            RuntimeLifecycle.Release(holds);
        }
    }
}
