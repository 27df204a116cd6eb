using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Graph;
using RuntimeAI.Core.Inside;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Mcp.Tools.Analyse.Graph;

/// <summary>
/// The dry-run's view inside a vcluster: the workloads, Services and pods in its graph (the graph
/// is started on first use and kept by watches, like the analyse tools' graphs).
/// </summary>
internal sealed class GraphBlastRadius(GraphRegistry registry, DriverRegistry drivers) : IBlastRadiusSource
{
    private static readonly string[] s_workloadKinds = ["deployment", "statefulset", "daemonset", "job"];

    public async Task<InsideBlastRadius?> InsideAsync(Runtime runtime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        if (runtime.Backend?.Ref is not { } backendRef || drivers.ForBackendRef(backendRef) is not IRuntimeInsideSource source)
        {
            return null;
        }

        var graph = await registry.GetAsync(runtime.Id, $"vcluster {runtime.Name}", ct => source.OpenInsideAsync(backendRef, ct), cancellationToken).ConfigureAwait(false);
        var objects = graph.Graph.Objects(o => o.Kind is "pod" or "service" || s_workloadKinds.Contains(o.Kind));
        var workloads = objects
            .Where(o => (s_workloadKinds.Contains(o.Kind) && o.Owners.Length == 0) || (o.Kind == "pod" && o.Owners.Length == 0))
            .Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
        var services = objects.Where(o => o.Kind == "service" && o.Key != "service/default/kubernetes")
            .Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
        var note = !graph.Synced ? "the graph is still filling, the list may be short"
            : graph.Graph.Capped ? "the graph is capped, the list may be short"
            : null;
        return new InsideBlastRadius(workloads, services, objects.Count(o => o.Kind == "pod"), note);
    }
}
