using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RuntimeAI.Kubernetes.Model;
using RuntimeAI.Kubernetes.Watch;

namespace RuntimeAI.Kubernetes.Client;

public sealed partial class KubeApiClient
{
    /// <summary>
    /// Watches a collection as a never-ending stream. After a dropped connection or a server-side
    /// timeout it reconnects from the last resourceVersion seen (events and bookmarks); when the
    /// server answers 410 Gone it re-lists and yields the difference as <see cref="WatchEvent.Synthetic"/>
    /// events (ADDED for objects not seen in this stream, MODIFIED for changed ones, DELETED for
    /// vanished ones), then watches on from the list's resourceVersion.
    /// </summary>
    /// <param name="type">The resource type.</param>
    /// <param name="namespace">The namespace; <see langword="null"/> for all namespaces.</param>
    /// <param name="options">Selectors, start resourceVersion, bookmarks.</param>
    /// <param name="cancellationToken">Ends the stream (the only way it ends without an error).</param>
    /// <returns>The events.</returns>
    /// <exception cref="KubeApiException">The server refused the watch (e.g. 403), or sent an ERROR event other than 410.</exception>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(KubeResourceType type, string? @namespace = null, KubeWatchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        options ??= new KubeWatchOptions();
        var resourceVersion = options.ResourceVersion;
        var known = new Dictionary<string, KubeObject>(StringComparer.Ordinal);
        var relist = false;
        var failures = 0;
        var operation = $"watch {type.Describe(@namespace, null)}";

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (relist)
            {
                var (events, listVersion) = await RelistAsync(type, @namespace, options, known, cancellationToken).ConfigureAwait(false);
                foreach (var e in events)
                {
                    yield return e;
                }

                resourceVersion = listVersion;
                relist = false;
            }

            var session = await OpenWatchAsync(type, @namespace, options, resourceVersion, operation, cancellationToken).ConfigureAwait(false);
            if (session.Gone)
            {
                relist = true;
                continue;
            }

            if (session.Reader is null)
            {
                failures = await BackOffAsync(failures, operation, session.Error, cancellationToken).ConfigureAwait(false);
                continue;
            }

            using (session.Response)
            using (session.Reader)
            {
                var receivedAny = false;
                while (true)
                {
                    var next = await ReadEventAsync(session.Reader, operation, cancellationToken).ConfigureAwait(false);
                    if (next.Error is not null)
                    {
                        failures = await BackOffAsync(failures, operation, next.Error, cancellationToken).ConfigureAwait(false);
                        break;
                    }

                    if (next.Gone)
                    {
                        relist = true;
                        break;
                    }

                    if (next.Event is null)
                    {
                        // Server closed the stream (its timeout): resume at once, unless it closes immediately every time.
                        if (!receivedAny)
                        {
                            failures = await BackOffAsync(failures, operation, null, cancellationToken).ConfigureAwait(false);
                        }

                        break;
                    }

                    receivedAny = true;
                    failures = 0;
                    var e = next.Event;
                    resourceVersion = e.Object.ResourceVersion ?? resourceVersion;
                    if (e.Type == WatchEventType.Bookmark)
                    {
                        if (options.IncludeBookmarks)
                        {
                            yield return e;
                        }

                        continue;
                    }

                    var key = Key(e.Object);
                    if (e.Type == WatchEventType.Deleted)
                    {
                        known.Remove(key);
                    }
                    else
                    {
                        known[key] = e.Object;
                    }

                    yield return e;
                }
            }
        }
    }

    private sealed record WatchSession(HttpResponseMessage? Response, StreamReader? Reader, bool Gone, Exception? Error);

    private sealed record WatchRead(WatchEvent? Event, bool Gone, Exception? Error);

    private async Task<WatchSession> OpenWatchAsync(KubeResourceType type, string? @namespace, KubeWatchOptions options, string? resourceVersion, string operation, CancellationToken cancellationToken)
    {
        var query = new QueryBuilder();
        query.Add("watch", "true");
        query.Add("allowWatchBookmarks", "true");
        query.Add("labelSelector", options.LabelSelector);
        query.Add("fieldSelector", options.FieldSelector);
        query.Add("resourceVersion", resourceVersion);
        query.Add("timeoutSeconds", options.TimeoutSeconds?.ToString(CultureInfo.InvariantCulture));
        var request = new KubeRequest(HttpMethod.Get, type.GetPath(@namespace) + query, operation) { Streaming = true };
        HttpResponseMessage? response = null;
        try
        {
            response = await _transport.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new WatchSession(response, new StreamReader(stream, Encoding.UTF8), false, null);
        }
        catch (KubeGoneException)
        {
            response?.Dispose();
            return new WatchSession(null, null, true, null);
        }
        catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            response?.Dispose();
            return new WatchSession(null, null, false, ex);
        }
    }

    // 5xx and 429 that outlived the request retries still only mean "not now": keep the watch alive.
    private static bool IsTransient(Exception ex) =>
        ex is HttpRequestException or IOException or TimeoutException
        || (ex is KubeApiException api && ((int)api.StatusCode >= 500 || api.StatusCode == HttpStatusCode.TooManyRequests));

    private async Task<WatchRead> ReadEventAsync(StreamReader reader, string operation, CancellationToken cancellationToken)
    {
        string? line;
        using var idle = new CancellationTokenSource(_options.WatchIdleTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        try
        {
            do
            {
                line = await reader.ReadLineAsync(linked.Token).ConfigureAwait(false);
            }
            while (line is not null && line.Length == 0);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            return new WatchRead(null, false, ex);
        }
        catch (OperationCanceledException ex) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new WatchRead(null, false, new TimeoutException($"{operation}: no data for {_options.WatchIdleTimeout}", ex));
        }

        if (line is null)
        {
            return new WatchRead(null, false, null);
        }

        JsonObject? frame;
        try
        {
            frame = JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException ex)
        {
            // A truncated frame means the connection broke mid-event: resume like any drop.
            return new WatchRead(null, false, new IOException($"{operation}: malformed watch frame", ex));
        }

        var typeName = frame is null ? null : KubeObject.GetString(frame, "type");
        if (frame?["object"] is not JsonObject obj || typeName is null)
        {
            return new WatchRead(null, false, new IOException($"{operation}: watch frame without type or object"));
        }

        if (typeName == "ERROR")
        {
            var status = obj.Deserialize(KubeJsonContext.Default.KubeStatus);
            if (status?.Code == (int)HttpStatusCode.Gone || string.Equals(status?.Reason, "Expired", StringComparison.Ordinal) || string.Equals(status?.Reason, "Gone", StringComparison.Ordinal))
            {
                return new WatchRead(null, true, null);
            }

            throw KubeApiException.Create(operation, (HttpStatusCode)(status?.Code ?? 500), status, null);
        }

        var eventType = typeName switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            _ => (WatchEventType?)null,
        };
        if (eventType is null)
        {
            return new WatchRead(null, false, new IOException($"{operation}: unknown watch event type '{typeName}'"));
        }

        return new WatchRead(new WatchEvent(eventType.Value, new KubeObject(obj)), false, null);
    }

    private async Task<(List<WatchEvent> Events, string? ResourceVersion)> RelistAsync(KubeResourceType type, string? @namespace, KubeWatchOptions options, Dictionary<string, KubeObject> known, CancellationToken cancellationToken)
    {
        _logger.LogDebug("Watch of {Resource} expired (410); re-listing", type.Plural);
        var listOptions = new KubeListOptions { LabelSelector = options.LabelSelector, FieldSelector = options.FieldSelector, Limit = 500 };
        var current = new Dictionary<string, KubeObject>(StringComparer.Ordinal);
        string? listVersion = null;
        while (true)
        {
            var page = await ListAsync(type, @namespace, listOptions, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                current[Key(item)] = item;
            }

            listVersion = page.ResourceVersion;
            if (page.Continue is null)
            {
                break;
            }

            listOptions = listOptions with { Continue = page.Continue };
        }

        var events = new List<WatchEvent>();
        foreach (var (key, item) in current)
        {
            if (!known.TryGetValue(key, out var before))
            {
                events.Add(new WatchEvent(WatchEventType.Added, item, Synthetic: true));
            }
            else if (!string.Equals(before.ResourceVersion, item.ResourceVersion, StringComparison.Ordinal))
            {
                events.Add(new WatchEvent(WatchEventType.Modified, item, Synthetic: true));
            }
        }

        foreach (var (key, item) in known)
        {
            if (!current.ContainsKey(key))
            {
                events.Add(new WatchEvent(WatchEventType.Deleted, item, Synthetic: true));
            }
        }

        known.Clear();
        foreach (var (key, item) in current)
        {
            known[key] = item;
        }

        return (events, listVersion);
    }

    private async Task<int> BackOffAsync(int failures, string operation, Exception? error, CancellationToken cancellationToken)
    {
        failures++;
        if (failures > _options.MaxWatchReconnects)
        {
            throw new KubeApiException($"{operation} failed: gave up after {failures - 1} reconnects", error ?? new IOException("the server kept closing the watch"));
        }

        var delay = TimeSpan.FromTicks(Math.Min(_options.MaxRetryDelay.Ticks, _options.RetryBaseDelay.Ticks * (1L << Math.Min(failures - 1, 16))));
        _logger.LogDebug("{Operation} interrupted ({Error}); reconnecting in {Delay} ms", operation, error?.GetType().Name ?? "closed", (long)delay.TotalMilliseconds);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        return failures;
    }

    private static string Key(KubeObject obj) => obj.Uid ?? $"{obj.Namespace}/{obj.Name}";
}
