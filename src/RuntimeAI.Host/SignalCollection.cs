using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Host;

/// <summary>The signal collector and the hosted service that runs it beside the server.</summary>
internal static class SignalCollection
{
    /// <summary>Registers <see cref="SignalCollector"/> and its loop (interval zero: registered, never run).</summary>
    public static IServiceCollection AddSignalCollection(this IServiceCollection services, TimeSpan interval)
    {
        services.AddSingleton(sp => new SignalCollector(
            sp.GetRequiredService<IRuntimeInventory>(),
            sp.GetRequiredService<DriverRegistry>(),
            sp.GetRequiredService<ISignalStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SignalCollector>>(),
            new SignalCollectorOptions { Interval = interval }));
        services.AddHostedService<CollectorLoop>();
        return services;
    }

    /// <summary>
    /// Starts the loop without waiting for a round: the server answers calls at once, and the first
    /// samples arrive in the background (a tool never waits for the collector). The collector (and
    /// through it the drivers) is built inside the loop, off the start path, and its first round
    /// waits for the backends' first discovery.
    /// </summary>
    private sealed class CollectorLoop(IServiceProvider services) : IHostedService, IAsyncDisposable
    {
        private readonly CancellationTokenSource _stopping = new();
        private Task? _loop;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            var stopping = _stopping.Token;
            _loop = Task.Run(async () =>
            {
                var time = services.GetRequiredService<TimeProvider>();
                if (services.GetService<BackendReadiness>() is { } readiness)
                {
                    await readiness.WaitAsync(time, stopping);
                }

                await services.GetRequiredService<SignalCollector>().RunAsync(stopping);
            }, CancellationToken.None);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await _stopping.CancelAsync();
            if (_loop is not null)
            {
                await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync();
            _stopping.Dispose();
        }
    }
}
