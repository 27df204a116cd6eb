namespace RuntimeAI.Core.Graph;

/// <summary>Which way a traversal follows edges.</summary>
public enum GraphDirection
{
    /// <summary>What the object depends on (its owners, claims, config, node; a Service's pods).</summary>
    Upstream,

    /// <summary>What depends on the object (what it owns, who mounts or reads it, the Services selecting a pod): the blast radius.</summary>
    Downstream,

    /// <summary>Both ways.</summary>
    Both,
}

/// <summary>One edge reached by a traversal.</summary>
/// <param name="Key">The object reached.</param>
/// <param name="Depth">Hops from the start.</param>
/// <param name="Edge">The edge followed.</param>
/// <param name="From">The object it was reached from.</param>
/// <param name="Upstream">True when the edge was followed from dependent to dependency.</param>
/// <param name="Missing">The reference names an object the cluster does not have.</param>
public readonly record struct GraphHop(string Key, int Depth, EdgeKind Edge, string From, bool Upstream, bool Missing);

/// <summary>One change of an object seen by the watch (or by a relist after 410 Gone).</summary>
/// <param name="At">When the graph saw it (the server's clock).</param>
/// <param name="Type"><c>added</c>, <c>modified</c> or <c>deleted</c>.</param>
/// <param name="Key">The object.</param>
/// <param name="ResourceVersion">Its resourceVersion after the change (before it, for a deletion).</param>
/// <param name="Fields">What changed, one short line each.</param>
/// <param name="Before">The object before (null when created).</param>
/// <param name="After">The object after (null when deleted).</param>
public sealed record GraphChange(DateTimeOffset At, string Type, string Key, string ResourceVersion, IReadOnlyList<string> Fields, GraphObject? Before, GraphObject? After);

/// <summary>
/// The graph of one cluster: every watched object in compact form, indexes for each edge kind, and
/// a sliding window of changes. Thread-safe: the watch applies events while tools query.
/// </summary>
public sealed class ClusterGraph
{
    private readonly Dictionary<string, GraphObject> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byUid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _children = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _referrers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _podsByNamespace = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _selectorsByNamespace = new(StringComparer.Ordinal);
    private readonly LinkedList<GraphChange> _changes = new();
    private readonly GraphOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    /// <summary>An empty graph.</summary>
    public ClusterGraph(string name, GraphOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        Name = name;
        _options = options;
        _time = time;
        WatchingSince = time.GetUtcNow();
    }

    /// <summary>When the graph was created: nothing before it is known.</summary>
    public DateTimeOffset WatchingSince { get; }

    /// <summary>What the graph is of, e.g. <c>vcluster dev</c>.</summary>
    public string Name { get; }

    /// <summary>Strings shared by the objects of this graph.</summary>
    public StringPool Pool { get; } = new();

    /// <summary>Objects held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _objects.Count;
            }
        }
    }

    /// <summary>Changes held in the window.</summary>
    public int ChangeCount
    {
        get
        {
            lock (_lock)
            {
                return _changes.Count;
            }
        }
    }

    /// <summary>True once an object was left out because the graph reached <see cref="GraphOptions.MaxObjects"/>.</summary>
    public bool Capped { get; private set; }

    /// <summary>Applies one watch event (<c>ADDED</c>, <c>MODIFIED</c>, <c>DELETED</c>) and records the change.</summary>
    public void Apply(string type, GraphObject obj)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (type == "DELETED")
            {
                RemoveLocked(obj.Key, now, obj.ResourceVersion);
            }
            else
            {
                PutLocked(obj, now);
            }
        }
    }

    /// <summary>
    /// Replaces every object of <paramref name="kind"/> with a fresh listing (the first list, or a
    /// relist after 410 Gone): what is gone is recorded as deleted, what differs as modified.
    /// </summary>
    public void ReplaceKind(string kind, IReadOnlyCollection<GraphObject> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var fresh = new HashSet<string>(objects.Select(o => o.Key), StringComparer.Ordinal);
            foreach (var gone in _objects.Values.Where(o => o.Kind == kind && !fresh.Contains(o.Key)).Select(o => o.Key).ToList())
            {
                RemoveLocked(gone, now, null);
            }

            foreach (var obj in objects)
            {
                PutLocked(obj, now);
            }
        }
    }

    /// <summary>The object with that key, or null.</summary>
    public GraphObject? Get(string key)
    {
        lock (_lock)
        {
            return _objects.GetValueOrDefault(key);
        }
    }

    /// <summary>A snapshot of the objects, optionally of some kinds only.</summary>
    public IReadOnlyList<GraphObject> Objects(Func<GraphObject, bool>? filter = null)
    {
        lock (_lock)
        {
            return filter is null ? [.. _objects.Values] : [.. _objects.Values.Where(filter)];
        }
    }

    /// <summary>Breadth-first walk from <paramref name="start"/>, at most <paramref name="depth"/> hops and <paramref name="maxHops"/> results.</summary>
    public IReadOnlyList<GraphHop> Traverse(string start, GraphDirection direction, int depth, int maxHops = 10_000)
    {
        var hops = new List<GraphHop>();
        lock (_lock)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal) { start };
            var frontier = new List<string> { start };
            for (var level = 1; level <= depth && frontier.Count > 0 && hops.Count < maxHops; level++)
            {
                var next = new List<string>();
                foreach (var key in frontier)
                {
                    if (direction is GraphDirection.Upstream or GraphDirection.Both)
                    {
                        foreach (var (target, edge, missing) in UpstreamLocked(key))
                        {
                            if (seen.Add(target))
                            {
                                hops.Add(new GraphHop(target, level, edge, key, true, missing));
                                next.Add(target);
                            }
                        }
                    }

                    if (direction is GraphDirection.Downstream or GraphDirection.Both)
                    {
                        foreach (var (source, edge) in DownstreamLocked(key))
                        {
                            if (seen.Add(source))
                            {
                                hops.Add(new GraphHop(source, level, edge, key, false, false));
                                next.Add(source);
                            }
                        }
                    }

                    if (hops.Count >= maxHops)
                    {
                        break;
                    }
                }

                frontier = next;
            }
        }

        return hops;
    }

    /// <summary>Changes seen in [<paramref name="since"/>, <paramref name="until"/>], newest first, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<GraphChange> Changes(DateTimeOffset since, DateTimeOffset until, Func<GraphChange, bool>? filter = null, int limit = int.MaxValue)
    {
        lock (_lock)
        {
            TrimLocked(_time.GetUtcNow());
            var result = new List<GraphChange>();
            for (var node = _changes.Last; node is not null && node.Value.At >= since && result.Count < limit; node = node.Previous)
            {
                if (node.Value.At <= until && (filter is null || filter(node.Value)))
                {
                    result.Add(node.Value);
                }
            }

            return result;
        }
    }

    /// <summary>The oldest time the window still covers (changes before it are forgotten).</summary>
    public DateTimeOffset WindowStart
    {
        get
        {
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                TrimLocked(now);
                var byAge = now - _options.ChangeWindow;
                var start = byAge > WatchingSince ? byAge : WatchingSince;
                return _changes.First is { } first && _changes.Count >= _options.MaxChanges && first.Value.At > start ? first.Value.At : start;
            }
        }
    }

    /// <summary>
    /// Every object as it was at <paramref name="at"/>, rebuilt from the current state and the
    /// window (null values: did not exist). Only meaningful for times inside the window.
    /// </summary>
    public Dictionary<string, GraphObject?> StateAt(DateTimeOffset at, Func<string, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        lock (_lock)
        {
            var state = _objects.Where(p => include(p.Key)).ToDictionary(p => p.Key, p => (GraphObject?)p.Value, StringComparer.Ordinal);
            // Undo the changes after `at`, newest first.
            for (var node = _changes.Last; node is not null && node.Value.At > at; node = node.Previous)
            {
                if (include(node.Value.Key))
                {
                    state[node.Value.Key] = node.Value.Before;
                }
            }

            return state;
        }
    }

    private IEnumerable<(string Target, EdgeKind Edge, bool Missing)> UpstreamLocked(string key)
    {
        if (!_objects.TryGetValue(key, out var obj))
        {
            yield break;
        }

        foreach (var uid in obj.Owners)
        {
            if (_byUid.TryGetValue(uid, out var owner))
            {
                yield return (owner, EdgeKind.Owner, false);
            }
        }

        foreach (var r in obj.Refs)
        {
            yield return (r.Key, r.Edge, !_objects.ContainsKey(r.Key));
        }

        if (obj.Kind is "service" or "poddisruptionbudget" && obj.Namespace is { } ns && _podsByNamespace.TryGetValue(ns, out var pods))
        {
            foreach (var pod in pods)
            {
                if (_objects[pod].MatchedBy(obj.Selector))
                {
                    yield return (pod, EdgeKind.Selects, false);
                }
            }
        }
    }

    private IEnumerable<(string Source, EdgeKind Edge)> DownstreamLocked(string key)
    {
        if (!_objects.TryGetValue(key, out var obj))
        {
            yield break;
        }

        if (_children.TryGetValue(obj.Uid, out var children))
        {
            foreach (var child in children)
            {
                yield return (child, EdgeKind.Owner);
            }
        }

        if (_referrers.TryGetValue(key, out var referrers))
        {
            foreach (var source in referrers)
            {
                if (_objects.TryGetValue(source, out var s) && Array.Find(s.Refs, r => r.Key == key) is { Key: not null } r)
                {
                    yield return (source, r.Edge);
                }
            }
        }

        if (obj.Kind == "pod" && obj.Namespace is { } ns && _selectorsByNamespace.TryGetValue(ns, out var selectors))
        {
            foreach (var selector in selectors)
            {
                if (obj.MatchedBy(_objects[selector].Selector))
                {
                    yield return (selector, EdgeKind.Selects);
                }
            }
        }
    }

    private void PutLocked(GraphObject obj, DateTimeOffset now)
    {
        var key = obj.Key;
        _objects.TryGetValue(key, out var before);
        if (before is null && _objects.Count >= _options.MaxObjects)
        {
            Capped = true;
            return;
        }

        if (before is not null)
        {
            if (before.ResourceVersion == obj.ResourceVersion)
            {
                return;
            }

            UnindexLocked(before);
        }

        _objects[key] = obj;
        IndexLocked(obj);
        var fields = GraphDiff.Compare(before, obj);
        // Status churn the graph does not model (conditions, timestamps) is not a change worth a line.
        if (fields.Count > 0)
        {
            RecordLocked(new GraphChange(now, before is null ? "added" : "modified", key, obj.ResourceVersion, fields, before, obj));
        }
    }

    private void RemoveLocked(string key, DateTimeOffset now, string? resourceVersion)
    {
        if (!_objects.Remove(key, out var before))
        {
            return;
        }

        UnindexLocked(before);
        RecordLocked(new GraphChange(now, "deleted", key, resourceVersion ?? before.ResourceVersion, ["deleted"], before, null));
    }

    private void IndexLocked(GraphObject obj)
    {
        var key = obj.Key;
        _byUid[obj.Uid] = key;
        foreach (var owner in obj.Owners)
        {
            Add(_children, owner, key);
        }

        foreach (var r in obj.Refs)
        {
            Add(_referrers, r.Key, key);
        }

        if (obj.Namespace is { } ns)
        {
            if (obj.Kind == "pod")
            {
                Add(_podsByNamespace, ns, key);
            }
            else if (obj.Kind is "service" or "poddisruptionbudget" && obj.Selector.Length > 0)
            {
                Add(_selectorsByNamespace, ns, key);
            }
        }
    }

    private void UnindexLocked(GraphObject obj)
    {
        var key = obj.Key;
        if (_byUid.TryGetValue(obj.Uid, out var k) && k == key)
        {
            _byUid.Remove(obj.Uid);
        }

        foreach (var owner in obj.Owners)
        {
            Remove(_children, owner, key);
        }

        foreach (var r in obj.Refs)
        {
            Remove(_referrers, r.Key, key);
        }

        if (obj.Namespace is { } ns)
        {
            Remove(_podsByNamespace, ns, key);
            Remove(_selectorsByNamespace, ns, key);
        }
    }

    private void RecordLocked(GraphChange change)
    {
        _changes.AddLast(change);
        TrimLocked(change.At);
    }

    private void TrimLocked(DateTimeOffset now)
    {
        var oldest = now - _options.ChangeWindow;
        while (_changes.First is { } first && (first.Value.At < oldest || _changes.Count > _options.MaxChanges))
        {
            _changes.RemoveFirst();
        }
    }

    private static void Add(Dictionary<string, HashSet<string>> index, string key, string value)
    {
        if (!index.TryGetValue(key, out var set))
        {
            index[key] = set = new HashSet<string>(StringComparer.Ordinal);
        }

        set.Add(value);
    }

    private static void Remove(Dictionary<string, HashSet<string>> index, string key, string value)
    {
        if (index.TryGetValue(key, out var set) && set.Remove(value) && set.Count == 0)
        {
            index.Remove(key);
        }
    }
}
