using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Operations;

namespace RuntimeAI.Host;

/// <summary>Wires transactional execution: the saga executor and crash recovery at start.</summary>
internal static class SagaRegistration
{
    /// <summary>Registers <see cref="SagaExecutor"/> and the start-up recovery of interrupted sagas.</summary>
    public static IServiceCollection AddSagaExecution(this IServiceCollection services)
    {
        services.AddSingleton<SagaExecutor>();
        services.AddHostedService<SagaRecoveryStartup>();
        return services;
    }
}

/// <summary>
/// On start, settles saga operations a previous process left running (see
/// <see cref="SagaExecutor.RecoverAsync"/>: they are compensated, not resumed). Runs in the
/// background after the backends were discovered, so a stuck compensation's retries never delay
/// serving; the executor's per-runtime lock keeps new sagas off a runtime until it is settled.
/// When replicas share the store (<see cref="IReplicaCoordinator.Shared"/>), it keeps looking,
/// every <see cref="Composition.ReplicaHeartbeat"/>, for sagas whose replica died, and takes them over.
/// </summary>
internal sealed class SagaRecoveryStartup(IServiceProvider services, BackendReadiness readiness, TimeProvider time, ILogger<SagaRecoveryStartup> logger) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _recovery;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _recovery = Task.Run(async () =>
        {
            try
            {
                await readiness.WaitAsync(time, CancellationToken.None);
                var executor = services.GetRequiredService<SagaExecutor>();
                var settled = await executor.RecoverAsync(CancellationToken.None);
                if (settled > 0)
                {
                    logger.LogWarning("Settled {Count} saga operation(s) interrupted by the previous stop (compensated, or marked stuck)", settled);
                }

                if (!services.GetRequiredService<RuntimeLifecycle>().Coordinator.Shared)
                {
                    return;
                }

                while (!_stop.IsCancellationRequested)
                {
                    await Task.Delay(Composition.ReplicaHeartbeat, time, _stop.Token);
                    try
                    {
                        settled = await executor.RecoverAsync(_stop.Token);
                        if (settled > 0)
                        {
                            logger.LogWarning("Took over {Count} saga operation(s) of a replica that stopped (compensated, or marked stuck)", settled);
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
                    {
                        logger.LogWarning("Looking for sagas of stopped replicas failed ({Message}); trying again in {Interval}", ex.Message, Composition.ReplicaHeartbeat);
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Stopping.
            }
            catch (ObjectDisposedException)
            {
                // The host stopped before recovery could start; the next start settles them.
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Recovery of interrupted saga operations failed; they stay 'running' until the next start");
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        if (_recovery is not null)
        {
            await Task.WhenAny(_recovery, Task.Delay(Timeout.Infinite, cancellationToken));
        }
    }
}
