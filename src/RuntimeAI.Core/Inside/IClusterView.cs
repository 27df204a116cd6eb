using System.Text.Json.Nodes;

namespace RuntimeAI.Core.Inside;

/// <summary>
/// A Kubernetes API the observe tools look into: the API inside a virtual cluster, or the host
/// cluster of a Kubernetes backend. Reads only; every answer is compact (Table rows, trimmed
/// objects, log text) and the tools cap and mark it before a client sees it.
/// </summary>
public interface IClusterView : IDisposable
{
    /// <summary>What the API is, for messages, e.g. <c>vcluster dev</c> or <c>host cluster kubesim</c>.</summary>
    string Name { get; }

    /// <summary>True when the API is simulated (KubeSim).</summary>
    bool IsSandbox { get; }

    /// <summary>Resolves a kind as kubectl does: Kind, plural, singular or short name, optionally <c>name.group</c>; CRDs included.</summary>
    /// <exception cref="Drivers.RuntimeDriverException">Code <c>unknown_kind</c> when the API serves no such kind.</exception>
    Task<ResourceKind> ResolveKindAsync(string kind, CancellationToken cancellationToken);

    /// <summary>One page of compact rows (the server's Table columns when it serves them).</summary>
    Task<ResourceTable> ListAsync(ResourceListQuery query, CancellationToken cancellationToken);

    /// <summary>One object as the API returns it (JSON).</summary>
    Task<(ResourceKind Kind, JsonObject Object)> GetAsync(string kind, string name, string? ns, CancellationToken cancellationToken);

    /// <summary>A container's log text, at most <see cref="LogQuery.LimitBytes"/> bytes.</summary>
    Task<string> ReadLogsAsync(LogQuery query, CancellationToken cancellationToken);

    /// <summary>Kubernetes events of one object (or of a namespace when <paramref name="name"/> is null), oldest first.</summary>
    Task<IReadOnlyList<ClusterEvent>> ListEventsAsync(ResourceKind? kind, string? name, string? ns, CancellationToken cancellationToken);

    /// <summary>Usage and restarts of the pods in a namespace (all when null) whose name starts with <paramref name="podPrefix"/>.</summary>
    Task<IReadOnlyList<PodUsage>> ReadPodUsageAsync(string? ns, string? podPrefix, CancellationToken cancellationToken);
}

/// <summary>A served resource type.</summary>
/// <param name="Group">API group (empty for the core group).</param>
/// <param name="Version">Version served (the group's preferred one).</param>
/// <param name="Resource">Plural resource name, e.g. <c>pods</c>.</param>
/// <param name="Kind">Kind, e.g. <c>Pod</c>.</param>
/// <param name="Namespaced">Whether objects live in namespaces.</param>
public sealed record ResourceKind(string Group, string Version, string Resource, string Kind, bool Namespaced)
{
    /// <summary><c>pods</c> or <c>deployments.apps</c>, as kubectl names a resource.</summary>
    public string Display => Group.Length == 0 ? Resource : $"{Resource}.{Group}";
}

/// <summary>What to list.</summary>
public sealed record ResourceListQuery
{
    /// <summary>Kind, plural or short name.</summary>
    public required string Kind { get; init; }

    /// <summary>Namespace; null lists every namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>Label selector as kubectl takes it.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>Field selector as kubectl takes it.</summary>
    public string? FieldSelector { get; init; }

    /// <summary>Page length.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The API's continue token of the previous page.</summary>
    public string? Continue { get; init; }
}

/// <summary>One page of rows.</summary>
/// <param name="Kind">The resolved kind.</param>
/// <param name="Columns">Column names (the server's Table columns of priority 0, or name/namespace/age).</param>
/// <param name="Rows">The rows.</param>
/// <param name="Continue">The API's continue token, when more rows exist.</param>
public sealed record ResourceTable(ResourceKind Kind, IReadOnlyList<string> Columns, IReadOnlyList<ResourceRow> Rows, string? Continue);

/// <summary>One compact row.</summary>
/// <param name="Namespace">Namespace (null for cluster-scoped objects).</param>
/// <param name="Cells">Cell texts in column order.</param>
public sealed record ResourceRow(string? Namespace, IReadOnlyList<string> Cells);

/// <summary>Which log to read.</summary>
public sealed record LogQuery
{
    /// <summary>Pod name.</summary>
    public required string Pod { get; init; }

    /// <summary>Pod namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>Container (null: the pod's only or default container).</summary>
    public string? Container { get; init; }

    /// <summary>Only lines newer than this many seconds.</summary>
    public long? SinceSeconds { get; init; }

    /// <summary>Only the last N lines.</summary>
    public int? TailLines { get; init; }

    /// <summary>The previous (terminated) container's log.</summary>
    public bool Previous { get; init; }

    /// <summary>Largest log read from the API.</summary>
    public long LimitBytes { get; init; } = 4 * 1024 * 1024;
}

/// <summary>A Kubernetes event, trimmed to what an agent reads.</summary>
public sealed record ClusterEvent(string Type, string Reason, string Message, int Count, string? LastSeen, string Object, string? Namespace);

/// <summary>A pod's usage from the metrics API (null when it reports none) and its containers' restarts.</summary>
public sealed record PodUsage(string Namespace, string Name, long? MilliCpu, long? MemoryMiB, int Restarts);
