using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Planning;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Mcp.Tools.Analyse;

/// <summary>Reads the stored signals and events the analyse and recommend tools reason over.</summary>
internal static class SignalQueries
{
    /// <summary>Pattern of a duration argument: a whole number and m, h or d.</summary>
    public const string DurationPattern = "^[1-9]\\d{0,3}[mhd]$";

    /// <summary>Most runtimes one selector call reasons over.</summary>
    public const int MaxRuntimes = 1000;

    /// <summary>The schema of a duration argument.</summary>
    public static JsonObject Duration() => Schema.String(null, DurationPattern);

    /// <summary>The optional label selector (instead of runtime_id).</summary>
    public static Prop Selector() => Schema.Optional("selector", new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "string" } });

    /// <summary>Parses <c>15m</c>, <c>24h</c>, <c>7d</c> (the schema already checked the form).</summary>
    public static TimeSpan ParseDuration(string? text, TimeSpan fallback)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        var n = int.Parse(text[..^1], CultureInfo.InvariantCulture);
        return text[^1] switch { 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), _ => TimeSpan.FromDays(n) };
    }

    /// <summary>The resolution a window is read at: raw up to 2 h, per minute up to 2 days, else per hour.</summary>
    public static SignalResolution ResolutionFor(TimeSpan window) =>
        window <= TimeSpan.FromHours(2) ? SignalResolution.Raw : window <= TimeSpan.FromDays(2) ? SignalResolution.Minute : SignalResolution.Hour;

    public static string Name(SignalResolution r) => r switch { SignalResolution.Raw => "raw", SignalResolution.Minute => "1m", _ => "1h" };

    /// <summary>The store, or a tool error saying the history is not kept here.</summary>
    public static ISignalStore? Store(ToolCall call) => call.Services.GetService<ISignalStore>();

    public static ToolResult NoHistory() => ToolResult.Error("no_signal_history",
        "this server keeps no signal history (no signal store is configured); use get_metrics with window_seconds for a live measurement");

    /// <summary>
    /// The runtimes a call names: <c>runtime_id</c>, <c>runtime_ids</c> or a label <c>selector</c>, as
    /// the caller sees them. An unknown id is an error; a selector matching nothing is an empty list.
    /// </summary>
    public static async Task<(List<Runtime> Runtimes, ToolResult? Error)> ScopeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        if (call.GetString("runtime_id") is { } single)
        {
            ids.Add(single);
        }

        if (call.Arguments["runtime_ids"] is JsonArray many)
        {
            ids.AddRange(many.Select(n => n!.GetValue<string>()));
        }

        var found = new List<Runtime>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (await call.Inventory.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false) is not { } runtime)
            {
                return ([], ToolErrors.RuntimeNotFound(id));
            }

            found.Add(runtime);
        }

        if (call.Arguments["selector"] is JsonObject)
        {
            var labels = call.GetStringMap("selector");
            string? token = null;
            do
            {
                var page = await call.Inventory.ListRuntimesAsync(new RuntimeQuery { Labels = labels, PageSize = 200, PageToken = token }, cancellationToken).ConfigureAwait(false);
                found.AddRange(page.Items.Where(r => found.All(f => f.Id != r.Id)));
                token = page.NextPageToken;
            }
            while (token is not null && found.Count < MaxRuntimes);
        }

        if (ids.Count == 0 && call.Arguments["selector"] is null)
        {
            return ([], ToolResult.Error("invalid_scope", "name the runtimes: runtime_id, or selector (labels, e.g. {\"env\": \"prod\"}); {} selects every runtime you can see"));
        }

        return (found.Take(MaxRuntimes).ToList(), null);
    }

    /// <summary>Everything the planner reads about one runtime over <paramref name="window"/> before <paramref name="now"/>.</summary>
    public static async Task<RuntimeSignals> GatherAsync(ToolCall call, ISignalStore store, Runtime runtime, TimeSpan window, DateTimeOffset now, bool snapshots, CancellationToken cancellationToken)
    {
        var resolution = ResolutionFor(window);
        var from = now - window;
        var cpu = await store.QueryAsync(runtime.Id, SignalNames.CpuUsage, from, now, resolution, cancellationToken).ConfigureAwait(false);
        var memory = await store.QueryAsync(runtime.Id, SignalNames.MemoryUsage, from, now, resolution, cancellationToken).ConfigureAwait(false);
        // State changes are read as finely as the store still has them.
        var up = await store.QueryAsync(runtime.Id, SignalNames.Up, from, now, window <= TimeSpan.FromDays(2) ? SignalResolution.Minute : SignalResolution.Hour, cancellationToken).ConfigureAwait(false);
        var events = await EventsAsync(call, runtime.Id, from, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<Core.Drivers.SnapshotInfo>? snaps = null;
        if (snapshots && runtime.Capabilities.Contains("snapshot", StringComparer.Ordinal) && runtime.State != RuntimeState.Deleted)
        {
            try
            {
                snaps = await call.Services.GetRequiredService<RuntimeLifecycle>().ListSnapshotsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ToolErrors.FromKnown(ex) is not null)
            {
                // No snapshots readable: the rules that need one say so instead.
            }
        }

        return new RuntimeSignals { Runtime = runtime, Cpu = cpu, Memory = memory, Up = up, Events = events, Snapshots = snaps };
    }

    /// <summary>A runtime's events since <paramref name="since"/> (at most 500), oldest first.</summary>
    public static async Task<List<RuntimeEvent>> EventsAsync(ToolCall call, string runtimeId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var page = await call.Inventory.ListEventsAsync(new EventQuery { RuntimeId = runtimeId, Since = since, PageSize = 200 }, cancellationToken).ConfigureAwait(false);
        return page.Items.OrderBy(e => e.Ts).ToList();
    }

    public static string Ts(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
}
