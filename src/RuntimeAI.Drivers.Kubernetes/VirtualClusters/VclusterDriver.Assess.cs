using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

public sealed partial class VclusterDriver
{
    /// <summary>
    /// Quota and node capacity for create and scale, disruption budgets for stop and restart, and
    /// the synced workloads a pause (stop) or delete removes.
    /// </summary>
    public async Task<ActionAssessment> AssessAsync(PlannedAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var blocking = new List<string>();
        var notes = new List<string>();
        var disrupted = new List<string>();
        ControlPlane? plane = action.BackendRef is null ? null : await GetControlPlaneAsync(action.BackendRef, cancellationToken).ConfigureAwait(false);
        switch (action.Action)
        {
            case ActionType.Create or ActionType.Scale when action.Target is { } target:
            {
                var ns = plane?.Namespace ?? action.Namespace ?? $"vcluster-{action.Name}";
                var replicas = VclusterTemplate.ReplicasFor(target.Vcpus);
                var currentCpu = plane is null ? 0 : (long)plane.Vcpus * 1000 * plane.Replicas;
                var currentMemory = plane is null ? 0 : plane.MemoryMiB * plane.Replicas;
                var addCpu = (long)target.Vcpus * 1000 * replicas - currentCpu;
                var addMemory = target.MemoryMiB * replicas - currentMemory;
                blocking.AddRange(await Disruption.QuotaRefusalsAsync(_cluster, ns, addCpu, addMemory, replicas - (plane?.Replicas ?? 0), cancellationToken).ConfigureAwait(false));
                var rooms = await FreeByNodeAsync(cancellationToken).ConfigureAwait(false);
                var fitting = rooms.Count(r => r.FreeMilliCpu >= target.Vcpus * 1000L && r.FreeMiB >= target.MemoryMiB);
                if (fitting < (replicas > 1 ? 1 : replicas))
                {
                    var best = rooms.OrderByDescending(r => r.FreeMiB).FirstOrDefault();
                    blocking.Add($"no node can fit a control-plane replica of {target.Vcpus} vCPU / {target.MemoryMiB} MiB (most room: {(best is null ? "no ready node" : $"{best.Name} with {KubeQuantities.Cpu(best.FreeMilliCpu)} CPU / {best.FreeMiB} MiB free")}); choose a smaller size or add nodes");
                }
                else if (replicas > 1)
                {
                    notes.Add($"high availability: {replicas} control-plane replicas; {fitting} node(s) have room for one");
                }

                break;
            }

            case ActionType.Stop or ActionType.Delete when plane is not null:
            {
                var synced = await SyncedPodsAsync(plane, cancellationToken).ConfigureAwait(false);
                disrupted.AddRange(synced.Select(p => $"pod {KubeMeta.Label(p.Metadata.Labels, "vcluster.loft.sh/namespace") ?? plane.Namespace}/{KubeMeta.Label(p.Metadata.Labels, "vcluster.loft.sh/object-name") ?? p.Metadata.Name}"));
                if (synced.Count > 0)
                {
                    notes.Add($"{(action.Action == ActionType.Stop ? "pausing" : "deleting")} removes {synced.Count} workload pod(s) the vcluster synced to the host; {(action.Action == ActionType.Stop ? "they come back on resume" : "they do not come back")}");
                }

                var pods = await ControlPlanePodsAsync(plane, cancellationToken).ConfigureAwait(false);
                blocking.AddRange(await Disruption.BudgetRefusalsAsync(_cluster, plane.Namespace, [.. pods, .. synced], int.MaxValue, action.Action == ActionType.Stop ? "the pause" : "the delete", cancellationToken).ConfigureAwait(false));
                if (action.Action == ActionType.Delete && KubeMeta.Label(new Dictionary<string, string>(plane.Annotations), VclusterNames.NonDeletable) == "true")
                {
                    blocking.Add($"vcluster {plane.Namespace}/{plane.Release} is marked {VclusterNames.NonDeletable}=true; remove the annotation first if it really must go");
                }

                break;
            }

            case ActionType.Restart when plane is not null:
            {
                var pods = await ControlPlanePodsAsync(plane, cancellationToken).ConfigureAwait(false);
                blocking.AddRange(await Disruption.BudgetRefusalsAsync(_cluster, plane.Namespace, pods, 1, "the rollout restart", cancellationToken).ConfigureAwait(false));
                disrupted.AddRange(pods.Select(p => $"control-plane pod {plane.Namespace}/{p.Metadata.Name}"));
                break;
            }
        }

        return new ActionAssessment { BlockingReasons = blocking, Notes = notes, Disrupted = disrupted };
    }
}
