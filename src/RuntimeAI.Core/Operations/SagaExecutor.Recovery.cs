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

/// <summary>Crash safety: on start, settle the sagas a dead process left running (compensate, never resume).</summary>
public sealed partial class SagaExecutor
{
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
            // A saga run on another machine (a replica on the same database): whether its process
            // lives cannot be seen from here, and compensating a saga that is still running would
            // undo it under its owner. It is left to that machine; docs/scale-out.md says so.
            if (SagaProcess.OtherHost(operation.Result?["executor_process"]) is { } host)
            {
                logger.LogWarning("Saga {Operation} was run on host {Host}, whose processes this server cannot see; not settling it", operation.OperationId, host);
                continue;
            }

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

    private async Task RecoverOneAsync(Operation operation, CancellationToken cancellationToken)
    {
        var runtimeId = operation.RuntimeId!;
        var steps = (await store.GetStepsAsync(operation.OperationId, cancellationToken).ConfigureAwait(false)).ToList();
        var runtimes = RuntimesOf(runtimeId, steps);
        var holds = await lifecycle.HoldAllAsync(runtimes, cancellationToken).ConfigureAwait(false);
        var held = RuntimeLifecycle.Enter(holds);
        try
        {
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
            RuntimeLifecycle.Release(holds);
        }
    }
}
