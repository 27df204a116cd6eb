namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

/// <summary>The labels and annotations the vcluster chart and CLI use, and ours.</summary>
internal static class VclusterNames
{
    /// <summary>Set by <c>vcluster pause</c> on the control plane workload.</summary>
    public const string Paused = "loft.sh/paused";

    /// <summary>The replica count <c>vcluster pause</c> recorded, restored by <c>vcluster resume</c>.</summary>
    public const string PausedReplicas = "loft.sh/paused-replicas";

    /// <summary>A virtual cluster the platform protects from deletion.</summary>
    public const string NonDeletable = "loft.sh/non-deletable";

    /// <summary>Label the syncer puts on host objects of a virtual cluster (value: the vcluster's name).</summary>
    public const string ManagedBy = "vcluster.loft.sh/managed-by";

    public const string SnapshotRequest = "vcluster.loft.sh/snapshot-request";
    public const string RestoreRequest = "vcluster.loft.sh/restore-request";
    public const string VclusterName = "vcluster.loft.sh/vcluster-name";

    /// <summary>The runtime id of a runtime created through RuntimeAI.</summary>
    public const string RuntimeId = "runtimeai.io/runtime-id";
    public const string Tenant = "runtimeai.io/tenant";
    public const string Labels = "runtimeai.io/labels";
    public const string TemplateVersion = "runtimeai.io/template-version";
    public const string SnapshotName = "runtimeai.io/snapshot-name";
    public const string Description = "runtimeai.io/description";
    public const string ManagedNamespace = "runtimeai.io/managed-namespace";
}
