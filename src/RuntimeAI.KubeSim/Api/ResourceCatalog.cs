namespace RuntimeAI.KubeSim.Api;

/// <summary>The resources one simulated API serves: the built-in set plus any CustomResourceDefinitions created at run time.</summary>
internal sealed class ResourceCatalog
{
    private static readonly string[] s_all = ["all"];
    private static readonly string[] s_none = [];
    private static readonly string[] s_status = ["status"];
    private static readonly string[] s_statusScale = ["status", "scale"];

    private readonly Lock _gate = new();
    private readonly List<ResourceType> _types = [.. BuiltIns()];

    public static ResourceType Namespaces { get; } = T("", "v1", "namespaces", "Namespace", false, ["ns"], ["status", "finalize"]);
    public static ResourceType Pods { get; } = T("", "v1", "pods", "Pod", true, ["po"], ["status", "log", "eviction", "binding"], s_all);
    public static ResourceType Services { get; } = T("", "v1", "services", "Service", true, ["svc"], s_status, s_all);
    public static ResourceType Endpoints { get; } = T("", "v1", "endpoints", "Endpoints", true, ["ep"]);
    public static ResourceType ConfigMaps { get; } = T("", "v1", "configmaps", "ConfigMap", true, ["cm"]);
    public static ResourceType Secrets { get; } = T("", "v1", "secrets", "Secret", true, s_none);
    public static ResourceType Events { get; } = T("", "v1", "events", "Event", true, ["ev"]);
    public static ResourceType Nodes { get; } = T("", "v1", "nodes", "Node", false, ["no"], s_status);
    public static ResourceType PersistentVolumeClaims { get; } = T("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, ["pvc"], s_status);
    public static ResourceType ResourceQuotas { get; } = T("", "v1", "resourcequotas", "ResourceQuota", true, ["quota"], s_status);
    public static ResourceType ServiceAccounts { get; } = T("", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"]);
    public static ResourceType Deployments { get; } = T("apps", "v1", "deployments", "Deployment", true, ["deploy"], s_statusScale, s_all);
    public static ResourceType ReplicaSets { get; } = T("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], s_statusScale, s_all);
    public static ResourceType StatefulSets { get; } = T("apps", "v1", "statefulsets", "StatefulSet", true, ["sts"], s_statusScale, s_all);
    public static ResourceType PodDisruptionBudgets { get; } = T("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, ["pdb"], s_status);
    public static ResourceType CustomResourceDefinitions { get; } = T("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, ["crd", "crds"], s_status);
    public static ResourceType PodMetrics { get; } = T("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", true, s_none) with { ReadOnly = true };
    public static ResourceType NodeMetrics { get; } = T("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", false, s_none) with { ReadOnly = true };
    public static ResourceType VirtualMachines { get; } = T("kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true, ["vm", "vms"], s_status, s_all);
    public static ResourceType VirtualMachineInstances { get; } = T("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true, ["vmi", "vmis"], s_status, s_all);
    public static ResourceType Snapshots { get; } = T("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot", true, ["vmsnapshot", "vmsnapshots"], s_status);
    public static ResourceType SnapshotContents { get; } = T("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshotcontents", "VirtualMachineSnapshotContent", true, ["vmsnapshotcontent"], s_status);
    public static ResourceType Restores { get; } = T("snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore", true, ["vmrestore", "vmrestores"], s_status);
    public static ResourceType ClusterInstancetypes { get; } = T("instancetype.kubevirt.io", "v1beta1", "virtualmachineclusterinstancetypes", "VirtualMachineClusterInstancetype", false, ["vmclusterinstancetype", "vmcf"]);
    public static ResourceType Instancetypes { get; } = T("instancetype.kubevirt.io", "v1beta1", "virtualmachineinstancetypes", "VirtualMachineInstancetype", true, ["vminstancetype", "vmf"]);
    public static ResourceType ClusterPreferences { get; } = T("instancetype.kubevirt.io", "v1beta1", "virtualmachineclusterpreferences", "VirtualMachineClusterPreference", false, ["vmcp"]);
    public static ResourceType Preferences { get; } = T("instancetype.kubevirt.io", "v1beta1", "virtualmachinepreferences", "VirtualMachinePreference", true, ["vmpref"]);

    // RBAC objects are stored and served (so manifests with a ServiceAccount's roles apply, dry-run or not); the
    // simulator does not enforce them: every client may do everything.
    public static ResourceType Roles { get; } = T("rbac.authorization.k8s.io", "v1", "roles", "Role", true, s_none);
    public static ResourceType RoleBindings { get; } = T("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, s_none);
    public static ResourceType ClusterRoles { get; } = T("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, s_none);
    public static ResourceType ClusterRoleBindings { get; } = T("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, s_none);

    public static ResourceType SelfSubjectAccessReviews { get; } = T("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, s_none) with { Review = true };
    public static ResourceType SelfSubjectRulesReviews { get; } = T("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", true, s_none) with { Review = true };
    public static ResourceType SelfSubjectReviews { get; } = T("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", false, s_none) with { Review = true };

    /// <summary>The KubeVirt lifecycle verbs are served under this group, like virt-api's aggregated API.</summary>
    public const string KubeVirtSubresourceGroup = "subresources.kubevirt.io";

    public static readonly string[] VirtualMachineActions = ["start", "stop", "restart", "migrate"];
    public static readonly string[] VirtualMachineInstanceActions = ["pause", "unpause"];

    private static IEnumerable<ResourceType> BuiltIns() =>
    [
        Namespaces, Pods, Services, Endpoints, ConfigMaps, Secrets, Events, Nodes, PersistentVolumeClaims, ResourceQuotas,
        ServiceAccounts, Deployments, ReplicaSets, StatefulSets, PodDisruptionBudgets, CustomResourceDefinitions, PodMetrics,
        NodeMetrics, VirtualMachines, VirtualMachineInstances, Snapshots, SnapshotContents, Restores, ClusterInstancetypes,
        Instancetypes, ClusterPreferences, Preferences, Roles, RoleBindings, ClusterRoles, ClusterRoleBindings, SelfSubjectAccessReviews, SelfSubjectRulesReviews, SelfSubjectReviews,
    ];

    private static ResourceType T(string group, string version, string resource, string kind, bool namespaced, string[] shortNames, string[]? subresources = null, string[]? categories = null) =>
        new(group, version, resource, kind, namespaced, shortNames, subresources ?? s_none, categories ?? s_none);

    public IReadOnlyList<ResourceType> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _types];
            }
        }
    }

    public ResourceType? Find(string group, string version, string resource)
    {
        lock (_gate)
        {
            return _types.FirstOrDefault(t => t.Group == group && t.Version == version && t.Resource == resource);
        }
    }

    public ResourceType? FindByKind(string apiVersion, string kind)
    {
        lock (_gate)
        {
            return _types.FirstOrDefault(t => t.ApiVersion == apiVersion && t.Kind == kind);
        }
    }

    /// <summary>Group versions in the order discovery lists them (core first, then by group).</summary>
    public IReadOnlyList<(string Group, string Version)> GroupVersions()
    {
        lock (_gate)
        {
            var list = _types.Where(t => t.Group.Length > 0).Select(t => (t.Group, t.Version)).Distinct().ToList();
            if (!list.Contains((KubeVirtSubresourceGroup, "v1")))
            {
                list.Add((KubeVirtSubresourceGroup, "v1"));
            }

            return list;
        }
    }

    public void Add(ResourceType type)
    {
        lock (_gate)
        {
            _types.RemoveAll(t => t.Group == type.Group && t.Version == type.Version && t.Resource == type.Resource);
            _types.Add(type);
        }
    }

    public void Remove(string group, string resource)
    {
        lock (_gate)
        {
            _types.RemoveAll(t => t.Group == group && t.Resource == resource && !BuiltIns().Contains(t));
        }
    }
}
