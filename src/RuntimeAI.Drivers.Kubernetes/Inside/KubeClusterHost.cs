using RuntimeAI.Core.Inside;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.Inside;

/// <summary>The host cluster of a Kubernetes backend, for the observe tools (<c>cluster:CONTEXT</c>).</summary>
public sealed class KubeClusterHost : IClusterHost
{
    private readonly KubeClusterView _view;

    /// <summary>A host over a configured cluster (shared with its drivers; not disposed here).</summary>
    /// <param name="cluster">The cluster.</param>
    public KubeClusterHost(KubeCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        Context = cluster.ContextName;
        IsSandbox = cluster.Options.IsSandbox;
        _view = new KubeClusterView(cluster, $"host cluster {cluster.ContextName}", owns: false);
        View = new Shared(_view);
    }

    /// <inheritdoc />
    public string Context { get; }

    /// <inheritdoc />
    public bool IsSandbox { get; }

    /// <inheritdoc />
    public IClusterView View { get; }

    /// <summary>The shared view: a tool's <c>using</c> must not close it (discovery stays cached).</summary>
    private sealed class Shared(KubeClusterView inner) : IClusterView, IClusterWatchSource
    {
        public string Name => inner.Name;

        public bool IsSandbox => inner.IsSandbox;

        public Task<ResourceKind> ResolveKindAsync(string kind, CancellationToken cancellationToken) => inner.ResolveKindAsync(kind, cancellationToken);

        public Task<ResourceTable> ListAsync(ResourceListQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);

        public Task<(ResourceKind Kind, System.Text.Json.Nodes.JsonObject Object)> GetAsync(string kind, string name, string? ns, CancellationToken cancellationToken) =>
            inner.GetAsync(kind, name, ns, cancellationToken);

        public Task<string> ReadLogsAsync(LogQuery query, CancellationToken cancellationToken) => inner.ReadLogsAsync(query, cancellationToken);

        public Task<IReadOnlyList<ClusterEvent>> ListEventsAsync(ResourceKind? kind, string? name, string? ns, CancellationToken cancellationToken) =>
            inner.ListEventsAsync(kind, name, ns, cancellationToken);

        public Task<IReadOnlyList<PodUsage>> ReadPodUsageAsync(string? ns, string? podPrefix, CancellationToken cancellationToken) =>
            inner.ReadPodUsageAsync(ns, podPrefix, cancellationToken);

        public Task<WatchListing> ListForWatchAsync(ResourceKind kind, CancellationToken cancellationToken) => inner.ListForWatchAsync(kind, cancellationToken);

        public IAsyncEnumerable<ClusterWatchEvent> WatchAsync(ResourceKind kind, string resourceVersion, CancellationToken cancellationToken) =>
            inner.WatchAsync(kind, resourceVersion, cancellationToken);

        public void Dispose()
        {
        }
    }
}
