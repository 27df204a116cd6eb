using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Analytics;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Mcp.Tools.Analyse;

internal sealed class ForecastCapacityTool : RuntimeTool
{
    public override string Name => "forecast_capacity";

    public override string Title => "Forecast capacity exhaustion";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "Trend of a stored metric (least squares, weekly seasonality): when it hits 100 %.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.RuntimeId(),
        Schema.Optional("metric", Schema.Enum(null, [SignalNames.CpuUsage, SignalNames.MemoryUsage])),
        Schema.Optional("horizon", SignalQueries.Duration()),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("status");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (SignalQueries.Store(call) is not { } store)
        {
            return SignalQueries.NoHistory();
        }

        var id = call.GetString("runtime_id")!;
        if (await call.Inventory.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false) is not { } runtime)
        {
            return ToolErrors.RuntimeNotFound(id);
        }

        var metric = call.GetString("metric") ?? SignalNames.CpuUsage;
        var horizon = SignalQueries.ParseDuration(call.GetString("horizon"), TimeSpan.FromHours(24));
        var now = call.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        // The longest history that has enough points: hours over four weeks (seasonality needs a
        // week), else minutes over two days, else the raw samples of the last two hours.
        var resolution = SignalResolution.Hour;
        IReadOnlyList<SignalPoint> points = [];
        foreach (var (r, span) in new[] { (SignalResolution.Hour, TimeSpan.FromDays(28)), (SignalResolution.Minute, TimeSpan.FromDays(2)), (SignalResolution.Raw, TimeSpan.FromHours(2)) })
        {
            resolution = r;
            points = await store.QueryAsync(id, metric, now - span, now, r, cancellationToken).ConfigureAwait(false);
            if (points.Count >= CapacityForecaster.MinPoints)
            {
                break;
            }
        }
        var f = CapacityForecaster.Forecast(points, SignalNames.Capacity(metric) ?? 100, horizon, now);
        var structured = new JsonObject
        {
            ["runtime_id"] = id,
            ["metric"] = metric,
            ["status"] = f.Status,
            ["summary"] = f.Summary,
            ["missing"] = f.Missing,
            ["exhaustion_at"] = f.ExhaustionAt is { } e ? SignalQueries.Ts(e) : null,
            ["warning"] = f.Warning,
            ["slope_per_hour"] = Math.Round(f.SlopePerHour, 4),
            ["current"] = Math.Round(f.Current, 2),
            ["r_squared"] = Math.Round(f.RSquared, 3),
            ["residual_std"] = Math.Round(f.ResidualStd, 3),
            ["seasonal"] = f.Seasonal,
            ["points"] = f.Points,
            ["step"] = SignalQueries.Name(resolution),
            ["from"] = points.Count > 0 ? SignalQueries.Ts(points[0].Ts) : null,
            ["to"] = points.Count > 0 ? SignalQueries.Ts(points[^1].Ts) : null,
        };
        return ToolResult.Ok(structured, $"{runtime.Name} {metric}: {f.Summary}{(f.Missing is null ? "" : " (" + f.Missing + ")")}.");
    }
}

internal sealed class DetectAnomaliesTool : RuntimeTool
{
    public override string Name => "detect_anomalies";

    public override string Title => "Detect anomalies";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "Crash loops, flapping, values beyond 3 sigma of the hour-of-week baseline; evidence.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Optional("runtime_id", Schema.String(null, Schema.RuntimeIdPattern)),
        SignalQueries.Selector(),
        Schema.Optional("window", SignalQueries.Duration()),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row();

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (SignalQueries.Store(call) is not { } store)
        {
            return SignalQueries.NoHistory();
        }

        var (runtimes, error) = await SignalQueries.ScopeAsync(call, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var window = SignalQueries.ParseDuration(call.GetString("window"), TimeSpan.FromHours(1));
        var now = call.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var resolution = window <= TimeSpan.FromDays(2) ? SignalResolution.Minute : SignalResolution.Hour;
        // The baseline is the history before the window, at the same resolution (as much as is kept).
        var baselineFrom = now - window - (resolution == SignalResolution.Minute ? TimeSpan.FromDays(2) : TimeSpan.FromDays(28));
        var items = new JsonArray();
        foreach (var runtime in runtimes)
        {
            var up = await store.QueryAsync(runtime.Id, SignalNames.Up, now - window, now, SignalResolution.Minute, cancellationToken).ConfigureAwait(false);
            var events = await SignalQueries.EventsAsync(call, runtime.Id, now - window, cancellationToken).ConfigureAwait(false);
            var found = new List<Anomaly>();
            if (AnomalyDetector.Flapping(up, events) is { } flapping)
            {
                found.Add(flapping);
            }

            foreach (var metric in new[] { SignalNames.CpuUsage, SignalNames.MemoryUsage })
            {
                var history = await store.QueryAsync(runtime.Id, metric, baselineFrom, now - window, resolution, cancellationToken).ConfigureAwait(false);
                var recent = await store.QueryAsync(runtime.Id, metric, now - window, now, resolution, cancellationToken).ConfigureAwait(false);
                found.AddRange(AnomalyDetector.Deviations(metric, history, recent));
            }

            foreach (var a in found.OrderBy(a => a.Ts))
            {
                items.Add((JsonNode)new JsonObject
                {
                    ["runtime_id"] = runtime.Id,
                    ["runtime"] = runtime.Name,
                    ["kind"] = a.Kind,
                    ["metric"] = a.Metric,
                    ["ts"] = SignalQueries.Ts(a.Ts),
                    ["detail"] = a.Detail,
                    ["evidence"] = SignalQueries.Strings(a.Evidence),
                    ["baseline"] = a.Baseline is { } b
                        ? new JsonObject { ["kind"] = b.Kind, ["mean"] = Math.Round(b.Mean, 3), ["std"] = Math.Round(b.Std, 3), ["samples"] = b.Samples }
                        : null,
                });
            }
        }

        return ToolResult.Ok(new JsonObject { ["items"] = items, ["runtimes"] = runtimes.Count, ["window"] = call.GetString("window") ?? "1h" },
            items.Count == 0
                ? $"No anomaly in {runtimes.Count} runtime(s) over the window."
                : $"{items.Count} anomal{(items.Count == 1 ? "y" : "ies")}: " + string.Join("; ", items.Take(5).Select(i => $"{i!["runtime"]}: {i["detail"]}")) + ".");
    }
}

internal sealed class FindRootCauseTool : RuntimeTool
{
    /// <summary>At most this many resource changes per runtime are given as evidence.</summary>
    private const int InsideChangeLimit = 5;

    public override string Name => "find_root_cause";

    public override string Title => "Find a root cause";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "Common cause of failing runtimes (depends-on labels, events) or inconclusive.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Optional("runtime_ids", Schema.Array(Schema.String(null, Schema.RuntimeIdPattern), null, 100)),
        SignalQueries.Selector(),
        Schema.Optional("window", SignalQueries.Duration()),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("status");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var (scope, error) = await SignalQueries.ScopeAsync(call, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        // Named runtimes are failing by the caller's word; a selector picks the ones not healthy.
        var failing = call.Arguments["runtime_ids"] is null
            ? scope.Where(r => r.State is RuntimeState.Error or RuntimeState.Degraded or RuntimeState.Stopped).ToList()
            : scope;
        var window = SignalQueries.ParseDuration(call.GetString("window"), TimeSpan.FromHours(1));
        var now = call.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var inventory = new List<Runtime>();
        string? token = null;
        do
        {
            var page = await call.Inventory.ListRuntimesAsync(new Core.Inventory.RuntimeQuery { PageSize = 200, PageToken = token }, cancellationToken).ConfigureAwait(false);
            inventory.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null && inventory.Count < 10_000);

        var events = new List<Core.Events.RuntimeEvent>();
        foreach (var runtime in inventory.Where(r => failing.Any(f => f.Id == r.Id) || inventory.Any(other =>
                     other.Labels.TryGetValue(Core.Governance.DryRunSimulator.DependsOnLabel, out var d) && d.Split(',').Any(n => n.Trim() == r.Name || n.Trim() == r.Id))))
        {
            events.AddRange(await SignalQueries.EventsAsync(call, runtime.Id, now - window, cancellationToken).ConfigureAwait(false));
        }

        var cause = RootCauseFinder.Find(failing, inventory, events);
        var inside = InsideChanges(call, failing, now - window, now);
        if (inside.Count > 0)
        {
            // Resource changes inside a failing vcluster, from a graph that was already watching:
            // "what changed just before this broke". Suspects, not proof: the evidence says when.
            cause = cause with
            {
                Evidence = [.. cause.Evidence, .. inside],
                Summary = cause.Status == "found" ? cause.Summary
                    : $"{cause.Summary}; inside, {inside.Count} resource change(s) in the window are the suspects (newest first in evidence)",
                LookAt = [.. cause.LookAt, "what_changed and diff_runtime of the failing vcluster, for the whole window"],
            };
        }

        return ToolResult.Ok(new JsonObject
        {
            ["status"] = cause.Status,
            ["summary"] = cause.Summary,
            ["cause_runtime_id"] = cause.CauseRuntimeId,
            ["failing"] = SignalQueries.Strings(failing.Select(f => f.Id)),
            ["evidence"] = SignalQueries.Strings(cause.Evidence),
            ["look_at"] = SignalQueries.Strings(cause.LookAt),
        }, $"{cause.Status}: {cause.Summary}.");
    }

    /// <summary>
    /// Spec-level changes (image, replicas, references, deletions) inside the failing runtimes
    /// whose graph is already watched; a graph is not started here, since a new one knows no past.
    /// </summary>
    private static List<string> InsideChanges(ToolCall call, IReadOnlyList<Runtime> failing, DateTimeOffset since, DateTimeOffset until)
    {
        var registry = call.Services.GetService<Core.Graph.GraphRegistry>();
        var lines = new List<string>();
        foreach (var runtime in failing)
        {
            if (registry?.Peek(runtime.Id) is not { } graph)
            {
                continue;
            }

            // Modified or deleted objects nobody owns (Deployments, Services, ConfigMaps, …): the
            // changes people and their tools make. Owned objects (ReplicaSets, pods) churn as a
            // consequence, and "added" also holds the graph's first listing.
            lines.AddRange(graph.Graph.Changes(since, until,
                    c => c.Type is "modified" or "deleted" && (c.After ?? c.Before)?.Owners.Length == 0 && !c.Key.StartsWith("pod/", StringComparison.Ordinal),
                    InsideChangeLimit)
                .Select(c => $"inside {runtime.Name} at {c.At.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}: {c.Type} {c.Key}{(c.Fields.Count > 0 ? ": " + string.Join("; ", c.Fields) : string.Empty)}"));
        }

        return lines;
    }
}
