using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RuntimeAI.KubeSim.Api;
using RuntimeAI.KubeSim.Controllers;
using RuntimeAI.KubeSim.KubeVirt;
using RuntimeAI.KubeSim.Store;

namespace RuntimeAI.KubeSim.Http;

/// <summary>Routes one HTTP request to the simulated API: discovery, OpenAPI, and the resource verbs.</summary>
internal static class ApiHandler
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Indented = false };

    public static async Task HandleAsync(HttpContext ctx, SimulatedApi api, string path)
    {
        try
        {
            if (api.Unavailable)
            {
                throw new KubeApiException(503, "ServiceUnavailable", "the virtual cluster is not running (its StatefulSet has no ready replica)");
            }

            await RouteAsync(ctx, api, path).ConfigureAwait(false);
        }
        catch (KubeApiException ex)
        {
            if (!ctx.Response.HasStarted)
            {
                await WriteJsonAsync(ctx, ex.Code, ex.ToStatus()).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away (watch or follow closed).
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or NullReferenceException or FormatException or KeyNotFoundException or IndexOutOfRangeException or System.Text.Json.JsonException)
        {
            // A simulator bug must still look like an apiserver failure to the client, with a message to report.
            if (!ctx.Response.HasStarted)
            {
                await WriteJsonAsync(ctx, 500, KubeApiException.StatusBody(500, "InternalError", $"KubeSim internal error: {ex.GetType().Name}: {ex.Message}")).ConfigureAwait(false);
            }
        }
    }

    public static async Task WriteJsonAsync(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            body.WriteTo(writer);
        }

        buffer.WriteByte((byte)'\n');
        ctx.Response.ContentLength = buffer.Length;
        await ctx.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ctx.RequestAborted).ConfigureAwait(false);
    }

    private static Task NotFoundAsync(HttpContext ctx) =>
        WriteJsonAsync(ctx, 404, KubeApiException.StatusBody(404, "NotFound", "the server could not find the requested resource", new JsonObject()));

    private static async Task RouteAsync(HttpContext ctx, SimulatedApi api, string path)
    {
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = ctx.Request.Method;
        if (segments.Length == 0)
        {
            var paths = new JsonArray("/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version");
            foreach (var (g, v) in api.Catalog.GroupVersions())
            {
                paths.Add((JsonNode)$"/apis/{g}/{v}");
            }

            await WriteJsonAsync(ctx, 200, new JsonObject { ["paths"] = paths }).ConfigureAwait(false);
            return;
        }

        switch (segments[0])
        {
            case "version":
                await WriteJsonAsync(ctx, 200, Discovery.Version(api.Options.KubernetesVersion, api.Now)).ConfigureAwait(false);
                return;
            case "healthz" or "livez" or "readyz":
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                await ctx.Response.WriteAsync("ok", ctx.RequestAborted).ConfigureAwait(false);
                return;
            case "openapi":
                await OpenApiAsync(ctx, api, segments).ConfigureAwait(false);
                return;
            case "api":
                if (segments.Length == 1)
                {
                    await WriteJsonAsync(ctx, 200, Discovery.CoreVersions(ctx.Request.Host.Value ?? "127.0.0.1")).ConfigureAwait(false);
                    return;
                }

                if (segments[1] != "v1")
                {
                    await NotFoundAsync(ctx).ConfigureAwait(false);
                    return;
                }

                if (segments.Length == 2)
                {
                    await WriteJsonAsync(ctx, 200, Discovery.Resources(api.Catalog, string.Empty, "v1")!).ConfigureAwait(false);
                    return;
                }

                await ResourceAsync(ctx, api, string.Empty, "v1", segments[2..], method).ConfigureAwait(false);
                return;
            case "apis":
                if (segments.Length == 1)
                {
                    await WriteJsonAsync(ctx, 200, Discovery.Groups(api.Catalog)).ConfigureAwait(false);
                    return;
                }

                if (segments.Length == 2)
                {
                    var group = Discovery.Group(api.Catalog, segments[1]);
                    await (group is null ? NotFoundAsync(ctx) : WriteJsonAsync(ctx, 200, group)).ConfigureAwait(false);
                    return;
                }

                if (segments.Length == 3)
                {
                    var resources = Discovery.Resources(api.Catalog, segments[1], segments[2]);
                    await (resources is null ? NotFoundAsync(ctx) : WriteJsonAsync(ctx, 200, resources)).ConfigureAwait(false);
                    return;
                }

                await ResourceAsync(ctx, api, segments[1], segments[2], segments[3..], method).ConfigureAwait(false);
                return;
            default:
                await NotFoundAsync(ctx).ConfigureAwait(false);
                return;
        }
    }

    private static async Task OpenApiAsync(HttpContext ctx, SimulatedApi api, string[] segments)
    {
        if (segments.Length >= 2 && segments[1] == "v3")
        {
            var doc = segments.Length == 2 ? OpenApi.Index(api.Catalog) : OpenApi.GroupVersion(api.Catalog, string.Join('/', segments[2..]));
            await (doc is null ? NotFoundAsync(ctx) : WriteJsonAsync(ctx, 200, doc)).ConfigureAwait(false);
            return;
        }

        await NotFoundAsync(ctx).ConfigureAwait(false);
    }

    private static bool QueryFlag(HttpContext ctx, string name) =>
        ctx.Request.Query.TryGetValue(name, out var v) && v.ToString() is "1" or "true" or "True";

    private static string? Query(HttpContext ctx, string name) =>
        ctx.Request.Query.TryGetValue(name, out var v) && v.Count > 0 ? v.ToString() : null;

    private static bool WantsTable(HttpContext ctx) =>
        ctx.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    private static async Task<string> ReadBodyAsync(HttpContext ctx)
    {
        var contentType = ctx.Request.ContentType ?? string.Empty;
        if (contentType.StartsWith("application/vnd.kubernetes.protobuf", StringComparison.Ordinal))
        {
            // kubectl's typed generators (create namespace/configmap/secret/deployment..., drain) send protobuf.
            using var buffer = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
            return ProtobufBodies.Decode(buffer.ToArray()).ToJsonString();
        }

        if (contentType.Contains("protobuf", StringComparison.Ordinal) || contentType.Contains("cbor", StringComparison.Ordinal))
        {
            throw new KubeApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
        }

        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    private static async Task ResourceAsync(HttpContext ctx, SimulatedApi api, string group, string version, string[] segs, string method)
    {
        var watch = false;
        if (segs[0] == "watch")
        {
            watch = true;
            segs = segs[1..];
        }

        string? ns = null;
        if (segs.Length >= 3 && segs[0] == "namespaces" && !(segs.Length == 3 && segs[2] is "status" or "finalize"))
        {
            ns = segs[1];
            segs = segs[2..];
        }

        if (segs.Length == 0 || segs.Length > 3)
        {
            await NotFoundAsync(ctx).ConfigureAwait(false);
            return;
        }

        var resource = segs[0];
        var name = segs.Length > 1 ? segs[1] : null;
        var sub = segs.Length > 2 ? segs[2] : null;
        var dryRun = Query(ctx, "dryRun") == "All";

        if (group == ResourceCatalog.KubeVirtSubresourceGroup)
        {
            if (name is null || sub is null || ns is null || method is not ("PUT" or "POST"))
            {
                await NotFoundAsync(ctx).ConfigureAwait(false);
                return;
            }

            var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
            VirtualMachineActions.Handle(api, ns, resource, name, sub, body, dryRun);
            ctx.Response.StatusCode = 202;
            return;
        }

        var type = api.Catalog.Find(group, version, resource);
        if (type is null || (type.Namespaced == false && ns is not null))
        {
            await NotFoundAsync(ctx).ConfigureAwait(false);
            return;
        }

        if (type.Review && !(method == "POST" && name is null))
        {
            throw KubeApiException.MethodNotAllowed($"only create is allowed on {type.GroupResource}");
        }

        if (type.Namespaced && ns is null && name is not null && type != ResourceCatalog.Namespaces)
        {
            await NotFoundAsync(ctx).ConfigureAwait(false);
            return;
        }

        if (sub is not null && !type.Subresources.Contains(sub))
        {
            await NotFoundAsync(ctx).ConfigureAwait(false);
            return;
        }

        var fieldManager = Query(ctx, "fieldManager");
        switch (method)
        {
            case "GET" when name is null:
                if (watch || QueryFlag(ctx, "watch"))
                {
                    await WatchAsync(ctx, api, type, ns).ConfigureAwait(false);
                }
                else
                {
                    await ListAsync(ctx, api, type, ns).ConfigureAwait(false);
                }

                return;
            case "GET" when sub == "log":
                await PodLogs.WriteAsync(ctx, api, api.Get(type, ns, name!)).ConfigureAwait(false);
                return;
            case "GET" when sub == "scale":
                await WriteJsonAsync(ctx, 200, Scale.Get(type, api.Get(type, ns, name!))).ConfigureAwait(false);
                return;
            case "GET":
                {
                    var obj = type.ReadOnly ? Metrics.Get(api, type, ns, name!) : api.Get(type, ns, name!);
                    await WriteObjectAsync(ctx, api, type, 200, obj).ConfigureAwait(false);
                    return;
                }

            case "POST" when name is null && type.Review:
                {
                    var review = Yaml.ParseObject(await ReadBodyAsync(ctx).ConfigureAwait(false));
                    await WriteJsonAsync(ctx, 201, Reviews.Answer(type, review)).ConfigureAwait(false);
                    return;
                }

            case "POST" when name is null:
                {
                    var body = Yaml.ParseObject(await ReadBodyAsync(ctx).ConfigureAwait(false));
                    var created = api.Create(type, ns, body, dryRun, fieldManager);
                    await WriteObjectAsync(ctx, api, type, 201, created).ConfigureAwait(false);
                    return;
                }

            case "POST" when sub == "eviction":
                {
                    var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
                    Disruption.Evict(api, ns!, name!, body.Length == 0 ? new JsonObject() : Json.Parse(body), dryRun);
                    await WriteJsonAsync(ctx, 201, KubeApiException.StatusBody(201, string.Empty, string.Empty)).ConfigureAwait(false);
                    return;
                }

            case "PUT" when name is not null:
                {
                    var body = Yaml.ParseObject(await ReadBodyAsync(ctx).ConfigureAwait(false));
                    JsonObject result = sub switch
                    {
                        null => api.Replace(type, ns, name, body, dryRun, fieldManager),
                        "status" => api.ReplaceStatus(type, ns, name, body, dryRun),
                        "scale" => Scale.Update(api, type, ns, name, body, dryRun),
                        "finalize" => api.Replace(type, ns, name, body, dryRun, fieldManager),
                        _ => throw KubeApiException.MethodNotAllowed($"the server does not allow this method on the requested resource ({type.Resource}/{sub})"),
                    };
                    await WriteObjectAsync(ctx, api, type, 200, result, sub == "scale").ConfigureAwait(false);
                    return;
                }

            case "PATCH" when name is not null:
                {
                    var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
                    var contentType = ctx.Request.ContentType ?? string.Empty;
                    JsonObject result = sub == "scale"
                        ? Scale.Patch(api, type, ns, name, contentType, body, dryRun)
                        : api.Patch(type, ns, name, contentType, body, sub, dryRun, fieldManager, QueryFlag(ctx, "force"));
                    await WriteObjectAsync(ctx, api, type, 200, result, sub == "scale").ConfigureAwait(false);
                    return;
                }

            case "DELETE" when name is not null && sub is null:
                {
                    var options = await DeleteOptionsAsync(ctx).ConfigureAwait(false);
                    var deleted = api.Delete(type, ns, name, options.Propagation, dryRun || options.DryRun, options.Uid, options.ResourceVersion);
                    var held = Json.At(deleted, "metadata", "deletionTimestamp") is not null;
                    await WriteObjectAsync(ctx, api, type, held ? 202 : 200, deleted).ConfigureAwait(false);
                    return;
                }

            case "DELETE" when name is null:
                {
                    var options = await DeleteOptionsAsync(ctx).ConfigureAwait(false);
                    var items = Select(api, type, ns, ctx, out var rv);
                    var deleted = new JsonArray();
                    foreach (var item in items)
                    {
                        try
                        {
                            deleted.Add((JsonNode)api.Delete(type, Json.Namespace(item), Json.Name(item), options.Propagation, dryRun || options.DryRun));
                        }
                        catch (KubeApiException ex) when (ex.Code == 404)
                        {
                            // Removed by a cascade of an earlier item.
                        }
                    }

                    await WriteJsonAsync(ctx, 200, ListBody(type, deleted, api.Store.ResourceVersion.ToString(CultureInfo.InvariantCulture), null, null)).ConfigureAwait(false);
                    return;
                }

            default:
                throw KubeApiException.MethodNotAllowed($"the server does not allow this method on the requested resource");
        }
    }

    private sealed record DeleteOptions(string? Propagation, bool DryRun, string? Uid, string? ResourceVersion);

    private static async Task<DeleteOptions> DeleteOptionsAsync(HttpContext ctx)
    {
        var text = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var body = string.IsNullOrWhiteSpace(text) ? new JsonObject() : Json.Parse(text);
        var propagation = Json.Str(body, "propagationPolicy") ?? Query(ctx, "propagationPolicy");
        if (propagation is null && Json.Bool(body, "orphanDependents") == true)
        {
            propagation = "Orphan";
        }

        var dryRun = (body["dryRun"] as JsonArray)?.Any(v => Json.Str(v) == "All") == true;
        return new DeleteOptions(propagation, dryRun, Json.Str(body, "preconditions", "uid"), Json.Str(body, "preconditions", "resourceVersion"));
    }

    private static async Task WriteObjectAsync(HttpContext ctx, SimulatedApi api, ResourceType type, int status, JsonObject obj, bool raw = false)
    {
        if (!raw && WantsTable(ctx))
        {
            var table = Tables.Build(type, [obj], Json.Str(obj, "metadata", "resourceVersion") ?? "0", null, api.Now);
            await WriteJsonAsync(ctx, status, table).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(ctx, status, obj).ConfigureAwait(false);
    }

    private static List<JsonObject> Select(SimulatedApi api, ResourceType type, string? ns, HttpContext ctx, out long resourceVersion)
    {
        var labels = LabelSelector.Parse(Query(ctx, "labelSelector"));
        var fields = FieldSelector.Parse(Query(ctx, "fieldSelector"));
        List<JsonObject> items;
        if (type.ReadOnly)
        {
            items = Metrics.List(api, type, ns);
            resourceVersion = api.Store.ResourceVersion;
        }
        else
        {
            items = api.Store.List(type, ns, out resourceVersion);
        }

        return items.Where(o => labels.Matches(o) && fields.Matches(o)).ToList();
    }

    private static async Task ListAsync(HttpContext ctx, SimulatedApi api, ResourceType type, string? ns)
    {
        var items = Select(api, type, ns, ctx, out var rv);
        string? lastKey = null;
        if (Query(ctx, "continue") is { } token)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(token));
                var sep = decoded.IndexOf('|', StringComparison.Ordinal);
                lastKey = decoded[(sep + 1)..];
                if (long.Parse(decoded[..sep], CultureInfo.InvariantCulture) < api.Store.OldestResumable)
                {
                    throw new KubeApiException(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
                }
            }
            catch (FormatException)
            {
                throw KubeApiException.BadRequest("continue key is not valid: illegal base64 data");
            }
        }

        static string Key(JsonObject o) => $"{Json.Namespace(o)}/{Json.Name(o)}";
        if (lastKey is not null)
        {
            items = items.Where(o => string.CompareOrdinal(Key(o), lastKey) > 0).ToList();
        }

        string? next = null;
        long? remaining = null;
        if (long.TryParse(Query(ctx, "limit"), CultureInfo.InvariantCulture, out var limit) && limit > 0 && items.Count > limit)
        {
            remaining = items.Count - limit;
            items = items.Take((int)limit).ToList();
            next = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{rv}|{Key(items[^1])}"));
        }

        var version = rv.ToString(CultureInfo.InvariantCulture);
        if (WantsTable(ctx))
        {
            await WriteJsonAsync(ctx, 200, Tables.Build(type, items, version, next, api.Now)).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(ctx, 200, ListBody(type, new JsonArray(items.Select(i => (JsonNode)i).ToArray()), version, next, remaining)).ConfigureAwait(false);
    }

    private static JsonObject ListBody(ResourceType type, JsonArray items, string resourceVersion, string? next, long? remaining)
    {
        var meta = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (next is not null)
        {
            meta["continue"] = next;
            meta["remainingItemCount"] = remaining;
        }

        return new JsonObject { ["kind"] = type.Kind + "List", ["apiVersion"] = type.ApiVersion, ["metadata"] = meta, ["items"] = items };
    }

    private static async Task WatchAsync(HttpContext ctx, SimulatedApi api, ResourceType type, string? ns)
    {
        if (type.ReadOnly)
        {
            throw KubeApiException.MethodNotAllowed("the server does not allow watching this resource");
        }

        if (api.Faults is { } faults)
        {
            await faults.WatchGateAsync(ctx.RequestAborted).ConfigureAwait(false);
        }

        var labels = LabelSelector.Parse(Query(ctx, "labelSelector"));
        var fields = FieldSelector.Parse(Query(ctx, "fieldSelector"));
        var table = WantsTable(ctx);
        var bookmarks = QueryFlag(ctx, "allowWatchBookmarks");
        var sendInitial = QueryFlag(ctx, "sendInitialEvents");
        var rvText = Query(ctx, "resourceVersion");
        var response = ctx.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        var columnsSent = false;

        async Task SendAsync(string eventType, JsonObject obj)
        {
            JsonNode payload = obj;
            if (table && eventType != "BOOKMARK" && eventType != "ERROR")
            {
                payload = Tables.Build(type, [obj], Json.Str(obj, "metadata", "resourceVersion") ?? "0", null, api.Now, includeColumns: !columnsSent);
                columnsSent = true;
            }

            var line = new JsonObject { ["type"] = eventType, ["object"] = payload.DeepClone() }.ToJsonString() + "\n";
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes(line), ctx.RequestAborted).ConfigureAwait(false);
            await response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        }

        Watcher watcher;
        List<StoredEvent> backlog;
        var initial = new List<JsonObject>();
        long from;
        if (string.IsNullOrEmpty(rvText) || rvText == "0" || sendInitial)
        {
            initial = api.Store.List(type, ns, out from);
        }
        else if (!long.TryParse(rvText, CultureInfo.InvariantCulture, out from))
        {
            throw KubeApiException.BadRequest($"invalid resource version: {rvText}");
        }

        try
        {
            watcher = api.Store.Subscribe(type, ns, from, out backlog);
        }
        catch (KubeApiException ex) when (ex.Code == 410)
        {
            await response.StartAsync(ctx.RequestAborted).ConfigureAwait(false);
            await SendAsync("ERROR", ex.ToStatus()).ConfigureAwait(false);
            return;
        }

        if (api.Faults is { WatchesHeld: true })
        {
            // Held after this request passed the gate and before it subscribed, so the hold's drop
            // missed it: end it now, as that drop would have, and the client's next watch waits.
            api.Store.Unsubscribe(watcher);
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        try
        {
            await response.StartAsync(ctx.RequestAborted).ConfigureAwait(false);
            await response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
            foreach (var o in initial.Where(o => labels.Matches(o) && fields.Matches(o)))
            {
                await SendAsync("ADDED", o).ConfigureAwait(false);
            }

            var lastSent = from;
            foreach (var e in backlog)
            {
                lastSent = e.ResourceVersion;
                if (Filtered(e, labels, fields) is { } type2)
                {
                    await SendAsync(type2, e.Object).ConfigureAwait(false);
                }
            }

            if (bookmarks && sendInitial)
            {
                await SendAsync("BOOKMARK", Bookmark(type, lastSent, initialEnd: true)).ConfigureAwait(false);
            }

            var timeout = long.TryParse(Query(ctx, "timeoutSeconds"), CultureInfo.InvariantCulture, out var secs) && secs > 0
                ? Task.Delay(TimeSpan.FromSeconds(secs), api.Time, cts.Token)
                : Task.Delay(Timeout.InfiniteTimeSpan, cts.Token);
            Task? bookmarkTimer = bookmarks ? Task.Delay(api.Options.WatchBookmarkInterval, api.Time, cts.Token) : null;
            var read = watcher.Events.Reader.WaitToReadAsync(cts.Token).AsTask();
            while (true)
            {
                var done = bookmarkTimer is null
                    ? await Task.WhenAny(read, timeout).ConfigureAwait(false)
                    : await Task.WhenAny(read, timeout, bookmarkTimer).ConfigureAwait(false);
                if (done == timeout || ctx.RequestAborted.IsCancellationRequested)
                {
                    return;
                }

                if (done == bookmarkTimer)
                {
                    await SendAsync("BOOKMARK", Bookmark(type, Math.Max(lastSent, api.Store.ResourceVersion), initialEnd: false)).ConfigureAwait(false);
                    bookmarkTimer = Task.Delay(api.Options.WatchBookmarkInterval, api.Time, cts.Token);
                    continue;
                }

                if (!await read.ConfigureAwait(false))
                {
                    return; // the store dropped this watch (fault injection)
                }

                while (watcher.Events.Reader.TryRead(out var e))
                {
                    lastSent = e.ResourceVersion;
                    if (Filtered(e, labels, fields) is { } type2)
                    {
                        await SendAsync(type2, e.Object).ConfigureAwait(false);
                    }
                }

                read = watcher.Events.Reader.WaitToReadAsync(cts.Token).AsTask();
            }
        }
        finally
        {
            api.Store.Unsubscribe(watcher);
            await cts.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The event type a filtered watch sees: a change that moves an object into the selection is ADDED, one that moves
    /// it out is DELETED (as the apiserver's watch filtering does); null when the object is outside before and after.
    /// </summary>
    private static string? Filtered(StoredEvent e, LabelSelector labels, FieldSelector fields)
    {
        var now = labels.Matches(e.Object) && fields.Matches(e.Object);
        if (e.EventType != "MODIFIED" || e.Previous is null)
        {
            return now ? e.EventType : null;
        }

        var before = labels.Matches(e.Previous) && fields.Matches(e.Previous);
        return (before, now) switch
        {
            (true, true) => "MODIFIED",
            (false, true) => "ADDED",
            (true, false) => "DELETED",
            _ => null,
        };
    }

    private static JsonObject Bookmark(ResourceType type, long resourceVersion, bool initialEnd)
    {
        var meta = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) };
        if (initialEnd)
        {
            meta["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }

        return new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion, ["metadata"] = meta };
    }
}
