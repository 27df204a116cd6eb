namespace RuntimeAI.KubeSim;

/// <summary>Options of the Kubernetes API simulator. Every duration is measured on <see cref="TimeProvider"/>.</summary>
public sealed class KubeSimOptions
{
    /// <summary>Loopback TCP port to listen on; 0 picks a free ephemeral port.</summary>
    public int Port { get; set; }

    /// <summary>Optional YAML seed file describing the starting world (nodes, namespaces, virtual clusters, objects).</summary>
    public string? SeedFile { get; set; }

    /// <summary>Optional seed given inline, in the same YAML format as <see cref="SeedFile"/>; applied after it.</summary>
    public string? SeedYaml { get; set; }

    /// <summary>The clock for timestamps, controller delays and synthetic metrics. Tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Whether controllers run on a timer in the background. Tests that want determinism turn this off and call
    /// <see cref="KubeSimServer.RunControllersOnceAsync"/> after advancing a fake clock.
    /// </summary>
    public bool RunControllersInBackground { get; set; } = true;

    /// <summary>How often background controllers reconcile.</summary>
    public TimeSpan ControllerInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a scheduled pod stays Pending (ContainerCreating) before it is Running and Ready.</summary>
    public TimeSpan PodStartDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a VirtualMachineInstance takes from Scheduling to Running.</summary>
    public TimeSpan VirtualMachineStartDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a stopping VirtualMachineInstance shuts down before it disappears.</summary>
    public TimeSpan VirtualMachineStopDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long pods stay on a node that is not Ready before they are evicted (Kubernetes' default toleration is 300 s).</summary>
    public TimeSpan NodeNotReadyEvictionDelay { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>How often an open watch that asked for bookmarks receives one.</summary>
    public TimeSpan WatchBookmarkInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many changes the watch log keeps; a watch resuming from an older resourceVersion gets 410 Gone.</summary>
    public int WatchLogCapacity { get; set; } = 10_000;

    /// <summary>Seed for generated names, IPs, log lines and the synthetic metrics pattern.</summary>
    public int RandomSeed { get; set; } = 1;

    /// <summary>Nodes created when the seed defines none (named kubesim-node-1..N, 8 CPU / 32Gi / 110 pods each).</summary>
    public int DefaultNodeCount { get; set; } = 3;

    /// <summary>The version reported by <c>/version</c>.</summary>
    public string KubernetesVersion { get; set; } = "v1.32.0";

    /// <summary>Whether pods created inside a virtual cluster also appear on the host, renamed and labelled as vcluster's syncer does.</summary>
    public bool SyncVirtualClusterPodsToHost { get; set; } = true;

    /// <summary>
    /// Whether the seeded world starts settled, as a world that already existed would: its pods run and its VMs have
    /// reached their run strategy before <see cref="KubeSimServer.StartAsync"/> returns (the start delays do not apply
    /// to the seed). Off by default, so tests can watch seeded objects start.
    /// </summary>
    public bool SettleSeed { get; set; }

    /// <summary>True while the seed is being settled: every start and stop delay is zero.</summary>
    internal bool SettlingSeed { get; set; }

    /// <summary>A configured start or stop delay, or zero while the seed is being settled.</summary>
    internal TimeSpan Delay(TimeSpan configured) => SettlingSeed ? TimeSpan.Zero : configured;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(WatchLogCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(DefaultNodeCount);
        if (ControllerInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ControllerInterval), "ControllerInterval must be positive.");
        }

        if (SeedFile is not null && !File.Exists(SeedFile))
        {
            throw new FileNotFoundException("The KubeSim seed file does not exist.", SeedFile);
        }
    }
}
