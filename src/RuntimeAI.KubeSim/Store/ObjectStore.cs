using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Store;

/// <summary>One change, as a watch sees it. <see cref="Object"/> is a snapshot and is never mutated.</summary>
internal sealed record StoredEvent(long ResourceVersion, ResourceType Type, string EventType, JsonObject Object)
{
    /// <summary>For MODIFIED, the state before the change (lets filtered watches turn it into ADDED or DELETED).</summary>
    public JsonObject? Previous { get; init; }
}

/// <summary>A subscriber to changes of one resource type; events arrive in resourceVersion order.</summary>
internal sealed class Watcher
{
    public Watcher(ResourceType type, string? ns)
    {
        Type = type;
        Namespace = ns;
    }

    public ResourceType Type { get; }

    public string? Namespace { get; }

    public Channel<StoredEvent> Events { get; } = Channel.CreateUnbounded<StoredEvent>(new UnboundedChannelOptions { SingleReader = true });
}

/// <summary>
/// The in-memory object store of one simulated API: objects keyed by group/resource, namespace and name,
/// a single monotonically increasing resourceVersion, and a bounded change log that watches resume from.
/// </summary>
internal sealed class ObjectStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<string, JsonObject>> _objects = new(StringComparer.Ordinal);
    private readonly LinkedList<StoredEvent> _log = new();
    private readonly List<Watcher> _watchers = [];
    private readonly TimeProvider _time;
    private readonly int _logCapacity;
    private long _resourceVersion;
    private long _uidCounter;

    public ObjectStore(TimeProvider time, int logCapacity, long uidSeed)
    {
        _time = time;
        _logCapacity = logCapacity;
        _uidCounter = uidSeed;
    }

    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    /// <summary>Oldest resourceVersion a watch can still resume from.</summary>
    public long OldestResumable
    {
        get
        {
            lock (_gate)
            {
                return _log.First is { } first ? first.Value.ResourceVersion - 1 : _resourceVersion;
            }
        }
    }

    private static string Key(string? ns, string name) => ns is null ? name : $"{ns}/{name}";

    private SortedDictionary<string, JsonObject> Bucket(ResourceType type)
    {
        if (!_objects.TryGetValue(type.GroupResource, out var bucket))
        {
            bucket = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
            _objects[type.GroupResource] = bucket;
        }

        return bucket;
    }

    public JsonObject? Get(ResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            return Bucket(type).TryGetValue(Key(type.Namespaced ? ns : null, name), out var o) ? (JsonObject)o.DeepClone() : null;
        }
    }

    /// <summary>All objects of a type (optionally in one namespace), sorted by namespace then name.</summary>
    public List<JsonObject> List(ResourceType type, string? ns, out long resourceVersion)
    {
        lock (_gate)
        {
            resourceVersion = _resourceVersion;
            return Bucket(type).Values
                .Where(o => ns is null || !type.Namespaced || Json.Namespace(o) == ns)
                .Select(o => (JsonObject)o.DeepClone())
                .ToList();
        }
    }

    public List<JsonObject> List(ResourceType type, string? ns = null) => List(type, ns, out _);

    /// <summary>
    /// The stored instances themselves, without copying, for hot read-only paths of controllers.
    /// Callers must not mutate them; writes replace stored instances, so a returned object never changes under the caller.
    /// </summary>
    public List<JsonObject> ListShared(ResourceType type, string? ns = null)
    {
        lock (_gate)
        {
            return Bucket(type).Values.Where(o => ns is null || !type.Namespaced || Json.Namespace(o) == ns).ToList();
        }
    }

    public string NewUid()
    {
        var n = Interlocked.Increment(ref _uidCounter);
        var hex = (n & 0xFFFFFFFFFFFF).ToString("x12", CultureInfo.InvariantCulture);
        return $"6b756265-7369-4d00-8000-{hex}";
    }

    /// <summary>Stores a new object, assigning uid, creationTimestamp, generation and resourceVersion.</summary>
    public JsonObject Create(ResourceType type, JsonObject obj, bool dryRun = false)
    {
        lock (_gate)
        {
            var meta = Json.Meta(obj);
            var name = Json.Name(obj);
            var key = Key(type.Namespaced ? Json.Namespace(obj) : null, name);
            var bucket = Bucket(type);
            if (bucket.ContainsKey(key))
            {
                throw KubeApiException.AlreadyExists(type, name);
            }

            meta["uid"] = NewUid();
            meta["creationTimestamp"] = Json.Timestamp(_time.GetUtcNow());
            meta["generation"] = 1;
            meta.Remove("deletionTimestamp");
            meta.Remove("selfLink");
            if (!type.Namespaced)
            {
                meta.Remove("namespace");
            }

            obj["apiVersion"] = type.ApiVersion;
            obj["kind"] = type.Kind;
            if (dryRun)
            {
                meta["resourceVersion"] = _resourceVersion.ToString(CultureInfo.InvariantCulture);
                return obj;
            }

            meta["resourceVersion"] = Next();
            bucket[key] = (JsonObject)obj.DeepClone();
            Publish(type, "ADDED", obj);
            return obj;
        }
    }

    /// <summary>
    /// Replaces an object. A non-empty resourceVersion in <paramref name="obj"/> must match the stored one (409 otherwise).
    /// Identity fields are kept, generation moves when spec changes, and an object that is being deleted
    /// disappears once its last finalizer is removed.
    /// </summary>
    public JsonObject Update(ResourceType type, JsonObject obj, bool dryRun = false)
    {
        lock (_gate)
        {
            var name = Json.Name(obj);
            var ns = type.Namespaced ? Json.Namespace(obj) : null;
            var key = Key(ns, name);
            var bucket = Bucket(type);
            if (!bucket.TryGetValue(key, out var current))
            {
                throw KubeApiException.NotFound(type, name);
            }

            var meta = Json.Meta(obj);
            var requested = Json.Str(meta, "resourceVersion");
            if (!string.IsNullOrEmpty(requested) && requested != Json.Str(current, "metadata", "resourceVersion"))
            {
                throw KubeApiException.Conflict(type, name);
            }

            var currentMeta = Json.Meta(current);
            foreach (var kept in new[] { "uid", "creationTimestamp", "deletionTimestamp", "generation" })
            {
                if (currentMeta[kept] is { } v)
                {
                    meta[kept] = v.DeepClone();
                }
                else
                {
                    meta.Remove(kept);
                }
            }

            if (!type.Namespaced)
            {
                meta.Remove("namespace");
            }

            obj["apiVersion"] = type.ApiVersion;
            obj["kind"] = type.Kind;
            if (!JsonNode.DeepEquals(Json.At(current, "spec"), Json.At(obj, "spec")))
            {
                meta["generation"] = (Json.Long(currentMeta, "generation") ?? 0) + 1;
            }

            if (JsonNode.DeepEquals(current, WithVersion(obj, Json.Str(currentMeta, "resourceVersion"))))
            {
                // A no-op write does not move resourceVersion, as in a real apiserver.
                return (JsonObject)current.DeepClone();
            }

            if (dryRun)
            {
                return obj;
            }

            meta["resourceVersion"] = Next();
            var finished = meta["deletionTimestamp"] is not null && (meta["finalizers"] as JsonArray ?? []).Count == 0;
            if (finished)
            {
                bucket.Remove(key);
                Publish(type, "DELETED", obj);
                return obj;
            }

            bucket[key] = (JsonObject)obj.DeepClone();
            Publish(type, "MODIFIED", obj, current);
            return obj;
        }
    }

    /// <summary>Deletes an object, or marks it with deletionTimestamp if finalizers hold it. Returns the final state.</summary>
    public JsonObject Delete(ResourceType type, string? ns, string name, string? preconditionUid = null, string? preconditionVersion = null, bool dryRun = false)
    {
        lock (_gate)
        {
            var key = Key(type.Namespaced ? ns : null, name);
            var bucket = Bucket(type);
            if (!bucket.TryGetValue(key, out var current))
            {
                throw KubeApiException.NotFound(type, name);
            }

            if ((preconditionUid is not null && preconditionUid != Json.Uid(current)) ||
                (preconditionVersion is not null && preconditionVersion != Json.Str(current, "metadata", "resourceVersion")))
            {
                throw KubeApiException.Conflict(type, name);
            }

            var obj = (JsonObject)current.DeepClone();
            if (dryRun)
            {
                return obj;
            }

            var meta = Json.Meta(obj);
            if ((meta["finalizers"] as JsonArray ?? []).Count > 0)
            {
                if (meta["deletionTimestamp"] is null)
                {
                    meta["deletionTimestamp"] = Json.Timestamp(_time.GetUtcNow());
                    meta["deletionGracePeriodSeconds"] = 0;
                    meta["resourceVersion"] = Next();
                    bucket[key] = (JsonObject)obj.DeepClone();
                    Publish(type, "MODIFIED", obj, current);
                }

                return obj;
            }

            bucket.Remove(key);
            meta["resourceVersion"] = Next();
            Publish(type, "DELETED", obj);
            return obj;
        }
    }

    /// <summary>
    /// Subscribes to changes after <paramref name="fromVersion"/>; the returned backlog holds the logged events
    /// the caller missed. Throws 410 Expired when that version has left the log.
    /// </summary>
    public Watcher Subscribe(ResourceType type, string? ns, long fromVersion, out List<StoredEvent> backlog)
    {
        lock (_gate)
        {
            var oldest = _log.First is { } first ? first.Value.ResourceVersion - 1 : _resourceVersion;
            if (fromVersion < oldest)
            {
                throw KubeApiException.Gone($"too old resource version: {fromVersion} ({oldest})");
            }

            backlog = _log.Where(e => e.ResourceVersion > fromVersion && Matches(e, type, ns)).ToList();
            var watcher = new Watcher(type, ns);
            _watchers.Add(watcher);
            return watcher;
        }
    }

    public void Unsubscribe(Watcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
        }

        watcher.Events.Writer.TryComplete();
    }

    /// <summary>Ends every open watch (the fault "dropped watches").</summary>
    public void DropWatches()
    {
        lock (_gate)
        {
            foreach (var w in _watchers)
            {
                w.Events.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }

    /// <summary>Forgets the change log up to the current version, so older watch resumes get 410 (like etcd compaction).</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _log.Clear();
        }
    }

    private static bool Matches(StoredEvent e, ResourceType type, string? ns) =>
        e.Type.GroupResource == type.GroupResource && (ns is null || Json.Namespace(e.Object) == ns);

    private static JsonObject WithVersion(JsonObject obj, string? version)
    {
        var copy = (JsonObject)obj.DeepClone();
        Json.Meta(copy)["resourceVersion"] = version;
        return copy;
    }

    private string Next() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private void Publish(ResourceType type, string eventType, JsonObject obj, JsonObject? previous = null)
    {
        var e = new StoredEvent(_resourceVersion, type, eventType, (JsonObject)obj.DeepClone()) { Previous = previous };
        _log.AddLast(e);
        while (_log.Count > _logCapacity)
        {
            _log.RemoveFirst();
        }

        foreach (var w in _watchers)
        {
            if (Matches(e, w.Type, w.Namespace))
            {
                w.Events.Writer.TryWrite(e);
            }
        }
    }
}
