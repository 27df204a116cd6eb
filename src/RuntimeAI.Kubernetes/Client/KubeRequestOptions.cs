namespace RuntimeAI.Kubernetes.Client;

/// <summary>Options of a list (and of a Table listing).</summary>
public sealed record KubeListOptions
{
    /// <summary>e.g. <c>app=web,tier!=cache</c>.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>e.g. <c>status.phase=Running,spec.nodeName=node-1</c>.</summary>
    public string? FieldSelector { get; init; }

    /// <summary>Page size; the server returns a continue token when more remain.</summary>
    public int? Limit { get; init; }

    /// <summary>The continue token of the previous page.</summary>
    public string? Continue { get; init; }

    /// <summary>Serve from this resourceVersion (<c>0</c> = any cached state).</summary>
    public string? ResourceVersion { get; init; }
}

/// <summary>Options of a watch.</summary>
public sealed record KubeWatchOptions
{
    /// <summary>Label selector.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>Field selector.</summary>
    public string? FieldSelector { get; init; }

    /// <summary>
    /// Start after this resourceVersion (typically a list's). <see langword="null"/> starts "now",
    /// and the server first sends an ADDED event per existing object.
    /// </summary>
    public string? ResourceVersion { get; init; }

    /// <summary>Yield BOOKMARK events too (they always advance the resume point).</summary>
    public bool IncludeBookmarks { get; init; }

    /// <summary>Server-side timeout of one watch request; the stream reconnects transparently after it.</summary>
    public int? TimeoutSeconds { get; init; }
}

/// <summary>Options of a create, replace or patch.</summary>
public sealed record KubeWriteOptions
{
    /// <summary>Validate and admit, but persist nothing (<c>dryRun=All</c>).</summary>
    public bool DryRun { get; init; }

    /// <summary>The field manager recorded in managedFields.</summary>
    public string? FieldManager { get; init; }
}

/// <summary>Options of a server-side apply.</summary>
public sealed record KubeApplyOptions
{
    /// <summary>The field manager that owns the applied fields (required by the API).</summary>
    public required string FieldManager { get; init; }

    /// <summary>Take ownership of fields managed by others instead of failing with a conflict.</summary>
    public bool Force { get; init; }

    /// <summary>Validate and admit, but persist nothing.</summary>
    public bool DryRun { get; init; }
}

/// <summary>What happens to an object's dependents when it is deleted.</summary>
public enum KubePropagationPolicy
{
    /// <summary>Delete now; the garbage collector deletes dependents in the background.</summary>
    Background,

    /// <summary>The object stays (with a deletionTimestamp) until its dependents are gone.</summary>
    Foreground,

    /// <summary>Leave dependents, removing their owner reference.</summary>
    Orphan,
}

/// <summary>Options of a delete (and of an eviction).</summary>
public sealed record KubeDeleteOptions
{
    /// <summary>Dependents' fate; the server default (usually Background) when <see langword="null"/>.</summary>
    public KubePropagationPolicy? PropagationPolicy { get; init; }

    /// <summary>Grace period for pods; 0 deletes immediately.</summary>
    public long? GracePeriodSeconds { get; init; }

    /// <summary>Only delete if the object still has this resourceVersion.</summary>
    public string? PreconditionResourceVersion { get; init; }

    /// <summary>Only delete if the object still has this uid.</summary>
    public string? PreconditionUid { get; init; }

    /// <summary>Validate, but delete nothing.</summary>
    public bool DryRun { get; init; }
}

/// <summary>The patch formats the API accepts.</summary>
public enum KubePatchType
{
    /// <summary>RFC 7386 JSON merge patch (<c>application/merge-patch+json</c>).</summary>
    Merge,

    /// <summary>RFC 6902 JSON patch (<c>application/json-patch+json</c>); not retried, it may not be idempotent.</summary>
    Json,

    /// <summary>Strategic merge patch (<c>application/strategic-merge-patch+json</c>); built-in kinds only.</summary>
    StrategicMerge,
}

/// <summary>Options of a pod log read.</summary>
public sealed record KubePodLogOptions
{
    /// <summary>The container; required when the pod has several.</summary>
    public string? Container { get; init; }

    /// <summary>Only the last N lines.</summary>
    public long? TailLines { get; init; }

    /// <summary>Only lines newer than this.</summary>
    public TimeSpan? Since { get; init; }

    /// <summary>Only lines after this instant (wins over <see cref="Since"/>).</summary>
    public DateTimeOffset? SinceTime { get; init; }

    /// <summary>Prefix each line with an RFC 3339 timestamp.</summary>
    public bool Timestamps { get; init; }

    /// <summary>Logs of the previous (crashed) container instance.</summary>
    public bool Previous { get; init; }

    /// <summary>Stop after this many bytes.</summary>
    public long? LimitBytes { get; init; }
}
