using RuntimeAI.Drivers.Kubernetes.Cluster;
using RuntimeAI.KubeSim;

namespace RuntimeAI.Drivers.Kubernetes.Tests;

/// <summary>
/// KubeSim (the Kubernetes API simulator) on loopback with its controllers running in the background
/// on short delays, plus a <see cref="KubeCluster"/> that reaches it over real HTTP through
/// KubernetesClient and the simulator's kubeconfig file. Drivers wait for the world to converge as
/// they would on a real cluster.
/// </summary>
internal sealed class SimCluster : IAsyncDisposable
{
    private readonly string _dir;
    private k8s.Kubernetes? _client;

    private SimCluster(KubeSimServer server, string dir, KubeCluster cluster)
    {
        Server = server;
        _dir = dir;
        Cluster = cluster;
    }

    public KubeSimServer Server { get; }

    public KubeCluster Cluster { get; }

    public string KubeconfigPath => Path.Combine(_dir, "kubeconfig");

    /// <summary>
    /// KubernetesClient's own typed client on the simulator's kubeconfig: the tests' independent view
    /// of the world (the drivers send their requests through <see cref="KubeCluster"/>).
    /// </summary>
    public k8s.Kubernetes Client => _client ??= new k8s.Kubernetes(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath));

    public static async Task<SimCluster> StartAsync(string? seedYaml = null, Func<KubeClusterOptions, KubeClusterOptions>? configure = null)
    {
        var server = await KubeSimServer.StartAsync(new KubeSimOptions
        {
            RunControllersInBackground = true,
            ControllerInterval = TimeSpan.FromMilliseconds(20),
            PodStartDelay = TimeSpan.FromMilliseconds(50),
            VirtualMachineStartDelay = TimeSpan.FromMilliseconds(50),
            VirtualMachineStopDelay = TimeSpan.FromMilliseconds(50),
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
        return new SimCluster(server, dir, new KubeCluster(options, TimeProvider.System));
    }

    /// <summary>A KubernetesClient inside a virtual cluster, through the kubeconfig its vc-NAME Secret holds.</summary>
    public k8s.Kubernetes Inside(string ns, string name)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Server.CreateVirtualClusterKubeconfigYaml(ns, name)));
        return new k8s.Kubernetes(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(stream));
    }

    /// <summary>Polls (real clock) until <paramref name="condition"/> holds; fails the test with <paramref name="what"/> after 20 s.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(20);
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                Assert.Fail("timed out waiting for " + what);
            }

            await Task.Delay(25);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cluster.Dispose();
        _client?.Dispose();
        await Server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
