namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>
/// One Kubernetes cluster (a kubeconfig file and a context) that the vCluster and KubeVirt drivers
/// serve. Configure one instance per cluster; several run side by side, each its own backend.
/// </summary>
public sealed class KubeClusterOptions
{
    /// <summary>Path of the kubeconfig file (as <c>kubectl --kubeconfig</c>).</summary>
    public required string KubeconfigPath { get; init; }

    /// <summary>The context to use; null uses the file's <c>current-context</c>.</summary>
    public string? Context { get; init; }

    /// <summary>True when the cluster is the in-process KubeSim simulator (the sandbox), not real infrastructure.</summary>
    public bool IsSandbox { get; init; }

    /// <summary>Namespaces searched for virtual clusters and virtual machines; empty searches all namespaces.</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    /// <summary>Namespace new virtual machines are created in (default <c>default</c>).</summary>
    public string VirtualMachineNamespace { get; init; } = "default";

    /// <summary>How many times a request that failed with 429, a 5xx or a transport error is retried (default 3).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Delay before the first retry; later retries back off exponentially (default 200 ms).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long one request may take (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a lifecycle call polls while it waits for the cluster to converge (default 500 ms).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a lifecycle call waits for the cluster to converge before it reports the runtime as still changing (default 2 min).</summary>
    public TimeSpan ConvergeTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Checks every setting and reports all problems at once.</summary>
    /// <exception cref="ArgumentException">One or more settings are invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(KubeconfigPath))
        {
            errors.Add("KubeconfigPath is empty: pass --kubeconfig FILE (a kubeconfig as kubectl reads it).");
        }
        else if (!File.Exists(KubeconfigPath))
        {
            errors.Add($"kubeconfig '{KubeconfigPath}' does not exist: pass the path of a kubeconfig file (e.g. ~/.kube/config).");
        }

        if (MaxRetries is < 0 or > 10)
        {
            errors.Add($"MaxRetries {MaxRetries} is out of range: use 0 to 10.");
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            errors.Add("RetryDelay is negative.");
        }

        if (RequestTimeout <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero || ConvergeTimeout <= TimeSpan.Zero)
        {
            errors.Add("RequestTimeout, PollInterval and ConvergeTimeout must be positive.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors));
        }
    }
}
