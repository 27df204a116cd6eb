using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Inventory;

/// <summary>Filters of a runtime list; all optional and combined with AND.</summary>
public sealed record RuntimeQuery
{
    public RuntimeType? Type { get; init; }
    public RuntimeState? State { get; init; }
    public string? TenantId { get; init; }
    /// <summary>When set, only runtimes of one of these tenants (a tenant-scoped principal's view).</summary>
    public IReadOnlyList<string>? TenantIds { get; init; }
    /// <summary>Every pair must match exactly.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>When set, only runtimes that carry this label key, whatever its value.</summary>
    public string? WithLabel { get; init; }
    public bool IncludeDeleted { get; init; }
    public int PageSize { get; init; } = 50;
    public string? PageToken { get; init; }
}

/// <summary>Filters of an event list.</summary>
public sealed record EventQuery
{
    public string? RuntimeId { get; init; }
    public string? TypePrefix { get; init; }
    public DateTimeOffset? Since { get; init; }
    /// <summary>When set, only events of runtimes of one of these tenants (a tenant-scoped principal's view).</summary>
    public IReadOnlyList<string>? TenantIds { get; init; }
    public int PageSize { get; init; } = 50;
    public string? PageToken { get; init; }
}

/// <summary>One recorded change of a runtime's spec.</summary>
public sealed record SpecRevision(string RuntimeId, int Revision, RuntimeSpec Spec, string Reason, DateTimeOffset Ts);

/// <summary>
/// The durable record of runtimes, their spec revisions, events and operations. Every write is
/// durable when the returned task completes, so a tool may report success right after.
/// </summary>
public interface IRuntimeInventory
{
    Task<Runtime?> GetRuntimeAsync(string runtimeId, CancellationToken cancellationToken);

    Task<Runtime?> FindRuntimeByBackendRefAsync(string backendRef, CancellationToken cancellationToken);

    Task<Page<Runtime>> ListRuntimesAsync(RuntimeQuery query, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a runtime; a changed spec adds a revision with <paramref name="reason"/>.</summary>
    Task SaveRuntimeAsync(Runtime runtime, string reason, CancellationToken cancellationToken);

    Task<IReadOnlyList<SpecRevision>> GetSpecRevisionsAsync(string runtimeId, CancellationToken cancellationToken);

    Task AppendEventAsync(RuntimeEvent runtimeEvent, CancellationToken cancellationToken);

    Task<Page<RuntimeEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken);

    Task SaveOperationAsync(Operation operation, CancellationToken cancellationToken);

    Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Operation>> ListUnfinishedOperationsAsync(CancellationToken cancellationToken);

    /// <summary>Mutations (operations) started at or after <paramref name="since"/>, and how many distinct runtimes they touched.</summary>
    Task<(int Operations, int Runtimes)> CountMutationsSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);
}

/// <summary>A page token that could not be decoded (tampered, or from another list).</summary>
public sealed class InvalidPageTokenException(string message) : Exception(message);
