using k8s.Models;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

/// <summary>A vcluster's control-plane workload (StatefulSet, or Deployment for older distros), as the driver reads it.</summary>
internal sealed record ControlPlane(
    string Kind,
    string Namespace,
    string ObjectName,
    string Release,
    int Replicas,
    int ReadyReplicas,
    IReadOnlyDictionary<string, string> Annotations,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset CreatedAt,
    int Vcpus,
    long MemoryMiB,
    string ResourceVersion)
{
    public const string StatefulSet = "StatefulSet";
    public const string Deployment = "Deployment";

    public bool Paused => Annotations.GetValueOrDefault(VclusterNames.Paused) == "true";

    public static ControlPlane From(V1StatefulSet sts) => Create(StatefulSet, sts.Metadata, sts.Spec?.Replicas ?? 1, sts.Status?.ReadyReplicas ?? 0, sts.Spec?.Template?.Spec);

    public static ControlPlane From(V1Deployment deployment) => Create(Deployment, deployment.Metadata, deployment.Spec?.Replicas ?? 1, deployment.Status?.ReadyReplicas ?? 0, deployment.Spec?.Template?.Spec);

    private static ControlPlane Create(string kind, V1ObjectMeta meta, int replicas, int ready, V1PodSpec? pod)
    {
        var requests = pod?.Containers?.FirstOrDefault()?.Resources?.Requests;
        var milli = KubeQuantities.MilliCpu(KubeQuantities.Get(requests, "cpu"));
        return new ControlPlane(
            kind,
            meta.NamespaceProperty,
            meta.Name,
            KubeMeta.Label(meta.Labels, "release") ?? meta.Name,
            replicas,
            ready,
            new Dictionary<string, string>(meta.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            new Dictionary<string, string>(meta.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            meta.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : DateTimeOffset.MinValue,
            (int)Math.Max(1, (milli + 999) / 1000),
            Math.Max(0, KubeQuantities.MiB(KubeQuantities.Get(requests, "memory"))),
            meta.ResourceVersion);
    }
}
