using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Mcp.Tools.Observe;

internal sealed class GetRuntimeStatusTool : RuntimeTool
{
    public override string Name => "get_runtime_status";

    public override string Title => "Get live runtime status";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "Read a runtime's live state, health, resources and uptime from its backend (and correct the record).";

    public override JsonObject InputSchema { get; } = Schema.Object(Schema.RuntimeId(), Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("runtime_id", "state", "health", "observed_at");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        // Another tenant's runtime does not exist for this caller (the lifecycle below reads the whole inventory).
        if (await call.Inventory.GetRuntimeAsync(call.GetString("runtime_id")!, cancellationToken).ConfigureAwait(false) is null)
        {
            return ToolErrors.RuntimeNotFound(call.GetString("runtime_id")!);
        }

        var monitor = call.Services.GetService<BackendHealthMonitor>();
        Runtime runtime;
        RuntimeObservation o;
        IRuntimeDriver driver;
        try
        {
            (runtime, o, driver) = await call.Services.GetRequiredService<RuntimeLifecycle>()
                .ObserveAsync(call.GetString("runtime_id")!, cancellationToken).ConfigureAwait(false);
        }
        catch (RuntimeDriverException) when (monitor is not null)
        {
            // A backend in safe mode cannot be observed: show the recorded state and why, not just the error.
            var recorded = await SafeModeStatusAsync(call, monitor, cancellationToken).ConfigureAwait(false);
            if (recorded is null)
            {
                throw;
            }

            return recorded;
        }

        var safeMode = monitor?.Get(driver.Name);
        var health = o.State switch
        {
            RuntimeState.Running => "ok",
            RuntimeState.Stopped => "ok",
            RuntimeState.Degraded => "warning",
            RuntimeState.Error => "critical",
            _ => "unknown",
        };
        var signals = new JsonObject
        {
            ["vcpus"] = Signal(o.Vcpus, null, o.ObservedAt),
            ["memory"] = Signal(o.MemoryMiB, "MiB", o.ObservedAt),
            ["cpu_time"] = Signal(o.CpuTimeNs / 1e9, "s", o.ObservedAt),
        };
        if (o.MemoryUsedMiB is { } used)
        {
            signals["memory_used"] = Signal(used, "MiB", o.ObservedAt);
        }

        if (o.Uptime is { } uptime)
        {
            signals["uptime"] = Signal(Math.Round(uptime.TotalSeconds), "s", o.ObservedAt);
        }

        var structured = new JsonObject
        {
            ["runtime_id"] = runtime.Id,
            ["state"] = EnumText.Name(o.State),
            ["reason"] = o.Reason,
            ["health"] = health,
            ["signals"] = signals,
            ["backend"] = driver.Name,
            ["sandbox"] = driver.IsSandbox,
            ["observed_at"] = o.ObservedAt.ToString("O", CultureInfo.InvariantCulture),
            ["safe_mode"] = safeMode?.SafeMode ?? false,
            ["safe_mode_detail"] = safeMode?.SafeModeMessage,
        };
        if (o.Details.Count > 0)
        {
            structured["details"] = new JsonObject(o.Details.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        }

        return ToolResult.Ok(structured,
            $"{runtime.Name} is {EnumText.Name(o.State)}{(o.Reason is null ? "" : $" ({o.Reason})")}, {o.Vcpus} vCPU, {o.MemoryMiB} MiB" +
            (driver.IsSandbox ? " [sandbox backend]." : ".") + (safeMode?.SafeModeMessage is { } m ? " " + m + "." : ""));
    }

    private static async Task<ToolResult?> SafeModeStatusAsync(ToolCall call, BackendHealthMonitor monitor, CancellationToken cancellationToken)
    {
        var runtime = await call.Inventory.GetRuntimeAsync(call.GetString("runtime_id")!, cancellationToken).ConfigureAwait(false);
        if (runtime?.Backend?.Ref is not { } backendRef || monitor.ForBackendRef(backendRef) is not { SafeMode: true } status)
        {
            return null;
        }

        return ToolResult.Ok(new JsonObject
        {
            ["runtime_id"] = runtime.Id,
            ["state"] = EnumText.Name(runtime.State),
            ["reason"] = "recorded state: the backend cannot be observed",
            ["health"] = "unknown",
            ["backend"] = status.Backend,
            ["observed_at"] = status.CheckedAt.ToString("O", CultureInfo.InvariantCulture),
            ["safe_mode"] = true,
            ["safe_mode_detail"] = status.SafeModeMessage,
        }, $"{runtime.Name}: last recorded state {EnumText.Name(runtime.State)}; {status.SafeModeMessage}.");
    }

    private static JsonObject Signal(double value, string? unit, DateTimeOffset ts) => new()
    {
        ["value"] = value,
        ["unit"] = unit,
        ["ts"] = ts.ToString("O", CultureInfo.InvariantCulture),
    };
}

internal sealed class ListSnapshotsTool : RuntimeTool
{
    public override string Name => "list_snapshots";

    public override string Title => "List snapshots";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "List a runtime's snapshots, oldest first, for restore_snapshot.";

    public override JsonObject InputSchema { get; } = Schema.Object(Schema.RuntimeId(), Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.PageOf(Schema.Row("name", "created_at"));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var snapshots = await call.Services.GetRequiredService<RuntimeLifecycle>()
            .ListSnapshotsAsync(call.GetString("runtime_id")!, cancellationToken).ConfigureAwait(false);
        var items = new JsonArray(snapshots.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name,
            ["description"] = s.Description,
            ["created_at"] = s.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
            ["state"] = EnumText.Name(s.StateAtSnapshot),
            ["current"] = s.IsCurrent,
        }).ToArray());
        return ToolResult.Ok(new JsonObject { ["items"] = items, ["next_page_token"] = null },
            snapshots.Count == 0 ? "No snapshots." : $"{snapshots.Count} snapshot(s): {string.Join(", ", snapshots.Select(s => s.Name))}.");
    }
}

internal sealed class GetMetricsTool : RuntimeTool
{
    public override string Name => "get_metrics";

    public override string Title => "Get runtime metrics";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "Stored history (window, step) of a runtime's metrics; window_seconds: measure live; workload: its pods.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.RuntimeId(),
        Schema.Optional("metrics", Schema.Array(Schema.Enum(null, [.. SignalNames.All, "restarts", "network_rx", "network_tx"]))),
        Schema.Optional("window", Analyse.SignalQueries.Duration()),
        Schema.Optional("step", Schema.Enum(null, ["raw", "1m", "1h"])),
        Schema.Optional("window_seconds", Schema.Integer(null, 1, 30)),
        Schema.Optional("workload", Schema.String()),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("runtime_id", "from", "to");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (call.GetString("workload") is not null)
        {
            return await Inside.WorkloadMetrics.MeasureAsync(call, cancellationToken).ConfigureAwait(false);
        }

        if (call.Arguments["window_seconds"] is null && Analyse.SignalQueries.Store(call) is { } store)
        {
            return await HistoryAsync(call, store, cancellationToken).ConfigureAwait(false);
        }

        var lifecycle = call.Services.GetRequiredService<RuntimeLifecycle>();
        var time = call.Services.GetRequiredService<TimeProvider>();
        var id = call.GetString("runtime_id")!;
        var wanted = call.Arguments["metrics"] is JsonArray list && list.Count > 0
            ? list.Select(m => m!.GetValue<string>()).ToHashSet(StringComparer.Ordinal)
            : ["cpu_usage", "memory_usage"];
        var (_, first, _) = await lifecycle.ObserveAsync(id, cancellationToken).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(call.GetInt("window_seconds", 2)), time, cancellationToken).ConfigureAwait(false);
        var (runtime, last, _) = await lifecycle.ObserveAsync(id, cancellationToken).ConfigureAwait(false);
        var metrics = new JsonObject();
        var elapsedNs = (last.ObservedAt - first.ObservedAt).TotalMilliseconds * 1e6;
        if (wanted.Contains("cpu_usage"))
        {
            var usage = elapsedNs <= 0 || last.Vcpus == 0
                ? 0
                : Math.Clamp((last.CpuTimeNs - (double)first.CpuTimeNs) / (elapsedNs * last.Vcpus) * 100, 0, 100);
            metrics["cpu_usage"] = new JsonObject { ["value"] = Math.Round(usage, 2), ["unit"] = "percent" };
        }

        if (wanted.Contains("memory_usage"))
        {
            metrics["memory_usage"] = last.MemoryUsedMiB is { } used && last.MemoryMiB > 0
                ? new JsonObject { ["value"] = Math.Round(used * 100.0 / last.MemoryMiB, 2), ["unit"] = "percent" }
                : new JsonObject { ["value"] = null, ["unit"] = "percent", ["note"] = "the guest does not report memory use (no balloon driver or not running)" };
        }

        foreach (var unknown in new[] { "restarts", "network_rx", "network_tx" }.Where(wanted.Contains))
        {
            metrics[unknown] = new JsonObject { ["value"] = null, ["note"] = "not known for this backend" };
        }

        var structured = new JsonObject
        {
            ["runtime_id"] = runtime.Id,
            ["from"] = first.ObservedAt.ToString("O", CultureInfo.InvariantCulture),
            ["to"] = last.ObservedAt.ToString("O", CultureInfo.InvariantCulture),
            ["metrics"] = metrics,
        };
        var text = string.Join(", ", metrics.Select(m => $"{m.Key} {(m.Value!["value"] is null ? "n/a" : m.Value["value"]!.ToJsonString() + "%")}"));
        return ToolResult.Ok(structured, $"{runtime.Name} over {(last.ObservedAt - first.ObservedAt).TotalSeconds:0.#}s: {text}.");
    }

    /// <summary>The stored series of each metric over the window, at the step asked (or the finest the window allows).</summary>
    private static async Task<ToolResult> HistoryAsync(ToolCall call, ISignalStore store, CancellationToken cancellationToken)
    {
        var id = call.GetString("runtime_id")!;
        if (await call.Inventory.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false) is not { } runtime)
        {
            return ToolErrors.RuntimeNotFound(id);
        }

        var window = Analyse.SignalQueries.ParseDuration(call.GetString("window"), TimeSpan.FromHours(1));
        var resolution = call.GetString("step") switch
        {
            "raw" => SignalResolution.Raw,
            "1m" => SignalResolution.Minute,
            "1h" => SignalResolution.Hour,
            _ => Analyse.SignalQueries.ResolutionFor(window),
        };
        var wanted = call.Arguments["metrics"] is JsonArray list && list.Count > 0
            ? list.Select(m => m!.GetValue<string>()).Distinct(StringComparer.Ordinal).ToList()
            : [SignalNames.CpuUsage, SignalNames.MemoryUsage];
        var now = call.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var metrics = new JsonObject();
        var summary = new List<string>();
        foreach (var metric in wanted)
        {
            var points = await store.QueryAsync(id, metric, now - window, now, resolution, cancellationToken).ConfigureAwait(false);
            // At most 500 points reach the client: the newest, so a long raw window still answers.
            var shown = points.Count > 500 ? points.Skip(points.Count - 500).ToList() : points;
            metrics[metric] = new JsonObject
            {
                ["unit"] = SignalNames.Unit(metric),
                ["count"] = points.Count,
                ["avg"] = points.Count == 0 ? null : Math.Round(points.Average(p => p.Avg), 3),
                ["min"] = points.Count == 0 ? null : Math.Round(points.Min(p => p.Min), 3),
                ["max"] = points.Count == 0 ? null : Math.Round(points.Max(p => p.Max), 3),
                ["points"] = new JsonArray(shown.Select(p => (JsonNode)new JsonArray(
                    JsonValue.Create(Analyse.SignalQueries.Ts(p.Ts)), JsonValue.Create(Math.Round(p.Avg, 3)))).ToArray()),
                ["truncated"] = points.Count > shown.Count,
            };
            summary.Add(points.Count == 0
                ? $"{metric} no data"
                : string.Create(CultureInfo.InvariantCulture, $"{metric} avg {points.Average(p => p.Avg):0.##} max {points.Max(p => p.Max):0.##} ({points.Count} pts)"));
        }

        var structured = new JsonObject
        {
            ["runtime_id"] = runtime.Id,
            ["from"] = Analyse.SignalQueries.Ts(now - window),
            ["to"] = Analyse.SignalQueries.Ts(now),
            ["step"] = Analyse.SignalQueries.Name(resolution),
            ["source"] = "history",
            ["metrics"] = metrics,
        };
        return ToolResult.Ok(structured, $"{runtime.Name} over {call.GetString("window") ?? "1h"} at {Analyse.SignalQueries.Name(resolution)}: {string.Join(", ", summary)}." +
            (metrics.All(m => m.Value!["count"]!.GetValue<int>() == 0) ? " No samples yet: the collector samples every runtime on an interval; or pass window_seconds to measure live." : string.Empty));
    }
}
