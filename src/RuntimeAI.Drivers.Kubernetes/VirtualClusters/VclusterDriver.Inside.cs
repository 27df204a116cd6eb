using k8s;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Inside;
using RuntimeAI.Drivers.Kubernetes.Cluster;
using RuntimeAI.Drivers.Kubernetes.Inside;

namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

/// <summary>The API inside a vcluster, reached as the vcluster CLI does: through the kubeconfig in its <c>vc-NAME</c> Secret.</summary>
public sealed partial class VclusterDriver : IRuntimeInsideSource
{
    /// <inheritdoc />
    public async Task<IClusterView> OpenInsideAsync(string backendRef, CancellationToken cancellationToken)
    {
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        if (plane.Paused)
        {
            throw new RuntimeDriverException($"vcluster {plane.Release} is paused, so its API does not answer; start_runtime first") { Code = "invalid_state" };
        }

        var secret = await _cluster.TryCallAsync($"read secret {plane.Namespace}/vc-{plane.Release}",
            (c, ct) => c.CoreV1.ReadNamespacedSecretAsync($"vc-{plane.Release}", plane.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        if (secret?.Data?.TryGetValue("config", out var kubeconfig) != true || kubeconfig!.Length == 0)
        {
            throw new RuntimeDriverException(
                $"vcluster {plane.Release} has not written its kubeconfig (Secret {plane.Namespace}/vc-{plane.Release}) yet; wait until get_runtime_status shows it running")
            { Code = "not_ready" };
        }

        var name = $"vcluster {plane.Release}";
        try
        {
            return new KubeClusterView(KubeCluster.FromKubeconfig(kubeconfig, name, IsSandbox, _time), name, owns: true);
        }
        catch (ArgumentException ex)
        {
            throw new RuntimeDriverException(ex.Message, ex) { Code = "driver_error" };
        }
    }
}
