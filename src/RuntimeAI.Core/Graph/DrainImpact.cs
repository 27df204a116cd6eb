namespace RuntimeAI.Core.Graph;

/// <summary>A PodDisruptionBudget a drain runs into.</summary>
/// <param name="Budget">The budget's graph key.</param>
/// <param name="PodsOnNode">How many of the pods it covers the drain evicts.</param>
/// <param name="DisruptionsAllowed">Its <c>status.disruptionsAllowed</c> now; null when the status is not known yet.</param>
/// <param name="Blocks">
/// True when the drain evicts more of its pods than it allows now: evictions past that are refused
/// (HTTP 429) until replacements are healthy elsewhere, and with none allowed the drain stalls at once.
/// </param>
public sealed record DrainBudgetHit(string Budget, int PodsOnNode, int? DisruptionsAllowed, bool Blocks);

/// <summary>What draining a node would do, read from the graph (nothing is evicted).</summary>
/// <param name="Node">The node's graph key.</param>
/// <param name="Evicted">Pods an eviction-based drain (as <c>kubectl drain</c>) would evict, with their workload.</param>
/// <param name="DaemonSetPods">Pods of DaemonSets, which a drain leaves (and their controller would recreate).</param>
/// <param name="Budgets">Budgets those evictions hit.</param>
public sealed record DrainPlan(string Node, IReadOnlyList<(string Pod, string? Workload)> Evicted, IReadOnlyList<string> DaemonSetPods, IReadOnlyList<DrainBudgetHit> Budgets)
{
    /// <summary>The budgets that stop the drain from finishing now.</summary>
    public IEnumerable<DrainBudgetHit> Blocking => Budgets.Where(b => b.Blocks);

    /// <summary>
    /// The pods a drain of <paramref name="nodeKey"/> evicts (finished pods and DaemonSet pods are
    /// left, as <c>kubectl drain --ignore-daemonsets</c> does), the workload each belongs to, and the
    /// PodDisruptionBudgets they hit with whether each lets the drain through now.
    /// </summary>
    public static DrainPlan Of(ClusterGraph graph, string nodeKey)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var evicted = new List<(string Pod, string? Workload)>();
        var daemons = new List<string>();
        var perBudget = new Dictionary<string, int>(StringComparer.Ordinal);
        var pods = graph.Traverse(nodeKey, GraphDirection.Downstream, 1)
            .Where(h => h.Edge == EdgeKind.Node && h.Key.StartsWith("pod/", StringComparison.Ordinal))
            .Select(h => h.Key)
            .Order(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            if (graph.Get(pod) is not { } obj || obj.Phase is "Succeeded" or "Failed")
            {
                continue;
            }

            // The owner chain upward: pod -> ReplicaSet -> Deployment, or pod -> StatefulSet / DaemonSet / Job.
            var owners = graph.Traverse(pod, GraphDirection.Upstream, 2).Where(h => h.Edge == EdgeKind.Owner && !h.Missing).Select(h => h.Key).ToList();
            if (owners.Any(o => o.StartsWith("daemonset/", StringComparison.Ordinal)))
            {
                daemons.Add(pod);
                continue;
            }

            evicted.Add((pod, owners.LastOrDefault()));
            foreach (var budget in graph.Traverse(pod, GraphDirection.Downstream, 1)
                         .Where(h => h.Edge == EdgeKind.Selects && h.Key.StartsWith("poddisruptionbudget/", StringComparison.Ordinal)))
            {
                perBudget[budget.Key] = perBudget.GetValueOrDefault(budget.Key) + 1;
            }
        }

        var budgets = perBudget.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b =>
        {
            var allowed = graph.Get(b.Key)?.DisruptionsAllowed;
            return new DrainBudgetHit(b.Key, b.Value, allowed, allowed is { } n && b.Value > n);
        }).ToList();
        return new DrainPlan(nodeKey, evicted, daemons, budgets);
    }
}
