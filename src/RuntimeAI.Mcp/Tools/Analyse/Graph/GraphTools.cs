using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Graph;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Tools.Observe.Inside;

namespace RuntimeAI.Mcp.Tools.Analyse.Graph;

/// <summary>Arguments and output pieces the graph tools share.</summary>
internal static class GraphArgs
{
    /// <summary>A time: <c>30m</c> ago (s, m, h, d) or an RFC 3339 instant.</summary>
    public const string TimePattern = "^(\\d{1,5}[smhd]|\\d{4}-[\\d-]{5}T[\\d:.]{5,}(Z|.\\d\\d:\\d\\d))$";

    /// <summary><c>KIND/NAME</c> or <c>KIND/NAMESPACE/NAME</c>.</summary>
    public const string ResourcePattern = "^[A-Za-z]{2,40}(/[a-z0-9][-a-z0-9.]{0,252}){1,2}$";

    private static readonly Dictionary<string, string> s_kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["pod"] = "pod", ["pods"] = "pod", ["po"] = "pod",
        ["service"] = "service", ["services"] = "service", ["svc"] = "service",
        ["configmap"] = "configmap", ["configmaps"] = "configmap", ["cm"] = "configmap",
        ["secret"] = "secret", ["secrets"] = "secret",
        ["persistentvolumeclaim"] = "persistentvolumeclaim", ["persistentvolumeclaims"] = "persistentvolumeclaim", ["pvc"] = "persistentvolumeclaim",
        ["node"] = "node", ["nodes"] = "node", ["no"] = "node",
        ["deployment"] = "deployment", ["deployments"] = "deployment", ["deploy"] = "deployment",
        ["replicaset"] = "replicaset", ["replicasets"] = "replicaset", ["rs"] = "replicaset",
        ["statefulset"] = "statefulset", ["statefulsets"] = "statefulset", ["sts"] = "statefulset",
        ["daemonset"] = "daemonset", ["daemonsets"] = "daemonset", ["ds"] = "daemonset",
        ["job"] = "job", ["jobs"] = "job",
        ["poddisruptionbudget"] = "poddisruptionbudget", ["poddisruptionbudgets"] = "poddisruptionbudget", ["pdb"] = "poddisruptionbudget",
    };

    public static JsonObject Time() => Schema.String(null, TimePattern);

    /// <summary>The graph key of <c>KIND/NAME</c> or <c>KIND/NAMESPACE/NAME</c> (namespaced kinds default to <c>default</c>); null for an unknown kind.</summary>
    public static string? ResourceKey(string text)
    {
        var parts = text.Split('/');
        if (!s_kinds.TryGetValue(parts[0], out var kind))
        {
            return null;
        }

        return parts.Length == 3 ? GraphObject.KeyOf(kind, parts[1], parts[2])
            : kind == "node" ? GraphObject.KeyOf(kind, null, parts[1])
            : GraphObject.KeyOf(kind, "default", parts[1]);
    }

    public static string KnownKinds => "pod, service, configmap, secret, pvc, node, deployment, replicaset, statefulset, daemonset, job, pdb";

    /// <summary>Parses a time argument (the schema checked its form); null when it is not a valid instant.</summary>
    public static DateTimeOffset? ParseTime(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (char.IsDigit(text[^1]) || text[^1] is 'Z' || text.Contains('T', StringComparison.Ordinal))
        {
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
        }

        var n = long.Parse(text[..^1], CultureInfo.InvariantCulture);
        return now - (text[^1] switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), _ => TimeSpan.FromDays(n) });
    }

    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Lines added while they fit the byte budget; the answer with the common members.</summary>
    public static (JsonArray Lines, List<string> Text, OutputBudget Budget) Fit(ToolCall call, IEnumerable<string> lines, int capChars = 400)
    {
        var budget = OutputBudget.For(call);
        var array = new JsonArray();
        var text = new List<string>();
        foreach (var line in lines)
        {
            var clean = UntrustedText.Clean(line, capChars);
            // Each line is paid twice: in the structured result and in the fenced text.
            if (!budget.TryTake(clean, overhead: 6 + clean.Length))
            {
                break;
            }

            array.Add((JsonNode)JsonValue.Create(clean));
            text.Add(clean);
        }

        return (array, text, budget);
    }
}

internal sealed class GetDependenciesTool : RuntimeTool
{
    private static readonly string[] s_workloadKinds = ["deployment", "statefulset", "daemonset", "job"];

    public override string Name => "get_dependencies";

    public override string Title => "Get dependencies";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "Dependency edges of a runtime or KIND/NS/NAME, up or downstream (blast radius, node drain).";

    public override JsonObject InputSchema { get; } = Schema.Object(
        InsideTarget.Argument(),
        Schema.Optional("resource", Schema.String(null, GraphArgs.ResourcePattern)),
        Schema.Optional("direction", Schema.Enum(null, ["downstream", "upstream", "both"])),
        Schema.Optional("depth", Schema.Integer(null, 1, 5, 2)),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Output(Schema.Required("edges", Schema.Array(Schema.String())));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var (scope, error) = await GraphScope.ResolveAsync(call, cancellationToken).ConfigureAwait(false);
        if (scope is null)
        {
            return error!;
        }

        var direction = call.GetString("direction") switch { "upstream" => GraphDirection.Upstream, "both" => GraphDirection.Both, _ => GraphDirection.Downstream };
        var depth = call.GetInt("depth", 2);
        var resource = call.GetString("resource");
        var (graph, why) = await scope.GraphAsync(call, cancellationToken).ConfigureAwait(false);
        var host = await scope.HostGraphAsync(call, cancellationToken).ConfigureAwait(false);
        var edges = new List<(int Depth, string Dependent, EdgeKind Edge, string Dependency, bool Missing)>();
        DrainPlan? drain = null;
        string root;
        if (resource is not null)
        {
            if (GraphArgs.ResourceKey(resource) is not { } key)
            {
                return ToolResult.Error("invalid_argument", $"resource '{resource}': unknown kind; the graph holds {GraphArgs.KnownKinds} (KIND/NAMESPACE/NAME, or node/NAME)");
            }

            if (graph is null)
            {
                return ToolResult.Error("not_supported", $"no graph of {scope.Name}: {why}");
            }

            if (graph.Graph.Get(key) is null)
            {
                return ToolResult.Error("not_found",
                    $"{key} is not in the graph of {scope.Name} ({graph.Graph.Count} objects{(graph.Synced ? "" : ", still filling")}); list_resources shows what exists");
            }

            root = key;
            foreach (var hop in graph.Graph.Traverse(key, direction, depth, 5000))
            {
                edges.Add(hop.Upstream ? (hop.Depth, hop.From, hop.Edge, hop.Key, hop.Missing) : (hop.Depth, hop.Key, hop.Edge, hop.From, false));
            }

            AddSyncEdges(scope, graph, host, direction, root, edges);
            if (key.StartsWith("node/", StringComparison.Ordinal) && direction is GraphDirection.Downstream or GraphDirection.Both)
            {
                drain = DrainPlan.Of(graph.Graph, key);
            }
        }
        else
        {
            if (scope.Runtime is not { } runtime)
            {
                return ToolResult.Error("invalid_argument", $"pass resource (KIND/NAMESPACE/NAME) for a host cluster; {scope.Key} is not a runtime");
            }

            root = RuntimeNode(runtime);
            await AddRuntimeEdgesAsync(call, runtime, direction, depth, edges, cancellationToken).ConfigureAwait(false);
            if (graph is not null && direction is GraphDirection.Downstream or GraphDirection.Both)
            {
                AddInsideEdges(scope, graph, host, runtime, depth, edges);
            }

            if (host is not null && scope.Vcluster is { } vc && direction is GraphDirection.Upstream or GraphDirection.Both
                && host.Graph.Get(GraphObject.KeyOf("statefulset", vc.Namespace, vc.Name)) is not null)
            {
                edges.Add((1, root, EdgeKind.RunsIn, $"{scope.HostKey} {GraphObject.KeyOf("statefulset", vc.Namespace, vc.Name)}", false));
            }
        }

        var (lines, text, budget) = GraphArgs.Fit(call, edges
            .OrderBy(e => e.Depth)
            .Select(e => $"{e.Depth} {e.Dependent} -{GraphDiff.Name(e.Edge)}-> {e.Dependency}{(e.Missing ? " (missing)" : string.Empty)}"));
        var structured = new JsonObject
        {
            ["root"] = root,
            ["in"] = scope.Name,
            ["direction"] = direction.ToString().ToLowerInvariant(),
            ["depth"] = depth,
            ["edges"] = lines,
            ["count"] = edges.Count,
            ["graph"] = GraphScope.Describe(graph, scope.Sandbox),
            ["note"] = why,
        };
        if (budget.Truncated)
        {
            structured["truncated"] = $"cut at {budget.MaxBytes} bytes after {lines.Count} of {edges.Count} edge(s); lower depth, pick a direction or a resource";
        }

        structured["untrusted"] = UntrustedText.Notice;
        var summary = $"{edges.Count} {direction.ToString().ToLowerInvariant()} edge(s) of {root} in {scope.Name} to depth {depth}" +
                      (budget.Truncated ? $"; {lines.Count} shown (byte budget)" : string.Empty) + ". Each line: DEPTH DEPENDENT -EDGE-> DEPENDENCY.";
        if (drain is not null)
        {
            structured["drain"] = Describe(drain);
            summary += " " + (string)structured["drain"]!["summary"]!;
        }

        return ToolResult.Ok(structured, UntrustedText.Fence(summary, string.Join('\n', text)));
    }

    /// <summary>At most this many pods of each list are named (all are counted).</summary>
    private const int DrainListLimit = 20;

    /// <summary>The drain section of a node's answer: what a drain evicts and the budgets it hits, capped.</summary>
    private static JsonObject Describe(DrainPlan drain)
    {
        var blocking = drain.Blocking.ToList();
        var summary = $"Draining {drain.Node} evicts {drain.Evicted.Count} pod(s) and leaves {drain.DaemonSetPods.Count} DaemonSet pod(s); " +
                      (drain.Budgets.Count == 0 ? "no PodDisruptionBudget covers them."
                          : blocking.Count == 0 ? $"{drain.Budgets.Count} PodDisruptionBudget(s) allow it now."
                          : $"{string.Join(", ", blocking.Select(b => $"{b.Budget} (allows {b.DisruptionsAllowed}, the drain evicts {b.PodsOnNode})"))} " +
                            "would refuse evictions until replacements are healthy elsewhere: the drain stalls there.");
        return new JsonObject
        {
            ["evicts"] = new JsonArray(drain.Evicted.Take(DrainListLimit).Select(e => (JsonNode)JsonValue.Create(e.Workload is null ? e.Pod : $"{e.Pod} ({e.Workload})")!).ToArray()),
            ["evicts_count"] = drain.Evicted.Count,
            ["daemonset_pods"] = drain.DaemonSetPods.Count,
            ["budgets"] = new JsonArray(drain.Budgets.Select(b => (JsonNode)new JsonObject
            {
                ["pdb"] = b.Budget,
                ["pods_evicted"] = b.PodsOnNode,
                ["disruptions_allowed"] = b.DisruptionsAllowed,
                ["blocks"] = b.Blocks,
            }).ToArray()),
            ["summary"] = summary,
        };
    }

    private static string RuntimeNode(Runtime runtime) => $"runtime/{runtime.Name}";

    private static async Task AddRuntimeEdgesAsync(ToolCall call, Runtime runtime, GraphDirection direction, int depth, List<(int, string, EdgeKind, string, bool)> edges, CancellationToken cancellationToken)
    {
        // The caller's own view of the inventory: another tenant's runtimes never appear.
        var all = new List<Runtime>();
        string? token = null;
        do
        {
            var page = await call.Inventory.ListRuntimesAsync(new RuntimeQuery { PageSize = 200, PageToken = token }, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null && all.Count < 10_000);

        bool DependsOn(Runtime a, Runtime b) =>
            a.Id != b.Id && a.Labels.TryGetValue(Core.Governance.DryRunSimulator.DependsOnLabel, out var list)
            && list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Any(d => d == b.Name || d == b.Id);

        var seen = new HashSet<string>(StringComparer.Ordinal) { runtime.Id };
        var frontier = new List<Runtime> { runtime };
        for (var level = 1; level <= depth && frontier.Count > 0; level++)
        {
            var next = new List<Runtime>();
            foreach (var current in frontier)
            {
                foreach (var other in all.Where(r => r.State != RuntimeState.Deleted))
                {
                    if (direction is GraphDirection.Upstream or GraphDirection.Both && DependsOn(current, other) && seen.Add(other.Id))
                    {
                        edges.Add((level, RuntimeNode(current), EdgeKind.DependsOn, RuntimeNode(other), false));
                        next.Add(other);
                    }

                    if (direction is GraphDirection.Downstream or GraphDirection.Both && DependsOn(other, current) && seen.Add(other.Id))
                    {
                        edges.Add((level, RuntimeNode(other), EdgeKind.DependsOn, RuntimeNode(current), false));
                        next.Add(other);
                    }
                }
            }

            frontier = next;
        }
    }

    private static void AddInsideEdges(GraphScope scope, WatchedGraph graph, WatchedGraph? host, Runtime runtime, int depth, List<(int, string, EdgeKind, string, bool)> edges)
    {
        // The top of what runs inside: workloads, unowned pods, Services (not the API's own Service).
        var tops = graph.Graph.Objects(o =>
            (s_workloadKinds.Contains(o.Kind) && o.Owners.Length == 0)
            || (o.Kind == "pod" && o.Owners.Length == 0)
            || (o.Kind == "service" && o.Key != "service/default/kubernetes"));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var top in tops.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            seen.Add(top.Key);
            edges.Add((1, top.Key, EdgeKind.RunsIn, RuntimeNode(runtime), false));
        }

        if (depth < 2)
        {
            return;
        }

        foreach (var top in tops)
        {
            foreach (var hop in graph.Graph.Traverse(top.Key, GraphDirection.Downstream, depth - 1, 5000))
            {
                if (seen.Add(hop.Key))
                {
                    edges.Add((hop.Depth + 1, hop.Key, hop.Edge, hop.From, false));
                }
            }
        }

        if (host is not null && scope.Vcluster is { } vc)
        {
            foreach (var pod in host.Graph.Objects(o => o.Kind == "pod" && o.Namespace == vc.Namespace && o.Label("vcluster.loft.sh/managed-by") == vc.Name))
            {
                var inside = InsideKey(pod);
                var at = edges.FirstOrDefault(e => e.Item2 == inside).Item1;
                if (inside is not null && at > 0 && at < depth)
                {
                    edges.Add((at + 1, $"{scope.HostKey} {pod.Key}", EdgeKind.SyncedFrom, inside, false));
                }
            }
        }
    }

    private static void AddSyncEdges(GraphScope scope, WatchedGraph graph, WatchedGraph? host, GraphDirection direction, string root, List<(int Depth, string Dependent, EdgeKind Edge, string Dependency, bool Missing)> edges)
    {
        var reached = edges.Select(e => (Key: direction == GraphDirection.Upstream ? e.Dependency : e.Dependent, e.Depth)).Prepend((Key: root, Depth: 0)).ToList();
        if (host is not null && scope.Vcluster is { } vc && direction is GraphDirection.Downstream or GraphDirection.Both)
        {
            // A pod inside a vcluster has a copy on the host: it goes when the pod goes.
            foreach (var (key, at) in reached.Where(r => r.Key.StartsWith("pod/", StringComparison.Ordinal)).ToList())
            {
                var pod = graph.Graph.Get(key);
                var synced = pod is null ? null : GraphObject.KeyOf("pod", vc.Namespace, $"{pod.Name}-x-{pod.Namespace}-x-{vc.Name}");
                if (synced is not null && host.Graph.Get(synced) is not null)
                {
                    edges.Add((at + 1, $"{scope.HostKey} {synced}", EdgeKind.SyncedFrom, key, false));
                }
            }
        }

        if (scope.Runtime is null && direction is GraphDirection.Upstream or GraphDirection.Both)
        {
            // A pod on a host that a vcluster synced: it depends on the pod inside that vcluster.
            foreach (var (key, at) in reached.Where(r => r.Key.StartsWith("pod/", StringComparison.Ordinal)).ToList())
            {
                if (graph.Graph.Get(key) is { } pod && InsideKey(pod) is { } inside)
                {
                    edges.Add((at + 1, key, EdgeKind.SyncedFrom, $"vcluster {pod.Label("vcluster.loft.sh/managed-by")} {inside}", false));
                }
            }
        }
    }

    private static string? InsideKey(GraphObject hostPod) =>
        hostPod.Label("vcluster.loft.sh/object-name") is { } name && hostPod.Label("vcluster.loft.sh/namespace") is { } ns
            ? GraphObject.KeyOf("pod", ns, name)
            : null;
}

internal sealed class WhatChangedTool : RuntimeTool
{
    // The newest changes read per call: far more than a byte budget shows, few enough to stay fast.
    private const int MaxChanges = 2000;

    public override string Name => "what_changed";

    public override string Title => "What changed";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "Changes inside a runtime or cluster and its runtime events in a time window, newest first.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        InsideTarget.Argument(),
        Schema.Required("since", GraphArgs.Time()),
        Schema.Optional("until", GraphArgs.Time()),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Output(Schema.Required("changes", Schema.Array(Schema.String())));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var (scope, error) = await GraphScope.ResolveAsync(call, cancellationToken).ConfigureAwait(false);
        if (scope is null)
        {
            return error!;
        }

        var now = call.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (GraphArgs.ParseTime(call.GetString("since"), now) is not { } since
            || (call.GetString("until") is { } u ? GraphArgs.ParseTime(u, now) : now) is not { } until)
        {
            return ToolResult.Error("invalid_argument", "since/until: pass a duration ago (30m, 2h) or an RFC 3339 time (2026-12-07T10:00:00Z)");
        }

        if (until < since)
        {
            return ToolResult.Error("invalid_argument", $"until ({GraphArgs.Iso(until)}) is before since ({GraphArgs.Iso(since)})");
        }

        var (graph, why) = await scope.GraphAsync(call, cancellationToken).ConfigureAwait(false);
        // Lines are formatted only while they fit the budget: a busy window holds many thousands.
        var changes = new List<(DateTimeOffset At, Func<string> Line)>();
        var more = false;
        if (graph is not null)
        {
            var window = graph.Graph.Changes(since, until, limit: MaxChanges);
            more = window.Count == MaxChanges;
            changes.AddRange(window.Select(c => (c.At, (Func<string>)(() => $"{GraphArgs.Iso(c.At)} {c.Type} {c.Key}: {string.Join("; ", c.Fields)}"))));
        }

        if (scope.Runtime is { } runtime)
        {
            var events = await call.Inventory.ListEventsAsync(new EventQuery { RuntimeId = runtime.Id, Since = since, PageSize = 200 }, cancellationToken).ConfigureAwait(false);
            changes.AddRange(events.Items.Where(e => e.Ts <= until).Select(e => (e.Ts, (Func<string>)(() => $"{GraphArgs.Iso(e.Ts)} runtime/{runtime.Name}: {e.Type}"))));
        }

        var ordered = changes.OrderByDescending(c => c.At).ToList();
        var (lines, text, budget) = GraphArgs.Fit(call, ordered.Select(c => c.Line()));
        var notes = new List<string>();
        if (why is not null)
        {
            notes.Add(why);
        }

        if (more)
        {
            notes.Add($"only the newest {MaxChanges} resource changes were read; narrow since/until for older ones");
        }

        if (graph is not null && since < graph.Graph.WindowStart)
        {
            notes.Add($"resource changes before {GraphArgs.Iso(graph.Graph.WindowStart)} are not known (the graph of {scope.Name} is watched since {GraphArgs.Iso(graph.Graph.WatchingSince)} and keeps a sliding window)");
        }

        var structured = new JsonObject
        {
            ["since"] = GraphArgs.Iso(since),
            ["until"] = GraphArgs.Iso(until),
            ["changes"] = lines,
            ["count"] = ordered.Count,
            ["graph"] = GraphScope.Describe(graph, scope.Sandbox),
            ["note"] = notes.Count == 0 ? null : string.Join("; ", notes),
        };
        if (budget.Truncated)
        {
            structured["truncated"] = $"cut at {budget.MaxBytes} bytes after the newest {lines.Count} of {ordered.Count} change(s); narrow since/until";
        }

        structured["untrusted"] = UntrustedText.Notice;
        var summary = $"{ordered.Count} change(s) in {scope.Name} from {GraphArgs.Iso(since)} to {GraphArgs.Iso(until)}" +
                      (budget.Truncated ? $"; newest {lines.Count} shown (byte budget)" : string.Empty) + (notes.Count > 0 ? $". Note: {notes[0]}" : ".");
        return ToolResult.Ok(structured, UntrustedText.Fence(summary, string.Join('\n', text)));
    }
}

internal sealed class DiffRuntimeTool : RuntimeTool
{
    public override string Name => "diff_runtime";

    public override string Title => "Diff a runtime";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "What differs in a runtime between two times: spec revision and resources inside.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        InsideTarget.Argument(),
        Schema.Required("from", GraphArgs.Time()),
        Schema.Optional("to", GraphArgs.Time()),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Output(Schema.Required("resources", Schema.Array(Schema.String())));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var (scope, error) = await GraphScope.ResolveAsync(call, cancellationToken).ConfigureAwait(false);
        if (scope is null)
        {
            return error!;
        }

        var now = call.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (GraphArgs.ParseTime(call.GetString("from"), now) is not { } from
            || (call.GetString("to") is { } t ? GraphArgs.ParseTime(t, now) : now) is not { } to)
        {
            return ToolResult.Error("invalid_argument", "from/to: pass a duration ago (30m, 2h) or an RFC 3339 time (2026-12-07T10:00:00Z)");
        }

        if (to < from)
        {
            return ToolResult.Error("invalid_argument", $"to ({GraphArgs.Iso(to)}) is before from ({GraphArgs.Iso(from)})");
        }

        var spec = new List<string>();
        if (scope.Runtime is { } runtime)
        {
            var revisions = await call.Inventory.GetSpecRevisionsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
            var before = revisions.Where(r => r.Ts <= from).MaxBy(r => r.Revision);
            var after = revisions.Where(r => r.Ts <= to).MaxBy(r => r.Revision);
            if (before?.Revision != after?.Revision)
            {
                spec.Add($"revision {before?.Revision.ToString(CultureInfo.InvariantCulture) ?? "none"} -> {after?.Revision.ToString(CultureInfo.InvariantCulture) ?? "none"}{(after is null ? "" : $" ({after.Reason})")}");
                var a = Flatten(before?.Spec);
                var b = Flatten(after?.Spec);
                foreach (var key in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
                {
                    var (x, y) = (a.GetValueOrDefault(key), b.GetValueOrDefault(key));
                    if (x != y)
                    {
                        spec.Add($"{key}: {x ?? "-"} -> {y ?? "-"}");
                    }
                }
            }
        }

        var (graph, why) = await scope.GraphAsync(call, cancellationToken).ConfigureAwait(false);
        var resources = new List<string>();
        var notes = new List<string>();
        if (why is not null)
        {
            notes.Add(why);
        }

        if (graph is not null)
        {
            var changed = graph.Graph.Changes(from, to).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
            var start = graph.Graph.StateAt(from, changed.Contains);
            var end = graph.Graph.StateAt(to, changed.Contains);
            foreach (var key in changed.Order(StringComparer.Ordinal))
            {
                var lines = GraphDiff.Compare(start.GetValueOrDefault(key), end.GetValueOrDefault(key));
                if (lines.Count > 0)
                {
                    resources.Add($"{key}: {string.Join("; ", lines)}");
                }
            }

            if (from < graph.Graph.WindowStart)
            {
                notes.Add($"resources are compared from {GraphArgs.Iso(graph.Graph.WindowStart)} (the graph knows nothing older)");
            }
        }

        var (specLines, specText, _) = GraphArgs.Fit(call, spec);
        var (resourceLines, resourceText, budget) = GraphArgs.Fit(call, resources);
        var structured = new JsonObject
        {
            ["from"] = GraphArgs.Iso(from),
            ["to"] = GraphArgs.Iso(to),
            ["spec"] = specLines,
            ["resources"] = resourceLines,
            ["count"] = resources.Count,
            ["graph"] = GraphScope.Describe(graph, scope.Sandbox),
            ["note"] = notes.Count == 0 ? null : string.Join("; ", notes),
        };
        if (budget.Truncated)
        {
            structured["truncated"] = $"cut at {budget.MaxBytes} bytes after {resourceLines.Count} of {resources.Count} resource(s); narrow from/to";
        }

        structured["untrusted"] = UntrustedText.Notice;
        var summary = $"{scope.Name} from {GraphArgs.Iso(from)} to {GraphArgs.Iso(to)}: {(spec.Count == 0 ? "spec unchanged" : $"{spec.Count - 1} spec field(s) changed")}, {resources.Count} resource(s) differ" +
                      (notes.Count > 0 ? $". Note: {notes[0]}" : ".");
        return ToolResult.Ok(structured, UntrustedText.Fence(summary, string.Join('\n', specText.Concat(resourceText))));
    }

    private static Dictionary<string, string> Flatten(RuntimeSpec? spec)
    {
        var flat = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (name, value) in obj)
                    {
                        Walk(value, path.Length == 0 ? name : $"{path}.{name}");
                    }

                    break;
                case null:
                    break;
                default:
                    flat[path] = node.ToJsonString();
                    break;
            }
        }

        if (spec is not null)
        {
            Walk(CoreJson.ToNode(spec, CoreJsonContext.Default.RuntimeSpec), string.Empty);
        }

        return flat;
    }
}
