using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace RuntimeAI.Mcp.Tools.Observe.Inside;

/// <summary>
/// get_metrics with <c>workload</c> (NAMESPACE/POD-PREFIX): the same abstract names for the pods of
/// a workload inside a vcluster, from its metrics API, averaged over two readings window_seconds apart.
/// </summary>
internal static class WorkloadMetrics
{
    public static async Task<ToolResult> MeasureAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var workload = call.GetString("workload")!;
        var slash = workload.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == workload.Length - 1)
        {
            return ToolResult.Error("invalid_argument", $"workload '{workload}' is not NAMESPACE/POD-PREFIX, e.g. apps/web (the pods whose names start with web in namespace apps)");
        }

        var (ns, prefix) = (workload[..slash], workload[(slash + 1)..]);
        var (view, error) = await InsideTarget.OpenAsync(call, cancellationToken).ConfigureAwait(false);
        if (view is null)
        {
            return error!;
        }

        using var _ = view;
        var time = call.Services.GetRequiredService<TimeProvider>();
        var from = time.GetUtcNow();
        var first = await view.ReadPodUsageAsync(ns, prefix, cancellationToken).ConfigureAwait(false);
        if (first.Count == 0)
        {
            return ToolResult.Error("not_found", $"no pod in namespace {ns} of {view.Name} starts with '{prefix}'; list_resources kind pods shows them");
        }

        await Task.Delay(TimeSpan.FromSeconds(call.GetInt("window_seconds", 2)), time, cancellationToken).ConfigureAwait(false);
        var last = await view.ReadPodUsageAsync(ns, prefix, cancellationToken).ConfigureAwait(false);
        var to = time.GetUtcNow();
        var wanted = call.Arguments["metrics"] is JsonArray list && list.Count > 0
            ? list.Select(m => m!.GetValue<string>()).ToHashSet(StringComparer.Ordinal)
            : ["cpu_usage", "memory_usage", "restarts"];
        var reported = first.Concat(last).Where(p => p.MilliCpu is not null).ToList();
        var metrics = new JsonObject();
        if (wanted.Contains("cpu_usage"))
        {
            metrics["cpu_usage"] = Value(reported.Count == 0 ? null : Sum(first, p => p.MilliCpu) / 2.0 + Sum(last, p => p.MilliCpu) / 2.0, "millicores");
        }

        if (wanted.Contains("memory_usage"))
        {
            metrics["memory_usage"] = Value(reported.Count == 0 ? null : Sum(first, p => p.MemoryMiB) / 2.0 + Sum(last, p => p.MemoryMiB) / 2.0, "MiB");
        }

        if (wanted.Contains("restarts"))
        {
            metrics["restarts"] = new JsonObject { ["value"] = last.Sum(p => p.Restarts), ["unit"] = "count", ["in_window"] = last.Sum(p => p.Restarts) - first.Sum(p => p.Restarts) };
        }

        foreach (var net in new[] { "network_rx", "network_tx" }.Where(wanted.Contains))
        {
            metrics[net] = new JsonObject { ["value"] = null, ["unit"] = "bytes/s", ["note"] = "the Kubernetes metrics API does not report network traffic" };
        }

        if (reported.Count == 0 && metrics["cpu_usage"] is JsonObject cpu)
        {
            cpu["note"] = "no metrics API answers for these pods (metrics-server not installed, or the pods are not running)";
        }

        var structured = new JsonObject
        {
            ["runtime_id"] = call.GetString("runtime_id"),
            ["workload"] = workload,
            ["pods"] = new JsonArray(last.Select(p => (JsonNode)JsonValue.Create(p.Name)!).ToArray()),
            ["from"] = from.ToString("O", CultureInfo.InvariantCulture),
            ["to"] = to.ToString("O", CultureInfo.InvariantCulture),
            ["metrics"] = metrics,
        };
        var text = string.Join(", ", metrics.Select(m => $"{m.Key} {(m.Value!["value"] is null ? "n/a" : $"{m.Value["value"]!.ToJsonString()} {m.Value["unit"]}")}"));
        return ToolResult.Ok(structured, $"{workload} in {view.Name} ({last.Count} pod(s)) over {(to - from).TotalSeconds:0.#}s: {text}" +
                                         (view.IsSandbox ? " [KubeSim, a simulator: synthetic usage]." : "."));
    }

    private static double Sum(IReadOnlyList<RuntimeAI.Core.Inside.PodUsage> pods, Func<RuntimeAI.Core.Inside.PodUsage, long?> pick) =>
        pods.Sum(p => pick(p) ?? 0);

    private static JsonObject Value(double? value, string unit) => new() { ["value"] = value is null ? null : Math.Round(value.Value, 1), ["unit"] = unit };
}
