using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Identity;

/// <summary>
/// The inventory as one principal sees it: runtimes of other tenants, and their events and
/// operations, do not exist (not found, never forbidden, so their ids leak nothing). Reads only;
/// writes go through the engine, which the pipeline reaches only for targets this view found.
/// </summary>
public sealed class TenantScopedInventory(IRuntimeInventory inner, Principal principal) : IRuntimeInventory
{
    private IReadOnlyList<string>? Tenants => principal.AllTenants ? null : principal.Tenants;

    /// <inheritdoc />
    public async Task<Runtime?> GetRuntimeAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var runtime = await inner.GetRuntimeAsync(runtimeId, cancellationToken).ConfigureAwait(false);
        return runtime is not null && principal.CanSee(runtime.TenantId) ? runtime : null;
    }

    /// <inheritdoc />
    public async Task<Runtime?> FindRuntimeByBackendRefAsync(string backendRef, CancellationToken cancellationToken)
    {
        var runtime = await inner.FindRuntimeByBackendRefAsync(backendRef, cancellationToken).ConfigureAwait(false);
        return runtime is not null && principal.CanSee(runtime.TenantId) ? runtime : null;
    }

    /// <inheritdoc />
    public Task<Page<Runtime>> ListRuntimesAsync(RuntimeQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return inner.ListRuntimesAsync(Tenants is null ? query : query with { TenantIds = Tenants }, cancellationToken);
    }

    /// <inheritdoc />
    public Task SaveRuntimeAsync(Runtime runtime, string reason, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a tenant-scoped view of the inventory is read-only");

    /// <inheritdoc />
    public async Task<IReadOnlyList<SpecRevision>> GetSpecRevisionsAsync(string runtimeId, CancellationToken cancellationToken) =>
        await GetRuntimeAsync(runtimeId, cancellationToken).ConfigureAwait(false) is null
            ? []
            : await inner.GetSpecRevisionsAsync(runtimeId, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public Task AppendEventAsync(RuntimeEvent runtimeEvent, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a tenant-scoped view of the inventory is read-only");

    /// <inheritdoc />
    public Task<Page<RuntimeEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return inner.ListEventsAsync(Tenants is null ? query : query with { TenantIds = Tenants }, cancellationToken);
    }

    /// <inheritdoc />
    public Task SaveOperationAsync(Operation operation, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a tenant-scoped view of the inventory is read-only");

    /// <inheritdoc />
    public async Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken)
    {
        var operation = await inner.GetOperationAsync(operationId, cancellationToken).ConfigureAwait(false);
        if (operation is null || principal.AllTenants)
        {
            return operation;
        }

        return operation.RuntimeId is { } runtimeId && await GetRuntimeAsync(runtimeId, cancellationToken).ConfigureAwait(false) is not null
            ? operation
            : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Operation>> ListUnfinishedOperationsAsync(CancellationToken cancellationToken)
    {
        var all = await inner.ListUnfinishedOperationsAsync(cancellationToken).ConfigureAwait(false);
        if (principal.AllTenants)
        {
            return all;
        }

        var visible = new List<Operation>();
        foreach (var operation in all)
        {
            if (operation.RuntimeId is { } id && await GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false) is not null)
            {
                visible.Add(operation);
            }
        }

        return visible;
    }

    /// <inheritdoc />
    public Task<(int Operations, int Runtimes)> CountMutationsSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        inner.CountMutationsSinceAsync(since, cancellationToken);
}
