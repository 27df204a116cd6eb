using System.Globalization;
using k8s;
using k8s.Models;
using RuntimeAI.Core.Drivers;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>What the dry-run learns from a namespace: quota headroom and disruption budgets.</summary>
internal static class Disruption
{
    /// <summary>ResourceQuotas in <paramref name="ns"/> that an extra <paramref name="milliCpu"/>/<paramref name="memoryMiB"/>/<paramref name="pods"/> would exceed.</summary>
    public static async Task<List<string>> QuotaRefusalsAsync(KubeCluster cluster, string ns, long milliCpu, long memoryMiB, int pods, CancellationToken cancellationToken)
    {
        var refusals = new List<string>();
        var quotas = await cluster.CallAsync($"list resourcequotas in {ns}", (c, ct) => c.CoreV1.ListNamespacedResourceQuotaAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        foreach (var quota in quotas.Items)
        {
            var hard = quota.Status?.Hard ?? quota.Spec?.Hard;
            var used = quota.Status?.Used;
            void Check(string resource, long want, Func<ResourceQuantity?, long> parse, Func<long, string> format)
            {
                if (want <= 0 || KubeQuantities.Get(hard, resource) is not { } limit)
                {
                    return;
                }

                var inUse = parse(KubeQuantities.Get(used, resource));
                if (inUse + want > parse(limit))
                {
                    refusals.Add($"ResourceQuota {ns}/{quota.Metadata.Name} would be exceeded: {resource} used {format(inUse)} + requested {format(want)} > hard {format(parse(limit))}; raise the quota or choose a smaller size");
                }
            }

            Check("requests.cpu", milliCpu, KubeQuantities.MilliCpu, KubeQuantities.Cpu);
            Check("cpu", milliCpu, KubeQuantities.MilliCpu, KubeQuantities.Cpu);
            Check("limits.cpu", milliCpu, KubeQuantities.MilliCpu, KubeQuantities.Cpu);
            Check("requests.memory", memoryMiB, KubeQuantities.MiB, KubeQuantities.Memory);
            Check("memory", memoryMiB, KubeQuantities.MiB, KubeQuantities.Memory);
            Check("limits.memory", memoryMiB, KubeQuantities.MiB, KubeQuantities.Memory);
            Check("pods", pods, q => q is null ? 0 : (long)q.ToDecimal(), v => v.ToString(CultureInfo.InvariantCulture));
        }

        return refusals;
    }

    /// <summary>PodDisruptionBudgets that cover any of <paramref name="pods"/> and allow fewer disruptions than the action makes.</summary>
    public static async Task<List<string>> BudgetRefusalsAsync(KubeCluster cluster, string ns, IList<V1Pod> pods, int disruptions, string action, CancellationToken cancellationToken)
    {
        var refusals = new List<string>();
        if (pods.Count == 0)
        {
            return refusals;
        }

        var budgets = await cluster.CallAsync($"list poddisruptionbudgets in {ns}", (c, ct) => c.PolicyV1.ListNamespacedPodDisruptionBudgetAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        foreach (var pdb in budgets.Items)
        {
            var covered = pods.Where(p => Matches(pdb.Spec?.Selector, p.Metadata.Labels)).ToList();
            if (covered.Count == 0)
            {
                continue;
            }

            var allowed = pdb.Status?.DisruptionsAllowed ?? 0;
            var wanted = Math.Min(disruptions, covered.Count);
            if (allowed < wanted)
            {
                var rule = pdb.Spec?.MinAvailable is { } min ? $"minAvailable {min.Value}" : pdb.Spec?.MaxUnavailable is { } max ? $"maxUnavailable {max.Value}" : "its rule";
                refusals.Add($"PodDisruptionBudget {ns}/{pdb.Metadata.Name} ({rule}, {pdb.Status?.CurrentHealthy ?? 0} healthy) allows {allowed} disruption(s); {action} would disrupt {wanted} of the pods it protects ({string.Join(", ", covered.Take(3).Select(p => p.Metadata.Name))}); relax the budget or add replicas first");
            }
        }

        return refusals;
    }

    private static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null)
        {
            return false;
        }

        labels ??= new Dictionary<string, string>();
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var expression in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(expression.Key, out var actual);
            var ok = expression.OperatorProperty switch
            {
                "In" => has && expression.Values.Contains(actual!),
                "NotIn" => !has || !expression.Values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return (selector.MatchLabels?.Count ?? 0) + (selector.MatchExpressions?.Count ?? 0) > 0;
    }
}
