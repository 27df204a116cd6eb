using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Drivers.Kubernetes.Cluster;
using RuntimeAI.KubeSim;

namespace RuntimeAI.Drivers.Kubernetes.Tests;

/// <summary>
/// KubeSim (the Kubernetes API simulator) on loopback with a fake clock, plus a <see cref="KubeCluster"/>
/// that reaches it over real HTTP through KubernetesClient and the simulator's kubeconfig file.
/// </summary>
internal sealed class SimCluster : IAsyncDisposable
{
    private readonly string _dir;

    private SimCluster(KubeSimServer server, FakeTimeProvider time, string dir, KubeCluster cluster)
    {
        Server = server;
        Time = time;
        _dir = dir;
        Cluster = cluster;
    }

    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    public KubeSimServer Server { get; }

    public FakeTimeProvider Time { get; }

    public KubeCluster Cluster { get; }

    public string KubeconfigPath => Path.Combine(_dir, "kubeconfig");

    public static async Task<SimCluster> StartAsync(string? seedYaml = null, Func<KubeClusterOptions, KubeClusterOptions>? configure = null)
    {
        var time = new FakeTimeProvider(Epoch);
        var server = await KubeSimServer.StartAsync(new KubeSimOptions
        {
            TimeProvider = time,
            RunControllersInBackground = false,
            SeedYaml = seedYaml,
        }, CancellationToken.None);
        var dir = Directory.CreateTempSubdirectory("runtimeai-k8s-").FullName;
        var path = Path.Combine(dir, "kubeconfig");
        await File.WriteAllTextAsync(path, server.CreateKubeconfigYaml());
        var options = new KubeClusterOptions
        {
            KubeconfigPath = path,
            IsSandbox = true,
            RetryDelay = TimeSpan.FromMilliseconds(5),
            PollInterval = TimeSpan.FromMilliseconds(20),
            ConvergeTimeout = TimeSpan.FromSeconds(20),
        };
        options = configure?.Invoke(options) ?? options;
        // Retries wait on the real clock (a few ms); the simulator's world runs on the fake one.
        return new SimCluster(server, time, dir, new KubeCluster(options, TimeProvider.System));
    }

    /// <summary>Lets the controllers settle, moves the simulated clock, and lets them settle again.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        await Server.RunControllersOnceAsync();
        Time.Advance(by);
        await Server.RunControllersOnceAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Cluster.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
