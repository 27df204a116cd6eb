using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Operations;

namespace RuntimeAI.Mcp.Tools.Execute;

/// <summary>Undoes a succeeded operation by running its recorded compensations as a new operation.</summary>
internal sealed class RollbackOperationTool : RuntimeTool
{
    public override string Name => "rollback_operation";

    public override string Title => "Roll back an operation";

    public override ToolTier Tier => ToolTier.Execute;

    public override bool Destructive => true;

    public override string Description =>
        "Undo a succeeded operation once: start, stop, scale, snapshot, or an execute_actions run.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.Required("operation_id", Schema.String(null, Schema.OperationIdPattern)),
        .. Schema.Governed(),
        Schema.Reasoning()]);

    public override JsonObject OutputSchema { get; } = Schema.OperationRow();

    // The compensations are known only from the store; governance sees one restore-class change
    // (the most disruptive kind a rollback can make) on the operation's runtime, so per-scope
    // autonomy, tenant isolation and label-scoped rules apply to the rollback as to the original.
    public override async ValueTask<IReadOnlyList<PlannedChange>> PlanChangesAsync(Pipeline.ToolCallContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var operationId = context.Arguments["operation_id"]?.GetValue<string>();
        var operation = operationId is null ? null : await context.ScopedInventory.GetOperationAsync(operationId, cancellationToken).ConfigureAwait(false);
        if (operation is null)
        {
            // Nothing to govern: the tool answers not_found without changing anything.
            return [];
        }

        return [new PlannedChange(operation.RuntimeId, new RuntimeAction
        {
            Type = ActionType.Restore,
            Params = new JsonObject { ["rollback_of"] = operationId },
        })];
    }

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (call.GetBool("dry_run"))
        {
            return ExecuteActionsTool.DryRunNotAnswered(Name);
        }

        var operationId = call.GetString("operation_id")!;
        if (await call.Inventory.GetOperationAsync(operationId, cancellationToken).ConfigureAwait(false) is null)
        {
            return ToolResult.Error("not_found", $"operation '{operationId}' does not exist; use the operation_id an execute tool returned");
        }

        var executor = call.Services.GetRequiredService<SagaExecutor>();
        try
        {
            var outcome = await executor.RollbackAsync(call.GetString("operation_id")!, call.Context.ToActor().Kind, call.Context.ToActor(), call.Context.OperationId, cancellationToken).ConfigureAwait(false);
            return ExecuteActionsTool.Outcome(outcome);
        }
        catch (SagaException ex)
        {
            return ToolResult.Error(ex.Code, ex.Message);
        }
    }
}
