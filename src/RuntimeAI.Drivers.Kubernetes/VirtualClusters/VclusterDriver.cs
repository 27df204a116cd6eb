using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

/// <summary>
/// Runs <see cref="RuntimeType.Vcluster"/> runtimes as vclusters on a host cluster, doing what the
/// vcluster CLI does: discover by <c>app=vcluster</c>, pause/resume with <c>loft.sh/paused</c> and
/// <c>loft.sh/paused-replicas</c>, rollout restart, snapshot/restore through request ConfigMaps the
/// control plane processes, delete honouring <c>loft.sh/non-deletable</c>. Backend references have
/// the form <c>vcluster:{context}#{namespace}/{name}</c>.
/// </summary>
public sealed partial class VclusterDriver : IRuntimeDriver
{
    private readonly KubeCluster _cluster;
    private readonly TimeProvider _time;

    /// <summary>Creates the driver on a cluster; nothing is sent until the first call.</summary>
    /// <param name="cluster">The host cluster (shared with the KubeVirt driver; the caller disposes it).</param>
    /// <param name="time">Clock for ages, timestamps and waits.</param>
    public VclusterDriver(KubeCluster cluster, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(time);
        _cluster = cluster;
        _time = time;
        Name = "vcluster:" + cluster.ContextName;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public RuntimeType RuntimeType => RuntimeType.Vcluster;

    /// <inheritdoc />
    public BackendKind BackendKind => BackendKind.VclusterBackend;

    /// <inheritdoc />
    public bool IsSandbox => _cluster.Options.IsSandbox;

    /// <inheritdoc />
    public IReadOnlyList<string> Capabilities { get; } = ["start", "stop", "restart", "scale", "snapshot", "restore", "delete"];

    /// <inheritdoc />
    public event EventHandler<DriverEvent>? RuntimeEventObserved
    {
        add { }
        remove { }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DiscoveredRuntime>> DiscoverAsync(CancellationToken cancellationToken)
    {
        var found = new List<DiscoveredRuntime>();
        foreach (var plane in await ListControlPlanesAsync(cancellationToken).ConfigureAwait(false))
        {
            var pods = await ControlPlanePodsAsync(plane, cancellationToken).ConfigureAwait(false);
            var (state, _) = StateOf(plane, pods);
            var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["namespace"] = plane.Namespace };
            if (plane.Annotations.TryGetValue(VclusterNames.Labels, out var json) && JsonNode.Parse(json) is JsonObject stored)
            {
                foreach (var (k, v) in stored)
                {
                    labels[k] = v?.GetValue<string>() ?? string.Empty;
                }
            }

            found.Add(new DiscoveredRuntime(
                KubeRefs.Format(Name, plane.Namespace, plane.Release), plane.Release, state, plane.Vcpus, plane.MemoryMiB, labels,
                plane.Annotations.GetValueOrDefault(VclusterNames.RuntimeId), plane.Labels.GetValueOrDefault(VclusterNames.Tenant)));
        }

        return found;
    }

    /// <inheritdoc />
    public async Task<RuntimeObservation> ObserveAsync(string backendRef, CancellationToken cancellationToken)
    {
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        var pods = await ControlPlanePodsAsync(plane, cancellationToken).ConfigureAwait(false);
        var (state, reason) = StateOf(plane, pods);
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["namespace"] = plane.Namespace,
            ["control_plane"] = $"{plane.Kind.ToLowerInvariant()}/{plane.ObjectName}",
            ["control_plane_ready"] = $"{plane.ReadyReplicas}/{plane.Replicas}",
            ["age"] = Age(plane.CreatedAt),
        };
        if (plane.Paused)
        {
            details["paused_replicas"] = plane.Annotations.GetValueOrDefault(VclusterNames.PausedReplicas) ?? "1";
        }

        if (state == RuntimeState.Running)
        {
            await AddInsideCountsAsync(plane, details, cancellationToken).ConfigureAwait(false);
        }

        var usage = await UsageAsync(plane, cancellationToken).ConfigureAwait(false);
        if (usage is { } u)
        {
            details["cpu_usage"] = KubeQuantities.Cpu(u.MilliCpu);
            details["memory_usage"] = KubeQuantities.Memory(u.MemoryMiB);
        }

        var started = pods.Where(p => p.Status?.StartTime is not null).Select(p => (DateTimeOffset?)new DateTimeOffset(DateTime.SpecifyKind(p.Status.StartTime!.Value, DateTimeKind.Utc))).Min();
        return new RuntimeObservation
        {
            State = state,
            Reason = reason,
            Vcpus = plane.Vcpus,
            MemoryMiB = plane.MemoryMiB,
            MaxMemoryMiB = plane.MemoryMiB,
            MemoryUsedMiB = usage?.MemoryMiB,
            Uptime = state == RuntimeState.Running && started is { } s ? _time.GetUtcNow() - s : null,
            Details = details,
            ObservedAt = _time.GetUtcNow(),
        };
    }

    /// <inheritdoc />
    public async Task<HostCapacity> GetCapacityAsync(CancellationToken cancellationToken)
    {
        var free = await FreeByNodeAsync(cancellationToken).ConfigureAwait(false);
        return new HostCapacity(
            (int)(free.Sum(n => n.AllocatableMilliCpu) / 1000),
            free.Sum(n => n.AllocatableMiB),
            free.Sum(n => n.FreeMiB));
    }

    /// <inheritdoc />
    public Task<BackendHealth> ProbeAsync(CancellationToken cancellationToken) => _cluster.ProbeAsync(cancellationToken);

    internal string ObjectRef(ControlPlane plane) => $"{plane.Kind.ToLowerInvariant()} {plane.Namespace}/{plane.ObjectName}";

    private string Age(DateTimeOffset created)
    {
        var age = _time.GetUtcNow() - created;
        return age.TotalDays >= 1 ? $"{(int)age.TotalDays}d"
            : age.TotalHours >= 1 ? $"{(int)age.TotalHours}h"
            : age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes}m"
            : $"{Math.Max(0, (int)age.TotalSeconds)}s";
    }

    private async Task<IReadOnlyList<ControlPlane>> ListControlPlanesAsync(CancellationToken cancellationToken)
    {
        var result = new List<ControlPlane>();
        var namespaces = _cluster.Options.Namespaces.Count == 0 ? [(string?)null] : _cluster.Options.Namespaces.Select(n => (string?)n).ToList();
        foreach (var ns in namespaces)
        {
            var sets = ns is null
                ? await _cluster.CallAsync("list vcluster statefulsets", (c, ct) => c.AppsV1.ListStatefulSetForAllNamespacesAsync(labelSelector: "app=vcluster", cancellationToken: ct), cancellationToken).ConfigureAwait(false)
                : await _cluster.CallAsync($"list vcluster statefulsets in {ns}", (c, ct) => c.AppsV1.ListNamespacedStatefulSetAsync(ns, labelSelector: "app=vcluster", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            result.AddRange(sets.Items.Where(s => s.Metadata.Labels?.ContainsKey("release") == true).Select(ControlPlane.From));
            var deployments = ns is null
                ? await _cluster.CallAsync("list vcluster deployments", (c, ct) => c.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: "app=vcluster", cancellationToken: ct), cancellationToken).ConfigureAwait(false)
                : await _cluster.CallAsync($"list vcluster deployments in {ns}", (c, ct) => c.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: "app=vcluster", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            result.AddRange(deployments.Items.Where(d => d.Metadata.Labels?.ContainsKey("release") == true).Select(ControlPlane.From));
        }

        return result.OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Release, StringComparer.Ordinal).ToList();
    }

    internal async Task<ControlPlane?> TryGetControlPlaneAsync(string ns, string name, CancellationToken cancellationToken)
    {
        var selector = $"app=vcluster,release={name}";
        var sets = await _cluster.CallAsync($"find vcluster {ns}/{name}", (c, ct) => c.AppsV1.ListNamespacedStatefulSetAsync(ns, labelSelector: selector, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        if (sets.Items.FirstOrDefault() is { } sts)
        {
            return ControlPlane.From(sts);
        }

        var deployments = await _cluster.CallAsync($"find vcluster {ns}/{name}", (c, ct) => c.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: selector, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return deployments.Items.FirstOrDefault() is { } d ? ControlPlane.From(d) : null;
    }

    internal async Task<ControlPlane> GetControlPlaneAsync(string backendRef, CancellationToken cancellationToken)
    {
        var (ns, name) = KubeRefs.Parse(Name, backendRef);
        return await TryGetControlPlaneAsync(ns, name, cancellationToken).ConfigureAwait(false)
            ?? throw new RuntimeDriverException($"vcluster {ns}/{name} does not exist on {Name} (no StatefulSet or Deployment labelled app=vcluster,release={name} in {ns}); call list_runtimes") { Code = "not_found" };
    }

    internal async Task<IList<V1Pod>> ControlPlanePodsAsync(ControlPlane plane, CancellationToken cancellationToken)
    {
        var pods = await _cluster.CallAsync($"list pods of vcluster {plane.Namespace}/{plane.Release}",
            (c, ct) => c.CoreV1.ListNamespacedPodAsync(plane.Namespace, labelSelector: $"app=vcluster,release={plane.Release}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return pods.Items;
    }

    internal async Task<IList<V1Pod>> SyncedPodsAsync(ControlPlane plane, CancellationToken cancellationToken)
    {
        var pods = await _cluster.CallAsync($"list synced workloads of vcluster {plane.Namespace}/{plane.Release}",
            (c, ct) => c.CoreV1.ListNamespacedPodAsync(plane.Namespace, labelSelector: $"{VclusterNames.ManagedBy}={plane.Release}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return pods.Items;
    }

    /// <summary>The state as <c>vcluster list</c> reports it: Paused, Running, Pending, or an error.</summary>
    internal static (RuntimeState State, string? Reason) StateOf(ControlPlane plane, IList<V1Pod> pods)
    {
        if (plane.Paused)
        {
            return (RuntimeState.Stopped, "paused (loft.sh/paused)");
        }

        if (plane.Replicas == 0)
        {
            return (RuntimeState.Stopped, "control plane scaled to 0");
        }

        var unschedulable = pods.FirstOrDefault(p => p.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") == true);
        if (unschedulable is not null)
        {
            var message = unschedulable.Status.Conditions!.First(c => c.Type == "PodScheduled").Message;
            return (RuntimeState.Error, $"control plane pod {unschedulable.Metadata.Name} cannot be scheduled: {message}");
        }

        if (plane.ReadyReplicas >= plane.Replicas)
        {
            return (RuntimeState.Running, null);
        }

        return plane.ReadyReplicas == 0
            ? (RuntimeState.Creating, $"control plane starting ({plane.ReadyReplicas}/{plane.Replicas} ready)")
            : (RuntimeState.Degraded, $"control plane {plane.ReadyReplicas}/{plane.Replicas} ready");
    }

    private async Task AddInsideCountsAsync(ControlPlane plane, Dictionary<string, string> details, CancellationToken cancellationToken)
    {
        var secret = await _cluster.TryCallAsync($"read secret {plane.Namespace}/vc-{plane.Release}",
            (c, ct) => c.CoreV1.ReadNamespacedSecretAsync($"vc-{plane.Release}", plane.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        if (secret?.Data?.TryGetValue("config", out var kubeconfig) != true || kubeconfig!.Length == 0)
        {
            details["inside"] = $"no kubeconfig Secret vc-{plane.Release} yet";
            return;
        }

        try
        {
            // A describe does not wait long for a nested API: 5 s for both lists, retries included.
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(TimeSpan.FromSeconds(5));
            using var inside = KubeCluster.FromKubeconfig(kubeconfig, $"vcluster {plane.Release}", _cluster.Options.IsSandbox, _time);
            var nodes = await inside.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), bounded.Token).ConfigureAwait(false);
            var pods = await inside.CallAsync("list pods", (c, ct) => c.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: ct), bounded.Token).ConfigureAwait(false);
            details["nodes"] = nodes.Items.Count.ToString(CultureInfo.InvariantCulture);
            details["pods"] = pods.Items.Count.ToString(CultureInfo.InvariantCulture);
            details["pods_running"] = pods.Items.Count(p => p.Status?.Phase == "Running").ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is KubeApiException or ArgumentException)
        {
            details["inside"] = $"the virtual cluster's API does not answer: {ex.Message}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            details["inside"] = "the virtual cluster's API does not answer within 5 s";
        }
    }

    private async Task<(long MilliCpu, long MemoryMiB)?> UsageAsync(ControlPlane plane, CancellationToken cancellationToken)
    {
        JsonNode? metrics;
        try
        {
            metrics = await _cluster.TryGetAsync($"/apis/metrics.k8s.io/v1beta1/namespaces/{plane.Namespace}/pods", cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException)
        {
            return null;
        }

        if (metrics?["items"] is not JsonArray items)
        {
            return null;
        }

        long cpu = 0, memory = 0;
        var any = false;
        foreach (var item in items.OfType<JsonObject>())
        {
            var labels = item["metadata"]?["labels"] as JsonObject;
            var name = item["metadata"]?["name"]?.GetValue<string>() ?? string.Empty;
            var ours = labels?["release"]?.GetValue<string>() == plane.Release || labels?[VclusterNames.ManagedBy]?.GetValue<string>() == plane.Release
                       || name.StartsWith(plane.ObjectName + "-", StringComparison.Ordinal) || name.EndsWith("-x-" + plane.Release, StringComparison.Ordinal);
            if (!ours)
            {
                continue;
            }

            foreach (var container in (item["containers"] as JsonArray ?? []).OfType<JsonObject>())
            {
                cpu += KubeQuantities.MilliCpu(container["usage"]?["cpu"]?.GetValue<string>());
                memory += KubeQuantities.MiB(container["usage"]?["memory"]?.GetValue<string>());
                any = true;
            }
        }

        return any ? (cpu, memory) : null;
    }

    internal Task<IReadOnlyList<NodeRoom>> FreeByNodeAsync(CancellationToken cancellationToken) => NodeRoom.ListAsync(_cluster, cancellationToken);
}
