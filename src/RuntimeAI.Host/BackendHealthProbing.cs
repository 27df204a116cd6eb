using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Host;

/// <summary>Safe mode: the backend health monitor and the hosted service that drives it.</summary>
internal static class BackendHealthProbing
{
    /// <summary>Registers <see cref="BackendHealthMonitor"/> (picked up by <see cref="RuntimeLifecycle"/>) and its probe loop.</summary>
    public static IServiceCollection AddBackendHealthMonitor(this IServiceCollection services)
    {
        services.AddSingleton<BackendHealthMonitor>();
        services.AddHostedService<ProbeLoop>();
        return services;
    }

    /// <summary>
    /// Runs the first probe round in the background as soon as the host starts (tool calls wait for
    /// it through <see cref="BackendReadiness"/>; the handshake does not), then one per interval.
    /// The monitor, and with it every driver, is built on that background task, so loading a
    /// backend's library or reaching a slow cluster never delays the first answer.
    /// </summary>
    private sealed class ProbeLoop(IServiceProvider services, BackendReadiness readiness) : IHostedService, IAsyncDisposable
    {
        private readonly CancellationTokenSource _stopping = new();
        private Task? _loop;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            var stopping = _stopping.Token;
            _loop = Task.Run(async () =>
            {
                try
                {
                    BackendHealthMonitor monitor;
                    try
                    {
                        monitor = services.GetRequiredService<BackendHealthMonitor>();
                        await monitor.ProbeAllAsync(stopping);
                    }
                    finally
                    {
                        readiness.MarkProbed();
                    }

                    await monitor.RunAsync(stopping);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    // The host stopped during the first round.
                }
                catch (ObjectDisposedException)
                {
                    // The host stopped (and disposed the drivers) before the first round ended.
                }
            }, CancellationToken.None);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await _stopping.CancelAsync();
            if (_loop is not null)
            {
                await _loop.WaitAsync(cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync();
            _stopping.Dispose();
        }
    }
}
