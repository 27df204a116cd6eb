using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.Controllers;
using RuntimeAI.KubeSim.Http;
using RuntimeAI.KubeSim.KubeVirt;
using RuntimeAI.KubeSim.Seeding;

namespace RuntimeAI.KubeSim;

/// <summary>
/// KubeSim, a Kubernetes API simulator: an HTTP server on 127.0.0.1 that answers the subset of the kube-apiserver API
/// our drivers and kubectl use, with controllers that make objects come alive (Deployments, StatefulSets, pods,
/// KubeVirt virtual machines, virtual clusters). It is not a Kubernetes cluster: nothing runs, nothing is scheduled
/// for real; see docs/kubesim.md.
/// </summary>
public sealed class KubeSimServer : IAsyncDisposable
{
    private static readonly TimeSpan s_idlePassInterval = TimeSpan.FromSeconds(1);
    private readonly WebApplication _app;
    private readonly KubeSimOptions _options;
    private readonly ConcurrentDictionary<string, SimulatedApi> _virtualClusters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<(ResourceType Type, System.Text.Json.Nodes.JsonObject Object)>> _virtualClusterSnapshots = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reconcileGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private int _disposed;

    private KubeSimServer(WebApplication app, KubeSimOptions options)
    {
        _app = app;
        _options = options;
        Host = new SimulatedApi("host", string.Empty, options, () => BaseAddress);
        Faults = new KubeSimFaults(options.TimeProvider, DropAllWatches, (node, ready) => NodeLifecycle.SetReady(Host, node, ready));
        Host.Faults = Faults;
    }

    /// <summary>The address the simulator listens on, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Fault injection: latency, error responses, dropped watches, an API that stops answering.</summary>
    public KubeSimFaults Faults { get; }

    /// <summary>Namespace/name of every virtual cluster currently served inside this simulator.</summary>
    public IReadOnlyCollection<string> VirtualClusters => _virtualClusters.Keys.Order(StringComparer.Ordinal).ToList();

    internal SimulatedApi Host { get; }

    internal KubeSimOptions Options => _options;

    /// <summary>The last exception a background controller pass swallowed, for diagnosing the simulator itself.</summary>
    public Exception? LastControllerError { get; private set; }

    /// <summary>Starts the simulator on loopback, applies the seed, and starts background controllers if enabled.</summary>
    /// <param name="options">Port, seed, clock and controller settings. Validated here.</param>
    /// <param name="ct">Cancels start-up.</param>
    /// <returns>The running simulator; dispose it to stop.</returns>
    public static async Task<KubeSimServer> StartAsync(KubeSimOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        var app = builder.Build();
        var server = new KubeSimServer(app, options);
        app.Run(server.HandleAsync);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.BaseAddress = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
            server.Seed();
        }
        catch
        {
            // A port in use or a rejected seed must not leave a listening server behind.
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (options.RunControllersInBackground)
        {
            server._loop = Task.Run(() => server.LoopAsync(server._stopping.Token), CancellationToken.None);
        }

        return server;
    }

    /// <summary>
    /// A kubeconfig (YAML) whose current context points at this simulator over plain HTTP, usable by kubectl and by
    /// KubernetesClient. Its user carries <see cref="SimulatorToken"/>, which the simulator ignores: it does not authenticate.
    /// </summary>
    /// <param name="contextName">Name for the cluster, user and context entries; "kubesim" when null.</param>
    public string CreateKubeconfigYaml(string? contextName = null) => Kubeconfig(BaseAddress, contextName ?? "kubesim", "default");

    /// <summary>A kubeconfig pointing at the simulated API of one virtual cluster (the same text its vc-NAME Secret holds).</summary>
    /// <param name="ns">Host namespace of the virtual cluster.</param>
    /// <param name="name">Name of the virtual cluster (the release label of its StatefulSet).</param>
    public string CreateVirtualClusterKubeconfigYaml(string ns, string name) =>
        Kubeconfig(VirtualClusterAddress(ns, name), $"vcluster_{name}_{ns}", "default");

    /// <summary>The base address of a virtual cluster's simulated API: <c>BaseAddress + vcluster/NS/NAME/</c>.</summary>
    public Uri VirtualClusterAddress(string ns, string name) => new(BaseAddress, $"vcluster/{ns}/{name}/");

    /// <summary>The bearer token every kubeconfig of the simulator carries; the simulator accepts any token, or none.</summary>
    public const string SimulatorToken = "kubesim-not-a-secret";

    internal static string Kubeconfig(Uri server, string name, string ns)
    {
        var sb = new StringBuilder();
        sb.Append("apiVersion: v1\nkind: Config\n");
        sb.Append("# KubeSim: a Kubernetes API simulator, not a cluster.\n");
        sb.Append("clusters:\n- name: ").Append(name).Append("\n  cluster:\n    server: ").Append(server.ToString().TrimEnd('/')).Append('\n');
        sb.Append("contexts:\n- name: ").Append(name).Append("\n  context:\n    cluster: ").Append(name).Append("\n    user: ").Append(name)
          .Append("\n    namespace: ").Append(ns).Append('\n');
        sb.Append("current-context: ").Append(name).Append('\n');
        // A token the simulator never checks: clients (KubernetesClient among them) refuse a user without credentials.
        sb.Append("users:\n- name: ").Append(name).Append("\n  user:\n    token: ").Append(SimulatorToken).Append('\n');
        sb.Append("preferences: {}\n");
        return sb.ToString();
    }

    /// <summary>
    /// Runs every controller (host and virtual clusters) until nothing changes any more (at most 25 passes).
    /// With a fake TimeProvider and background controllers off this makes tests deterministic: advance the clock, then call this.
    /// </summary>
    /// <param name="ct">Cancels between passes.</param>
    public async Task RunControllersOnceAsync(CancellationToken ct = default)
    {
        await _reconcileGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            for (var pass = 0; pass < 25; pass++)
            {
                ct.ThrowIfCancellationRequested();
                var before = Versions();
                ReconcileAll();
                if (Versions() == before)
                {
                    return;
                }
            }
        }
        finally
        {
            _reconcileGate.Release();
        }
    }

    /// <summary>Forgets the watch history, so a watch resuming from any older resourceVersion gets 410 Gone (like etcd compaction).</summary>
    public void CompactWatchHistory()
    {
        Host.Store.Compact();
        foreach (var vc in _virtualClusters.Values)
        {
            vc.Store.Compact();
        }
    }

    /// <summary>Stops the controllers and the HTTP server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Faults.ResumeAnswering();
        DropAllWatches();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected on shutdown.
            }
        }

        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _reconcileGate.Dispose();
    }

    private string Versions() =>
        string.Join(',', new[] { Host }.Concat(_virtualClusters.Values).Select(a => a.Store.ResourceVersion)) + "/" + _virtualClusters.Count;

    private void ReconcileAll()
    {
        Reconciler.Run(Host);
        VirtualClusterController.Reconcile(this);
        VirtualClusterSnapshotController.Reconcile(this, _virtualClusterSnapshots);
        foreach (var vc in _virtualClusters.Values)
        {
            Reconciler.Run(vc);
        }
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.ControllerInterval, _options.TimeProvider);
        string? lastVersions = null;
        var lastPass = DateTimeOffset.MinValue;
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            // An idle world only needs a pass when time-based transitions may be due (their delays are whole seconds).
            var now = _options.TimeProvider.GetUtcNow();
            if (Versions() == lastVersions && now - lastPass < s_idlePassInterval)
            {
                continue;
            }

            try
            {
                await RunControllersOnceAsync(ct).ConfigureAwait(false);
                lastVersions = Versions();
                lastPass = now;
            }
            catch (Exception ex) when (ex is KubeApiException or InvalidOperationException or ArgumentException or NullReferenceException or FormatException or KeyNotFoundException)
            {
                // A controller lost a race with a client write (or hit a simulator bug); the next tick retries, as real controllers do.
                LastControllerError = ex;
            }
        }
    }

    private void DropAllWatches()
    {
        Host.Store.DropWatches();
        foreach (var vc in _virtualClusters.Values)
        {
            vc.Store.DropWatches();
        }
    }

    private void Seed()
    {
        KubeVirtCatalog.SeedInstancetypes(Host);
        var seeder = new SeedLoader(this);
        if (_options.SeedFile is not null)
        {
            seeder.Apply(File.ReadAllText(_options.SeedFile));
        }

        if (_options.SeedYaml is not null)
        {
            seeder.Apply(_options.SeedYaml);
        }

        if (Host.Store.List(ResourceCatalog.Nodes).Count == 0)
        {
            for (var i = 1; i <= _options.DefaultNodeCount; i++)
            {
                Nodes.Create(Host, $"kubesim-node-{i}", "8", "32Gi", 110, null);
            }
        }

        if (_options.SettleSeed)
        {
            // The background loop has not started yet: nothing else reconciles while the delays are zero.
            _options.SettlingSeed = true;
            try
            {
                for (var pass = 0; pass < 25; pass++)
                {
                    var before = Versions();
                    ReconcileAll();
                    if (Versions() == before)
                    {
                        break;
                    }
                }
            }
            finally
            {
                _options.SettlingSeed = false;
            }
        }
    }

    internal SimulatedApi? FindVirtualCluster(string ns, string name) => _virtualClusters.GetValueOrDefault($"{ns}/{name}");

    internal SimulatedApi AddVirtualCluster(string ns, string name)
    {
        return _virtualClusters.GetOrAdd($"{ns}/{name}", key =>
        {
            var api = new SimulatedApi($"vcluster/{key}", $"/vcluster/{key}", _options, () => VirtualClusterAddress(ns, name));
            foreach (var node in Host.Store.List(ResourceCatalog.Nodes))
            {
                // vcluster shows pseudo nodes named after the host nodes its pods land on; all of them here.
                Nodes.Create(api, Json.Name(node), Json.Str(node, "status", "capacity", "cpu") ?? "8", Json.Str(node, "status", "capacity", "memory") ?? "32Gi", 110, null);
            }

            KubeVirtCatalog.SeedInstancetypes(api);
            api.Faults = Faults;
            return api;
        });
    }

    internal void RemoveVirtualCluster(string ns, string name)
    {
        if (_virtualClusters.TryRemove($"{ns}/{name}", out var api))
        {
            api.Store.DropWatches();
        }
    }

    internal IEnumerable<(string Namespace, string Name, SimulatedApi Api)> VirtualClusterApis() =>
        _virtualClusters.Select(kv => (kv.Key.Split('/')[0], kv.Key.Split('/')[1], kv.Value));

    private async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            var fault = await Faults.ApplyAsync(ctx).ConfigureAwait(false);
            if (fault is not null)
            {
                await ApiHandler.WriteJsonAsync(ctx, (int)(Json.Long(fault, "code") ?? 500), fault).ConfigureAwait(false);
                return;
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var path = ctx.Request.Path.Value ?? "/";
        if (path.StartsWith("/vcluster/", StringComparison.Ordinal))
        {
            var parts = path.Split('/', 5, StringSplitOptions.None);
            var vc = parts.Length >= 4 ? FindVirtualCluster(parts[2], parts[3]) : null;
            if (vc is null)
            {
                await ApiHandler.WriteJsonAsync(ctx, 404, KubeApiException.StatusBody(404, "NotFound", "no virtual cluster is served at this path")).ConfigureAwait(false);
                return;
            }

            await ApiHandler.HandleAsync(ctx, vc, parts.Length == 5 ? "/" + parts[4] : "/").ConfigureAwait(false);
            return;
        }

        await ApiHandler.HandleAsync(ctx, Host, path).ConfigureAwait(false);
    }
}

/// <summary>The simulator is embedded: the process that hosts it owns Ctrl+C and SIGTERM, not the simulator.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
