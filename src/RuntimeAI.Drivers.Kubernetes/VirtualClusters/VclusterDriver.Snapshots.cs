using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

public sealed partial class VclusterDriver
{
    /// <summary>Where snapshots go: inside the control plane's data volume, as <c>vcluster snapshot create NAME container:///…</c>.</summary>
    internal static string SnapshotUrl(string name, string snapshot) => $"container:///data/snapshots/{name}-{snapshot}.tar.gz";

    /// <summary>
    /// Takes a snapshot as the current vcluster CLI does: a snapshot request ConfigMap and an options
    /// Secret in the vcluster's namespace, processed by the control plane, which writes the backing
    /// store (etcd) to a <c>container://</c> target in its data volume. Waits for Completed or Failed.
    /// </summary>
    public async Task<SnapshotInfo> SnapshotAsync(string backendRef, string name, string? description, CancellationToken cancellationToken)
    {
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        var (state, _) = StateOf(plane, await ControlPlanePodsAsync(plane, cancellationToken).ConfigureAwait(false));
        if (state != RuntimeState.Running)
        {
            throw new RuntimeDriverException($"vcluster {plane.Namespace}/{plane.Release} is {state.ToString().ToLowerInvariant()}; a snapshot needs a running control plane (start_runtime first)") { Code = "invalid_state" };
        }

        var requestName = RequestName(plane.Release, "snapshot", name);
        var url = SnapshotUrl(plane.Release, KubeNames.ObjectName(name));
        var labels = RequestLabels(plane.Release, VclusterNames.SnapshotRequest);
        var request = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = requestName },
            ["spec"] = new JsonObject { ["url"] = url },
            ["status"] = new JsonObject { ["phase"] = "New" },
        };
        var now = _time.GetUtcNow().UtcDateTime;
        await _cluster.CallAsync($"create snapshot options secret {plane.Namespace}/{requestName}", (c, ct) => c.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = requestName, NamespaceProperty = plane.Namespace, Labels = labels, Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [VclusterNames.SnapshotName] = name } },
            Data = new Dictionary<string, byte[]>(StringComparer.Ordinal)
            {
                ["snapshotOptions"] = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "container", ["container"] = new JsonObject { ["path"] = url["container://".Length..] } }.ToJsonString()),
            },
        }, plane.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        try
        {
            await _cluster.CallAsync($"create snapshot request {plane.Namespace}/{requestName}", (c, ct) => c.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
            {
                Metadata = new V1ObjectMeta
                {
                    Name = requestName,
                    NamespaceProperty = plane.Namespace,
                    Labels = labels,
                    Annotations = description is null
                        ? new Dictionary<string, string>(StringComparer.Ordinal) { [VclusterNames.SnapshotName] = name }
                        : new Dictionary<string, string>(StringComparer.Ordinal) { [VclusterNames.SnapshotName] = name, [VclusterNames.Description] = description },
                },
                Data = new Dictionary<string, string>(StringComparer.Ordinal) { ["snapshotRequest"] = request.ToJsonString() },
            }, plane.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException ex) when (ex.Code == "already_exists")
        {
            throw new RuntimeDriverException($"vcluster {plane.Namespace}/{plane.Release} already has a snapshot named '{name}'; choose another name") { Code = "already_exists" };
        }

        var (phase, message) = await WaitForRequestAsync(plane.Namespace, requestName, "snapshotRequest", cancellationToken).ConfigureAwait(false);
        if (phase != "Completed")
        {
            await DeleteRequestAsync(plane.Namespace, requestName, CancellationToken.None).ConfigureAwait(false);
            throw new RuntimeDriverException($"snapshot '{name}' of vcluster {plane.Namespace}/{plane.Release} {(phase == "Failed" ? "failed" : "did not finish")}: {message}") { Code = "snapshot_failed" };
        }

        return new SnapshotInfo(name, description, new DateTimeOffset(now, TimeSpan.Zero), state, false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string backendRef, CancellationToken cancellationToken)
    {
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        var maps = await _cluster.CallAsync($"list snapshot requests of {plane.Namespace}/{plane.Release}",
            (c, ct) => c.CoreV1.ListNamespacedConfigMapAsync(plane.Namespace, labelSelector: $"{VclusterNames.SnapshotRequest}=true,{VclusterNames.VclusterName}={plane.Release}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return maps.Items
            .Where(m => Phase(m, "snapshotRequest").Phase == "Completed")
            .Select(m => new SnapshotInfo(
                KubeMeta.Label(m.Metadata.Annotations, VclusterNames.SnapshotName) ?? m.Metadata.Name,
                KubeMeta.Label(m.Metadata.Annotations, VclusterNames.Description),
                m.Metadata.CreationTimestamp is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : DateTimeOffset.MinValue,
                RuntimeState.Running,
                false))
            .OrderBy(s => s.CreatedAt)
            .ToList();
    }

    /// <summary>Restores from a snapshot through a restore request the control plane processes; waits for Completed or Failed.</summary>
    public async Task<MutationResult> RestoreSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken)
    {
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        var (state, _) = StateOf(plane, await ControlPlanePodsAsync(plane, cancellationToken).ConfigureAwait(false));
        var snapshots = await ListSnapshotsAsync(backendRef, cancellationToken).ConfigureAwait(false);
        if (snapshots.All(s => s.Name != snapshotName))
        {
            throw new RuntimeDriverException(
                $"vcluster {plane.Namespace}/{plane.Release} has no snapshot '{snapshotName}'; list_snapshots shows: {string.Join(", ", snapshots.Select(s => s.Name).DefaultIfEmpty("(none)"))}")
            { Code = "not_found" };
        }

        if (state != RuntimeState.Running)
        {
            throw new RuntimeDriverException($"vcluster {plane.Namespace}/{plane.Release} is {state.ToString().ToLowerInvariant()}; a restore needs a running control plane (start_runtime first)") { Code = "invalid_state" };
        }

        var requestName = RequestName(plane.Release, "restore", $"{snapshotName}-{_time.GetUtcNow().ToUnixTimeMilliseconds()}");
        var request = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = requestName },
            ["spec"] = new JsonObject { ["url"] = SnapshotUrl(plane.Release, KubeNames.ObjectName(snapshotName)) },
            ["status"] = new JsonObject { ["phase"] = "New" },
        };
        var labels = RequestLabels(plane.Release, VclusterNames.RestoreRequest);
        await _cluster.CallAsync($"create restore request {plane.Namespace}/{requestName}", (c, ct) => c.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = requestName, NamespaceProperty = plane.Namespace, Labels = labels },
            Data = new Dictionary<string, string>(StringComparer.Ordinal) { ["restoreRequest"] = request.ToJsonString() },
        }, plane.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        var (phase, message) = await WaitForRequestAsync(plane.Namespace, requestName, "restoreRequest", cancellationToken).ConfigureAwait(false);
        await DeleteRequestAsync(plane.Namespace, requestName, CancellationToken.None).ConfigureAwait(false);
        if (phase != "Completed")
        {
            throw new RuntimeDriverException($"restore of vcluster {plane.Namespace}/{plane.Release} from '{snapshotName}' {(phase == "Failed" ? "failed" : "did not finish")}: {message}") { Code = "restore_failed" };
        }

        return new MutationResult { PreviousState = state, NewState = RuntimeState.Running, Notes = [message ?? $"restored from {snapshotName}"] };
    }

    /// <inheritdoc />
    public async Task DeleteSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken)
    {
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        var requestName = RequestName(plane.Release, "snapshot", snapshotName);
        var existing = await _cluster.TryCallAsync($"read snapshot request {plane.Namespace}/{requestName}",
            (c, ct) => c.CoreV1.ReadNamespacedConfigMapAsync(requestName, plane.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            throw new RuntimeDriverException($"vcluster {plane.Namespace}/{plane.Release} has no snapshot '{snapshotName}'") { Code = "not_found" };
        }

        await DeleteRequestAsync(plane.Namespace, requestName, cancellationToken).ConfigureAwait(false);
    }

    private static string RequestName(string vcluster, string kind, string name) => KubeNames.ObjectName($"{vcluster}-{kind}-{name}");

    private static Dictionary<string, string> RequestLabels(string vcluster, string requestLabel) => new(StringComparer.Ordinal)
    {
        [requestLabel] = "true",
        [VclusterNames.VclusterName] = vcluster,
    };

    private static (string Phase, string? Message) Phase(V1ConfigMap map, string key)
    {
        var request = map.Data?.TryGetValue(key, out var text) == true ? JsonNode.Parse(text) : null;
        return (request?["status"]?["phase"]?.GetValue<string>() ?? "New", request?["status"]?["message"]?.GetValue<string>());
    }

    private async Task<(string Phase, string? Message)> WaitForRequestAsync(string ns, string requestName, string key, CancellationToken cancellationToken)
    {
        var (last, _) = await Converge.UntilAsync(
            async ct =>
            {
                var map = await _cluster.CallAsync($"read request {ns}/{requestName}", (c, t) => c.CoreV1.ReadNamespacedConfigMapAsync(requestName, ns, cancellationToken: t), ct).ConfigureAwait(false);
                return Phase(map, key);
            },
            p => p.Phase is "Completed" or "Failed",
            _cluster.Options, _time, cancellationToken).ConfigureAwait(false);
        return last;
    }

    private async Task DeleteRequestAsync(string ns, string requestName, CancellationToken cancellationToken)
    {
        await _cluster.TryCallAsync($"delete request {ns}/{requestName}", (c, ct) => c.CoreV1.DeleteNamespacedConfigMapAsync(requestName, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        await _cluster.TryCallAsync($"delete request options {ns}/{requestName}", (c, ct) => c.CoreV1.DeleteNamespacedSecretAsync(requestName, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
    }
}
