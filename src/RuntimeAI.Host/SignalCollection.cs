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
    /// samples arrive in the background (a tool never waits for the collector).
    /// </summary>
    private sealed class CollectorLoop(SignalCollector collector) : IHostedService, IAsyncDisposable
    {
        private readonly CancellationTokenSource _stopping = new();
        private Task? _loop;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _loop = Task.Run(() => collector.RunAsync(_stopping.Token), CancellationToken.None);
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
