using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Drivers.Libvirt;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host;

/// <summary>
/// Chooses and wires the backends: every --libvirt URI, or — with --sandbox or when nothing is
/// configured — libvirt's in-process test:///default driver, announced on stderr as a sandbox.
/// </summary>
internal static class Backends
{
    public const string SandboxUri = "test:///default";

    public static void AddRuntimeAiBackends(this IServiceCollection services, RuntimeAiServerOptions options, TextWriter announce)
    {
        var uris = options.Libvirt.ToList();
        if (options.Sandbox || uris.Count == 0)
        {
            if (LibvirtLibrary.IsAvailable(out var reason))
            {
                uris.Insert(0, SandboxUri);
                announce.WriteLine($"runtimeai: SANDBOX backend: libvirt {SandboxUri} (an in-process simulated hypervisor; no real VM is created). Use --libvirt qemu:///system for real VMs.");
            }
            else
            {
                announce.WriteLine($"runtimeai: no backend available: {reason}. Observe tools work on the inventory; lifecycle tools will say no backend is configured.");
            }
        }

        foreach (var uri in uris.Distinct(StringComparer.Ordinal))
        {
            services.AddSingleton<IRuntimeDriver>(sp => new LibvirtDomainDriver(
                new LibvirtOptions { Uri = uri, DataDir = Path.Combine(options.DataDir, "libvirt") },
                sp.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton<DriverRegistry>();
        services.AddSingleton<RuntimeLifecycle>();
        services.AddBackendHealthMonitor();
        services.AddHostedService<BackendStartup>();
        services.AddSagaExecution();
    }

    /// <summary>Imports existing runtimes and turns backend events into inventory events.</summary>
    private sealed class BackendStartup(DriverRegistry registry, RuntimeLifecycle lifecycle, ILogger<BackendStartup> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            foreach (var driver in registry.All)
            {
                driver.RuntimeEventObserved += (_, e) => _ = RecordAsync(e);
            }

            var imported = await lifecycle.DiscoverAsync(cancellationToken);
            if (imported > 0)
            {
                logger.LogInformation("Imported {Count} existing runtime(s) from the backends", imported);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        private async Task RecordAsync(DriverEvent e)
        {
            try
            {
                await lifecycle.RecordDriverEventAsync(e, CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not record backend event {Type} for {Ref}", e.Type, e.BackendRef);
            }
        }
    }
}
