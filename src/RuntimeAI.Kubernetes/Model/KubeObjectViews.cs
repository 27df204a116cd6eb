using System.Text.Json.Nodes;

namespace RuntimeAI.Kubernetes.Model;

/// <summary>Typed readings of the kinds drivers reason about. Each reads the object's JSON; none copies it back.</summary>
public static class KubeObjectViews
{
    /// <summary>A Namespace's <c>status.phase</c> (<c>Active</c> or <c>Terminating</c>).</summary>
    /// <param name="ns">A Namespace.</param>
    /// <returns>The phase, or <see langword="null"/>.</returns>
    public static string? GetNamespacePhase(this KubeObject ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return KubeObject.GetString(ns.Status, "phase");
    }

    /// <summary>A Secret's <c>data</c> entry, base64-decoded as UTF-8 (e.g. the kubeconfig in a vcluster's <c>vc-NAME</c> Secret).</summary>
    /// <param name="secret">A Secret.</param>
    /// <param name="key">The data key, e.g. <c>config</c>.</param>
    /// <returns>The text, or <see langword="null"/> when the key is absent or not base64.</returns>
    public static string? GetSecretString(this KubeObject secret, string key)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (KubeObject.GetString(secret.Json["stringData"] as JsonObject, key) is { } plain)
        {
            return plain;
        }

        var encoded = KubeObject.GetString(secret.Json["data"] as JsonObject, key);
        if (encoded is null)
        {
            return null;
        }

        try
        {
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A Pod's status (phase, conditions, container states).</summary>
    /// <param name="pod">A Pod.</param>
    /// <returns>The status; empty when absent.</returns>
    public static PodStatus GetPodStatus(this KubeObject pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return KubeObject.Read(pod.Status, KubeJsonContext.Default.PodStatus) ?? new PodStatus();
    }

    /// <summary>Whether a Pod's <c>Ready</c> condition is <c>True</c>.</summary>
    /// <param name="pod">A Pod.</param>
    /// <returns>Readiness.</returns>
    public static bool IsPodReady(this KubeObject pod) =>
        pod.GetPodStatus().Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>A Deployment's or StatefulSet's <c>spec.replicas</c> (1 when unset, as the API defaults it).</summary>
    /// <param name="workload">A Deployment, StatefulSet or ReplicaSet.</param>
    /// <returns>Desired replicas.</returns>
    public static int GetDesiredReplicas(this KubeObject workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return workload.Spec?["replicas"] is JsonValue v && v.TryGetValue<int>(out var replicas) ? replicas : 1;
    }

    /// <summary>A Deployment's or StatefulSet's replica counters.</summary>
    /// <param name="workload">A Deployment, StatefulSet or ReplicaSet.</param>
    /// <returns>The status; zeros when absent.</returns>
    public static WorkloadStatus GetWorkloadStatus(this KubeObject workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return KubeObject.Read(workload.Status, KubeJsonContext.Default.WorkloadStatus) ?? new WorkloadStatus();
    }

    /// <summary>A Node's capacity, allocatable resources and conditions.</summary>
    /// <param name="node">A Node.</param>
    /// <returns>The status; empty when absent.</returns>
    public static NodeStatus GetNodeStatus(this KubeObject node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return KubeObject.Read(node.Status, KubeJsonContext.Default.NodeStatus) ?? new NodeStatus();
    }

    /// <summary>A KubeVirt VirtualMachine's run strategy and printable status.</summary>
    /// <param name="vm">A kubevirt.io VirtualMachine.</param>
    /// <returns>The state.</returns>
    public static VirtualMachineState GetVirtualMachineState(this KubeObject vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var strategy = KubeObject.GetString(vm.Spec, "runStrategy");
        if (strategy is null && vm.Spec?["running"] is JsonValue running && running.TryGetValue<bool>(out var isRunning))
        {
            // spec.running is the deprecated spelling of Always/Halted.
            strategy = isRunning ? "Always" : "Halted";
        }

        return new VirtualMachineState(
            strategy,
            KubeObject.GetString(vm.Status, "printableStatus"),
            vm.Status?["ready"] is JsonValue r && r.TryGetValue<bool>(out var ready) && ready,
            vm.Status?["created"] is JsonValue c && c.TryGetValue<bool>(out var created) && created);
    }
}
