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

    /// <summary>Runs the first probe round at start (before calls are served), then one per interval.</summary>
    private sealed class ProbeLoop(BackendHealthMonitor monitor) : IHostedService, IAsyncDisposable
    {
        private readonly CancellationTokenSource _stopping = new();
        private Task? _loop;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await monitor.ProbeAllAsync(cancellationToken);
            _loop = monitor.RunAsync(_stopping.Token);
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
