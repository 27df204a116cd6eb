using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Inventory;

/// <summary>What changed in the inventory: a runtime's record (or its events), or an operation.</summary>
/// <param name="Kind"><c>runtime</c>, <c>operation</c>, or <c>all</c> (see <see cref="Anything"/>).</param>
/// <param name="Id">The runtime or operation id.</param>
public sealed record InventoryChange(string Kind, string Id)
{
    /// <summary>
    /// Anything may have changed (a shared store's change notifications were interrupted and are
    /// back): every listener re-reads what it watches, so nothing written meanwhile is missed.
    /// </summary>
    public static InventoryChange Anything { get; } = new("all", "*");

    /// <summary>True when a runtime's record or events may have changed.</summary>
    public bool MayTouchRuntimes => Kind is "runtime" or "all";
}

/// <summary>
/// Tells listeners (the MCP resource subscriptions) what the inventory just stored, so agents are
/// pushed updates instead of polling. A listener that throws is ignored: the store is the truth.
/// </summary>
public sealed class InventoryChangeFeed
{
    /// <summary>Raised after a change is stored.</summary>
    public event EventHandler<InventoryChange>? Changed;

    /// <summary>Announces a stored change.</summary>
    public void Publish(InventoryChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        foreach (var handler in Changed?.GetInvocationList().Cast<EventHandler<InventoryChange>>() ?? [])
        {
            try
            {
                handler(this, change);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A listener's failure must never fail the write it was told about.
            }
        }
    }
}

/// <summary>The inventory, announcing every stored runtime, event and operation on a <see cref="InventoryChangeFeed"/>.</summary>
public sealed class NotifyingInventory(IRuntimeInventory inner, InventoryChangeFeed feed) : IRuntimeInventory
{
    /// <inheritdoc />
    public Task<Runtime?> GetRuntimeAsync(string runtimeId, CancellationToken cancellationToken) => inner.GetRuntimeAsync(runtimeId, cancellationToken);

    /// <inheritdoc />
    public Task<Runtime?> FindRuntimeByBackendRefAsync(string backendRef, CancellationToken cancellationToken) => inner.FindRuntimeByBackendRefAsync(backendRef, cancellationToken);

    /// <inheritdoc />
    public Task<Page<Runtime>> ListRuntimesAsync(RuntimeQuery query, CancellationToken cancellationToken) => inner.ListRuntimesAsync(query, cancellationToken);

    /// <inheritdoc />
    public async Task SaveRuntimeAsync(Runtime runtime, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        await inner.SaveRuntimeAsync(runtime, reason, cancellationToken).ConfigureAwait(false);
        feed.Publish(new InventoryChange("runtime", runtime.Id));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SpecRevision>> GetSpecRevisionsAsync(string runtimeId, CancellationToken cancellationToken) => inner.GetSpecRevisionsAsync(runtimeId, cancellationToken);

    /// <inheritdoc />
    public async Task AppendEventAsync(RuntimeEvent runtimeEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtimeEvent);
        await inner.AppendEventAsync(runtimeEvent, cancellationToken).ConfigureAwait(false);
        feed.Publish(new InventoryChange("runtime", runtimeEvent.RuntimeId));
    }

    /// <inheritdoc />
    public Task<Page<RuntimeEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken) => inner.ListEventsAsync(query, cancellationToken);

    /// <inheritdoc />
    public async Task SaveOperationAsync(Operation operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        await inner.SaveOperationAsync(operation, cancellationToken).ConfigureAwait(false);
        feed.Publish(new InventoryChange("operation", operation.OperationId));
        if (operation.IsTerminal)
        {
            Telemetry.RuntimeAiTelemetry.RecordOperationEnded(operation);
        }
    }

    /// <inheritdoc />
    public Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken) => inner.GetOperationAsync(operationId, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Operation>> ListUnfinishedOperationsAsync(CancellationToken cancellationToken) => inner.ListUnfinishedOperationsAsync(cancellationToken);

    /// <inheritdoc />
    public Task<(int Operations, int Runtimes)> CountMutationsSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) => inner.CountMutationsSinceAsync(since, cancellationToken);
}
