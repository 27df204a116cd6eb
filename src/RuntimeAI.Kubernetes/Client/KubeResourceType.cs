namespace RuntimeAI.Kubernetes.Client;

/// <summary>
/// A resource type as the API addresses it: group, version, plural, and whether it is namespaced.
/// Obtain one from <see cref="KubeApiClient.ResolveAsync(string, string, CancellationToken)"/>
/// (discovery), from <see cref="KubeResourceTypes"/>, or construct it when discovery is not served.
/// </summary>
/// <param name="Group">API group; empty for the core group.</param>
/// <param name="Version">API version, e.g. <c>v1</c>.</param>
/// <param name="Plural">The resource (plural) name used in URLs, e.g. <c>deployments</c>.</param>
/// <param name="Kind">The object kind, e.g. <c>Deployment</c>.</param>
/// <param name="Namespaced">Whether objects live in a namespace.</param>
public sealed record KubeResourceType(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    /// <summary><c>group/version</c>, or just <c>version</c> for the core group.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Builds the URL path for a collection, an object or a subresource.</summary>
    /// <param name="namespace">The namespace; ignored for cluster-scoped types; <see langword="null"/> lists across all namespaces.</param>
    /// <param name="name">The object name, or <see langword="null"/> for the collection.</param>
    /// <param name="subresource">e.g. <c>scale</c>, <c>status</c>, <c>log</c>, <c>start</c>.</param>
    /// <returns>The absolute path (no query).</returns>
    public string GetPath(string? @namespace, string? name = null, string? subresource = null)
    {
        var path = Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";
        if (Namespaced && !string.IsNullOrEmpty(@namespace))
        {
            path += $"/namespaces/{Uri.EscapeDataString(@namespace)}";
        }

        path += "/" + Plural;
        if (!string.IsNullOrEmpty(name))
        {
            path += "/" + Uri.EscapeDataString(name);
            if (!string.IsNullOrEmpty(subresource))
            {
                path += "/" + subresource;
            }
        }

        return path;
    }

    /// <summary>Parses <c>group/version</c> or <c>version</c>.</summary>
    /// <param name="apiVersion">The apiVersion.</param>
    /// <returns>The group (possibly empty) and version.</returns>
    public static (string Group, string Version) SplitApiVersion(string apiVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiVersion);
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (string.Empty, apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }

    internal string Describe(string? @namespace, string? name)
    {
        var what = name is null ? Plural : $"{Plural} \"{name}\"";
        if (Group.Length > 0)
        {
            what = $"{Plural}.{Group}" + (name is null ? string.Empty : $" \"{name}\"");
        }

        return Namespaced && !string.IsNullOrEmpty(@namespace) ? $"{what} in namespace \"{@namespace}\"" : what;
    }
}

/// <summary>The resource types the drivers use, so they need no discovery round trip.</summary>
public static class KubeResourceTypes
{
    /// <summary>core/v1 Namespace.</summary>
    public static KubeResourceType Namespaces { get; } = new("", "v1", "namespaces", "Namespace", false);

    /// <summary>core/v1 Node.</summary>
    public static KubeResourceType Nodes { get; } = new("", "v1", "nodes", "Node", false);

    /// <summary>core/v1 Pod.</summary>
    public static KubeResourceType Pods { get; } = new("", "v1", "pods", "Pod", true);

    /// <summary>core/v1 Service.</summary>
    public static KubeResourceType Services { get; } = new("", "v1", "services", "Service", true);

    /// <summary>core/v1 ConfigMap.</summary>
    public static KubeResourceType ConfigMaps { get; } = new("", "v1", "configmaps", "ConfigMap", true);

    /// <summary>core/v1 Secret.</summary>
    public static KubeResourceType Secrets { get; } = new("", "v1", "secrets", "Secret", true);

    /// <summary>core/v1 Event.</summary>
    public static KubeResourceType Events { get; } = new("", "v1", "events", "Event", true);

    /// <summary>core/v1 PersistentVolumeClaim.</summary>
    public static KubeResourceType PersistentVolumeClaims { get; } = new("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true);

    /// <summary>core/v1 ResourceQuota.</summary>
    public static KubeResourceType ResourceQuotas { get; } = new("", "v1", "resourcequotas", "ResourceQuota", true);

    /// <summary>apps/v1 Deployment.</summary>
    public static KubeResourceType Deployments { get; } = new("apps", "v1", "deployments", "Deployment", true);

    /// <summary>apps/v1 ReplicaSet.</summary>
    public static KubeResourceType ReplicaSets { get; } = new("apps", "v1", "replicasets", "ReplicaSet", true);

    /// <summary>apps/v1 StatefulSet.</summary>
    public static KubeResourceType StatefulSets { get; } = new("apps", "v1", "statefulsets", "StatefulSet", true);

    /// <summary>policy/v1 PodDisruptionBudget.</summary>
    public static KubeResourceType PodDisruptionBudgets { get; } = new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true);

    /// <summary>core/v1 ServiceAccount.</summary>
    public static KubeResourceType ServiceAccounts { get; } = new("", "v1", "serviceaccounts", "ServiceAccount", true);

    /// <summary>core/v1 Endpoints.</summary>
    public static KubeResourceType Endpoints { get; } = new("", "v1", "endpoints", "Endpoints", true);

    /// <summary>metrics.k8s.io/v1beta1 PodMetrics (read-only).</summary>
    public static KubeResourceType PodMetrics { get; } = new("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", true);

    /// <summary>metrics.k8s.io/v1beta1 NodeMetrics (read-only).</summary>
    public static KubeResourceType NodeMetrics { get; } = new("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", false);

    /// <summary>apiextensions.k8s.io/v1 CustomResourceDefinition.</summary>
    public static KubeResourceType CustomResourceDefinitions { get; } = new("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false);

    /// <summary>instancetype.kubevirt.io/v1beta1 VirtualMachineClusterInstancetype (the u1 series).</summary>
    public static KubeResourceType VirtualMachineClusterInstancetypes { get; } = new("instancetype.kubevirt.io", "v1beta1", "virtualmachineclusterinstancetypes", "VirtualMachineClusterInstancetype", false);

    /// <summary>kubevirt.io/v1 VirtualMachine.</summary>
    public static KubeResourceType VirtualMachines { get; } = new("kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true);

    /// <summary>kubevirt.io/v1 VirtualMachineInstance.</summary>
    public static KubeResourceType VirtualMachineInstances { get; } = new("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true);

    /// <summary>
    /// subresources.kubevirt.io/v1 virtualmachines: address <c>start</c>, <c>stop</c>, <c>restart</c>
    /// with <see cref="KubeApiClient.SendSubresourceAsync"/>.
    /// </summary>
    public static KubeResourceType VirtualMachineSubresources { get; } = new("subresources.kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true);

    /// <summary>subresources.kubevirt.io/v1 virtualmachineinstances: <c>pause</c>, <c>unpause</c>.</summary>
    public static KubeResourceType VirtualMachineInstanceSubresources { get; } = new("subresources.kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true);

    /// <summary>snapshot.kubevirt.io/v1beta1 VirtualMachineSnapshot.</summary>
    public static KubeResourceType VirtualMachineSnapshots { get; } = new("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot", true);

    /// <summary>snapshot.kubevirt.io/v1beta1 VirtualMachineRestore.</summary>
    public static KubeResourceType VirtualMachineRestores { get; } = new("snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore", true);
}
