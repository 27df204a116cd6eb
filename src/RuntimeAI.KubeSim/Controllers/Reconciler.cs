using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.KubeVirt;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>One reconcile pass over every controller of one simulated API, in a fixed order.</summary>
internal static class Reconciler
{
    public static void Run(SimulatedApi api)
    {
        Workloads.Deployments(api);
        Workloads.ReplicaSets(api);
        Workloads.StatefulSets(api);
        if (!api.PodsSyncedToHost)
        {
            NodeLifecycle.Reconcile(api);
            PodLifecycle.Reconcile(api);
        }

        Networking.Endpoints(api);
        Storage.Claims(api);
        Policies.Quotas(api);
        Policies.DisruptionBudgets(api);
        VirtualMachineController.Reconcile(api);
        SnapshotController.Reconcile(api);
    }

    /// <summary>Runs one object's reconcile; a conflict or rejection is left for the next pass, as real controllers requeue.</summary>
    public static void Safely(Action action)
    {
        try
        {
            action();
        }
        catch (KubeApiException)
        {
            // Requeue: the next pass sees fresh state.
        }
    }
}
