using k8s;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>Allocatable and free (allocatable minus pod requests) CPU and memory of one Ready, schedulable node.</summary>
internal sealed record NodeRoom(string Name, long AllocatableMilliCpu, long AllocatableMiB, long FreeMilliCpu, long FreeMiB)
{
    public static async Task<IReadOnlyList<NodeRoom>> ListAsync(KubeCluster cluster, CancellationToken cancellationToken)
    {
        var nodes = await cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        var pods = await cluster.CallAsync("list pods", (c, ct) => c.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        var rooms = new List<NodeRoom>();
        foreach (var node in nodes.Items)
        {
            var ready = node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true && node.Spec?.Unschedulable != true;
            if (!ready)
            {
                continue;
            }

            var cpu = KubeQuantities.MilliCpu(KubeQuantities.Get(node.Status!.Allocatable, "cpu"));
            var memory = KubeQuantities.MiB(KubeQuantities.Get(node.Status.Allocatable, "memory"));
            long usedCpu = 0, usedMemory = 0;
            foreach (var container in pods.Items.Where(p => p.Spec?.NodeName == node.Metadata.Name && p.Status?.Phase is not ("Succeeded" or "Failed")).SelectMany(p => p.Spec.Containers))
            {
                usedCpu += KubeQuantities.MilliCpu(KubeQuantities.Get(container.Resources?.Requests, "cpu"));
                usedMemory += KubeQuantities.MiB(KubeQuantities.Get(container.Resources?.Requests, "memory"));
            }

            rooms.Add(new NodeRoom(node.Metadata.Name, cpu, memory, cpu - usedCpu, memory - usedMemory));
        }

        return rooms;
    }
}
