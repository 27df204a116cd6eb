using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Inside;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.Inside;

/// <summary>
/// Reads a Kubernetes API for the observe tools with raw requests on <see cref="KubeCluster"/>:
/// discovery (as kubectl resolves kinds), server-side Tables for lists, objects as JSON, pod logs as
/// text, events by field selector, the metrics API.
/// </summary>
public sealed class KubeClusterView : IClusterView, IClusterWatchSource
{
    // Table rows with the object's metadata only: names and namespaces, never whole objects.
    private const string TableAccept = KubeCluster.TableAccept + ";includeObject=Metadata, application/json";

    private readonly KubeCluster _cluster;
    private readonly bool _owns;
    private readonly SemaphoreSlim _discoveryLock = new(1, 1);
    private List<Served>? _served;

    /// <summary>A view over a cluster.</summary>
    /// <param name="cluster">The API to read.</param>
    /// <param name="name">What it is called in messages.</param>
    /// <param name="owns">Dispose the cluster with the view (a nested API opened for one call).</param>
    public KubeClusterView(KubeCluster cluster, string name, bool owns)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(name);
        _cluster = cluster;
        _owns = owns;
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool IsSandbox => _cluster.Options.IsSandbox;

    /// <inheritdoc />
    public async Task<ResourceKind> ResolveKindAsync(string kind, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        var found = Match(await ServedAsync(false, cancellationToken).ConfigureAwait(false), kind)
                    // A CRD created since the last discovery: read discovery again once.
                    ?? Match(await ServedAsync(true, cancellationToken).ConfigureAwait(false), kind);
        return found ?? throw new RuntimeDriverException(
            $"{Name} serves no resource type '{kind}'; use a Kind (Pod), plural (pods), short name (po) or plural.group (deployments.apps), as kubectl api-resources lists them")
        { Code = "unknown_kind" };
    }

    /// <inheritdoc />
    public async Task<ResourceTable> ListAsync(ResourceListQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var kind = await ResolveKindAsync(query.Kind, cancellationToken).ConfigureAwait(false);
        var path = new StringBuilder(Collection(kind, kind.Namespaced ? query.Namespace : null));
        path.Append("?limit=").Append(query.Limit.ToString(CultureInfo.InvariantCulture));
        Append(path, "continue", query.Continue);
        Append(path, "labelSelector", query.LabelSelector);
        Append(path, "fieldSelector", query.FieldSelector);
        var answer = await _cluster.SendAsync(HttpMethod.Get, path.ToString(), null, cancellationToken, accept: TableAccept).ConfigureAwait(false) as JsonObject
                     ?? throw new RuntimeDriverException($"{Name} answered GET {path} with nothing") { Code = "driver_error" };
        var next = answer["metadata"]?["continue"]?.GetValue<string>();
        if (answer["kind"]?.GetValue<string>() == "Table")
        {
            var definitions = answer["columnDefinitions"] as JsonArray ?? [];
            // Priority 0 columns are what `kubectl get` prints; the rest is `-o wide`.
            var keep = definitions.Select((d, i) => (Index: i, Name: d?["name"]?.GetValue<string>() ?? $"col{i}", Priority: d?["priority"]?.GetValue<int>() ?? 0))
                .Where(c => c.Priority == 0).ToList();
            var rows = (answer["rows"] as JsonArray ?? []).OfType<JsonObject>().Select(r =>
            {
                var cells = r["cells"] as JsonArray ?? [];
                return new ResourceRow(
                    r["object"]?["metadata"]?["namespace"]?.GetValue<string>(),
                    keep.Select(c => Cell(c.Index < cells.Count ? cells[c.Index] : null)).ToList());
            }).ToList();
            return new ResourceTable(kind, keep.Select(c => c.Name).ToList(), rows, string.IsNullOrEmpty(next) ? null : next);
        }

        // A server without Tables for this type: name and age, like kubectl's default printer.
        var items = (answer["items"] as JsonArray ?? []).OfType<JsonObject>().Select(o => new ResourceRow(
            o["metadata"]?["namespace"]?.GetValue<string>(),
            [o["metadata"]?["name"]?.GetValue<string>() ?? string.Empty, o["metadata"]?["creationTimestamp"]?.GetValue<string>() ?? string.Empty])).ToList();
        return new ResourceTable(kind, ["Name", "Created"], items, string.IsNullOrEmpty(next) ? null : next);
    }

    /// <inheritdoc />
    public async Task<(ResourceKind Kind, JsonObject Object)> GetAsync(string kind, string name, string? ns, CancellationToken cancellationToken)
    {
        var resolved = await ResolveKindAsync(kind, cancellationToken).ConfigureAwait(false);
        if (resolved.Namespaced && string.IsNullOrEmpty(ns))
        {
            throw new RuntimeDriverException($"{resolved.Kind} is namespaced: pass namespace (list_resources shows each row's namespace)") { Code = "invalid_argument" };
        }

        var path = Collection(resolved, resolved.Namespaced ? ns : null) + "/" + Uri.EscapeDataString(name);
        var obj = await _cluster.SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false) as JsonObject
                  ?? throw new RuntimeDriverException($"{Name} answered GET {path} with nothing") { Code = "driver_error" };
        return (resolved, obj);
    }

    /// <inheritdoc />
    public async Task<string> ReadLogsAsync(LogQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = new StringBuilder($"/api/v1/namespaces/{Uri.EscapeDataString(query.Namespace)}/pods/{Uri.EscapeDataString(query.Pod)}/log?limitBytes=");
        path.Append(query.LimitBytes.ToString(CultureInfo.InvariantCulture));
        Append(path, "container", query.Container);
        Append(path, "sinceSeconds", query.SinceSeconds?.ToString(CultureInfo.InvariantCulture));
        Append(path, "tailLines", query.TailLines?.ToString(CultureInfo.InvariantCulture));
        if (query.Previous)
        {
            path.Append("&previous=true");
        }

        return await _cluster.SendTextAsync(HttpMethod.Get, path.ToString(), null, cancellationToken, accept: "text/plain, */*").ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ClusterEvent>> ListEventsAsync(ResourceKind? kind, string? name, string? ns, CancellationToken cancellationToken)
    {
        var path = new StringBuilder(ns is null ? "/api/v1/events" : $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/events");
        path.Append("?limit=500");
        var selector = new List<string>();
        if (name is not null)
        {
            selector.Add("involvedObject.name=" + name);
        }

        if (kind is not null)
        {
            selector.Add("involvedObject.kind=" + kind.Kind);
        }

        Append(path, "fieldSelector", selector.Count == 0 ? null : string.Join(',', selector));
        var answer = await _cluster.SendAsync(HttpMethod.Get, path.ToString(), null, cancellationToken).ConfigureAwait(false);
        return (answer?["items"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(e => new ClusterEvent(
                Str(e, "type") ?? "Normal",
                Str(e, "reason") ?? string.Empty,
                Str(e, "message") ?? string.Empty,
                e["count"] is JsonValue c && c.TryGetValue<int>(out var n) ? n : 1,
                Str(e, "lastTimestamp") ?? Str(e, "eventTime") ?? e["metadata"]?["creationTimestamp"]?.GetValue<string>(),
                $"{e["involvedObject"]?["kind"]?.GetValue<string>()?.ToLowerInvariant()}/{e["involvedObject"]?["name"]?.GetValue<string>()}",
                e["metadata"]?["namespace"]?.GetValue<string>()))
            .OrderBy(e => e.LastSeen, StringComparer.Ordinal)
            .ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PodUsage>> ReadPodUsageAsync(string? ns, string? podPrefix, CancellationToken cancellationToken)
    {
        var scope = ns is null ? string.Empty : $"/namespaces/{Uri.EscapeDataString(ns)}";
        var pods = await _cluster.SendAsync(HttpMethod.Get, $"/api/v1{scope}/pods", null, cancellationToken).ConfigureAwait(false);
        JsonNode? metrics = null;
        try
        {
            metrics = await _cluster.TryGetAsync($"/apis/metrics.k8s.io/v1beta1{scope}/pods", cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException)
        {
            // No metrics API (metrics-server not installed): restarts still count.
        }

        var usage = (metrics?["items"] as JsonArray ?? []).OfType<JsonObject>().ToDictionary(
            m => $"{m["metadata"]?["namespace"]}/{m["metadata"]?["name"]}",
            m => (m["containers"] as JsonArray ?? []).OfType<JsonObject>().Aggregate((Cpu: 0L, Mem: 0L), (sum, c) =>
                (sum.Cpu + KubeQuantities.MilliCpu(c["usage"]?["cpu"]?.GetValue<string>()), sum.Mem + KubeQuantities.MiB(c["usage"]?["memory"]?.GetValue<string>()))),
            StringComparer.Ordinal);
        return (pods?["items"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(p => podPrefix is null || (p["metadata"]?["name"]?.GetValue<string>() ?? string.Empty).StartsWith(podPrefix, StringComparison.Ordinal))
            .Select(p =>
            {
                var podNs = p["metadata"]?["namespace"]?.GetValue<string>() ?? string.Empty;
                var name = p["metadata"]?["name"]?.GetValue<string>() ?? string.Empty;
                var restarts = (p["status"]?["containerStatuses"] as JsonArray ?? []).Sum(c => c?["restartCount"]?.GetValue<int>() ?? 0);
                return usage.TryGetValue($"{podNs}/{name}", out var u)
                    ? new PodUsage(podNs, name, u.Cpu, u.Mem, restarts)
                    : new PodUsage(podNs, name, null, null, restarts);
            })
            .ToList();
    }

    /// <inheritdoc />
    public async Task<WatchListing> ListForWatchAsync(ResourceKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kind);
        var items = new List<JsonElement>();
        string? next = null;
        string resourceVersion;
        do
        {
            var path = new StringBuilder(Collection(kind, null)).Append("?limit=500");
            Append(path, "continue", next);
            var text = await _cluster.SendTextAsync(HttpMethod.Get, path.ToString(), null, cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.TryGetProperty("items", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                items.AddRange(list.EnumerateArray().Select(i => i.Clone()));
            }

            var meta = root.TryGetProperty("metadata", out var m) ? m : default;
            resourceVersion = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() ?? "0" : "0";
            next = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("continue", out var c) && c.GetString() is { Length: > 0 } token ? token : null;
        }
        while (next is not null);

        return new WatchListing(items, resourceVersion);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ClusterWatchEvent> WatchAsync(ResourceKind kind, string resourceVersion, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kind);
        var path = new StringBuilder(Collection(kind, null)).Append("?watch=1&allowWatchBookmarks=true&timeoutSeconds=300");
        Append(path, "resourceVersion", resourceVersion);
        var lines = _cluster.StreamLinesAsync(path.ToString(), cancellationToken);
        var e = lines.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await e.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (KubeApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.Gone)
                {
                    throw new ResourceVersionExpiredException(ex.Message);
                }

                ClusterWatchEvent? parsed = null;
                try
                {
                    using var doc = JsonDocument.Parse(e.Current);
                    var root = doc.RootElement;
                    if (root.TryGetProperty("type", out var type) && type.GetString() is { } t && root.TryGetProperty("object", out var obj))
                    {
                        parsed = new ClusterWatchEvent(t, obj.Clone());
                    }
                }
                catch (JsonException)
                {
                    // A torn line (the connection dropped mid-event): the watch resumes from the last good version.
                    yield break;
                }

                if (parsed is not null)
                {
                    yield return parsed;
                }
            }
        }
        finally
        {
            await e.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _discoveryLock.Dispose();
        if (_owns)
        {
            _cluster.Dispose();
        }
    }

    private static string Collection(ResourceKind kind, string? ns) =>
        (kind.Group.Length == 0 ? "/api/" + kind.Version : $"/apis/{kind.Group}/{kind.Version}")
        + (ns is null ? string.Empty : "/namespaces/" + Uri.EscapeDataString(ns))
        + "/" + kind.Resource;

    private static void Append(StringBuilder path, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            path.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }

    private static string? Str(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Cell(JsonNode? cell) => cell switch
    {
        null => string.Empty,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        JsonArray a => string.Join(',', a.Select(Cell)),
        _ => cell.ToJsonString(),
    };

    private static ResourceKind? Match(List<Served> served, string text)
    {
        var lower = text.ToLowerInvariant();
        var hit = served.FirstOrDefault(s => s.Matches(lower, null));
        if (hit is null && lower.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot)
        {
            var (name, group) = (lower[..dot], lower[(dot + 1)..]);
            hit = served.FirstOrDefault(s => s.Matches(name, group));
        }

        return hit?.Kind;
    }

    private async Task<List<Served>> ServedAsync(bool refresh, CancellationToken cancellationToken)
    {
        if (_served is { } cached && !refresh)
        {
            return cached;
        }

        await _discoveryLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_served is { } again && !refresh)
            {
                return again;
            }

            var served = new List<Served>();
            Add(served, string.Empty, "v1", await _cluster.SendAsync(HttpMethod.Get, "/api/v1", null, cancellationToken).ConfigureAwait(false));
            var groups = await _cluster.SendAsync(HttpMethod.Get, "/apis", null, cancellationToken).ConfigureAwait(false);
            foreach (var group in (groups?["groups"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var name = group["name"]?.GetValue<string>() ?? string.Empty;
                var preferred = group["preferredVersion"]?["version"]?.GetValue<string>();
                if (preferred is null)
                {
                    continue;
                }

                try
                {
                    Add(served, name, preferred, await _cluster.SendAsync(HttpMethod.Get, $"/apis/{name}/{preferred}", null, cancellationToken).ConfigureAwait(false));
                }
                catch (KubeApiException)
                {
                    // One broken aggregated API (a metrics-server down) must not hide every other kind.
                }
            }

            _served = served;
            return served;
        }
        finally
        {
            _discoveryLock.Release();
        }
    }

    private static void Add(List<Served> served, string group, string version, JsonNode? list)
    {
        foreach (var r in (list?["resources"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var resource = r["name"]?.GetValue<string>() ?? string.Empty;
            if (resource.Length == 0 || resource.Contains('/', StringComparison.Ordinal))
            {
                continue; // subresources (pods/log, deployments/scale) are not kinds
            }

            var kind = r["kind"]?.GetValue<string>() ?? resource;
            var singular = r["singularName"]?.GetValue<string>();
            served.Add(new Served(
                new ResourceKind(group, version, resource, kind, r["namespaced"]?.GetValue<bool>() ?? true),
                string.IsNullOrEmpty(singular) ? kind.ToLowerInvariant() : singular,
                (r["shortNames"] as JsonArray ?? []).Select(s => s?.GetValue<string>() ?? string.Empty).ToArray()));
        }
    }

    private sealed record Served(ResourceKind Kind, string Singular, string[] ShortNames)
    {
        public bool Matches(string lower, string? group) =>
            (group is null || string.Equals(Kind.Group, group, StringComparison.Ordinal) || Kind.Group.StartsWith(group + ".", StringComparison.Ordinal))
            && (string.Equals(Kind.Resource, lower, StringComparison.Ordinal)
                || string.Equals(Singular, lower, StringComparison.Ordinal)
                || string.Equals(Kind.Kind, lower, StringComparison.OrdinalIgnoreCase)
                || ShortNames.Contains(lower, StringComparer.Ordinal));
    }
}
