using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Graph;

/// <summary>What goes down inside a runtime (a vcluster) when it stops, read from the state graph.</summary>
/// <param name="Workloads">Deployments, StatefulSets, DaemonSets, Jobs and unowned pods, as <c>kind/namespace/name</c>.</param>
/// <param name="Services">Services inside that lose their endpoints.</param>
/// <param name="Pods">Pods inside.</param>
/// <param name="Note">Why the answer is partial (graph still filling, capped), or null.</param>
public sealed record InsideBlastRadius(IReadOnlyList<string> Workloads, IReadOnlyList<string> Services, int Pods, string? Note);

/// <summary>Answers the blast radius inside a runtime for the dry-run (built lazily from the graph).</summary>
public interface IBlastRadiusSource
{
    /// <summary>What runs inside <paramref name="runtime"/>; null when it has no Kubernetes API inside.</summary>
    /// <exception cref="Drivers.RuntimeDriverException">The API inside cannot be read now (paused, not ready).</exception>
    Task<InsideBlastRadius?> InsideAsync(Runtime runtime, CancellationToken cancellationToken);
}
