using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Drivers.Kubernetes.Cluster;
using RuntimeAI.Drivers.Kubernetes.VirtualClusters;
using RuntimeAI.Drivers.Kubernetes.VirtualMachines;
using RuntimeAI.Drivers.Libvirt;
using RuntimeAI.KubeSim;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host;

/// <summary>
/// Chooses and wires the backends: every --libvirt URI and every --kubeconfig cluster (a vCluster
/// and a KubeVirt driver each), or — with --sandbox or when nothing is configured — libvirt's
/// in-process test:///default driver beside KubeSim, the in-process Kubernetes API simulator seeded
/// with two vclusters and two KubeVirt VMs; both announced on stderr as sandboxes.
/// </summary>
internal static class Backends
{
    public const string SandboxUri = "test:///default";

    public static void AddRuntimeAiBackends(this IServiceCollection services, RuntimeAiServerOptions options, TextWriter announce)
    {
        var uris = options.Libvirt.ToList();
        var sandbox = options.Sandbox || (uris.Count == 0 && options.Kubeconfigs.Count == 0);
        if (sandbox)
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
            // Checked now, so a bad URI stops the start; the driver itself is built in the background.
            var libvirt = new LibvirtOptions { Uri = uri, DataDir = Path.Combine(options.DataDir, "libvirt") };
            libvirt.Validate();
            services.AddSingleton<IRuntimeDriver>(sp => new LibvirtDomainDriver(libvirt, sp.GetRequiredService<TimeProvider>()));
        }

        var clusters = options.Kubeconfigs.Distinct(StringComparer.Ordinal)
            .Select(entry => entry.LastIndexOf('#') is var hash and > 0
                ? new KubeClusterOptions { KubeconfigPath = entry[..hash], Context = entry[(hash + 1)..] }
                : new KubeClusterOptions { KubeconfigPath = entry })
            .ToList();
        if (sandbox)
        {
            var path = SandboxWorld.Start(services, options.DataDir, announce);
            clusters.Insert(0, new KubeClusterOptions { KubeconfigPath = path, IsSandbox = true });
        }

        var clients = new List<KubeCluster>();
        foreach (var clusterOptions in clusters)
        {
            // One client per cluster, shared by its two drivers; the container disposes it.
            var cluster = new KubeCluster(clusterOptions, TimeProvider.System);
            clients.Add(cluster);
            services.AddSingleton<IRuntimeDriver>(sp => new VclusterDriver(cluster, sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<IRuntimeDriver>(sp => new KubeVirtDriver(cluster, sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<RuntimeAI.Core.Inside.IClusterHost>(new RuntimeAI.Drivers.Kubernetes.Inside.KubeClusterHost(cluster));
        }

        if (clients.Count > 0)
        {
            services.AddHostedService(_ => new ClusterClients(clients));
        }

        services.AddSingleton<DriverRegistry>();
        services.AddSingleton<RuntimeLifecycle>();
        services.AddSingleton<BackendReadiness>();
        services.AddBackendHealthMonitor();
        services.AddHostedService<BackendStartup>();
        services.AddSignalCollection(options.SignalInterval);
        services.AddSagaExecution();
    }

    /// <summary>
    /// Imports existing runtimes and turns backend events into inventory events. Discovery runs in
    /// the background so the server answers its first request at once; tool calls wait for it
    /// through <see cref="BackendReadiness"/>.
    /// </summary>
    private sealed class BackendStartup(IServiceProvider services, BackendReadiness readiness, ILogger<BackendStartup> logger) : IHostedService
    {
        private readonly Channel<DriverEvent> _events = Channel.CreateUnbounded<DriverEvent>(new UnboundedChannelOptions { SingleReader = true });
        private Task? _discovery;
        private Task? _recording;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _discovery = Task.Run(async () =>
            {
                try
                {
                    // Built here, not in the constructor: the drivers (and their native libraries) load off the start path.
                    var lifecycle = services.GetRequiredService<RuntimeLifecycle>();
                    // One at a time and in the order the drivers raised them: two events of one runtime
                    // recorded side by side could leave the older state as the last one written.
                    foreach (var driver in services.GetRequiredService<DriverRegistry>().All)
                    {
                        driver.RuntimeEventObserved += (_, e) => _events.Writer.TryWrite(e);
                    }

                    _recording = Task.Run(() => RecordAllAsync(lifecycle));

                    var imported = await lifecycle.DiscoverAsync(CancellationToken.None);
                    if (imported > 0)
                    {
                        logger.LogInformation("Imported {Count} existing runtime(s) from the backends", imported);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // The host stopped (e.g. its port was taken) before discovery ended.
                }
                catch (Exception ex)
                {
                    logger.LogError(ex, "Discovery of the backends' runtimes failed; the recorded inventory is used");
                }
                finally
                {
                    readiness.MarkDiscovered();
                }
            }, CancellationToken.None);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_discovery is not null)
            {
                await Task.WhenAny(_discovery, Task.Delay(Timeout.Infinite, cancellationToken));
            }

            // Events already raised are recorded before the store closes (as long as the host allows).
            _events.Writer.TryComplete();
            if (_recording is not null)
            {
                await Task.WhenAny(_recording, Task.Delay(Timeout.Infinite, cancellationToken));
            }
        }

        private async Task RecordAllAsync(RuntimeLifecycle lifecycle)
        {
            await foreach (var e in _events.Reader.ReadAllAsync())
            {
                try
                {
                    await lifecycle.RecordDriverEventAsync(e, CancellationToken.None);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Could not record backend event {Type} for {Ref}", e.Type, e.BackendRef);
                }
            }
        }
    }

    /// <summary>Disposes the Kubernetes clients when the host stops.</summary>
    private sealed class ClusterClients(List<KubeCluster> clients) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            return Task.CompletedTask;
        }
    }
}
