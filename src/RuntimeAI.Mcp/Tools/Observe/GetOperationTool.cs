using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Mcp.Tools.Observe;

internal sealed class GetOperationTool : RuntimeTool
{
    public override string Name => "get_operation";

    public override string Title => "Get an operation";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "An operation's status, progress, error and result; poll it after an execute tool.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Required("operation_id", Schema.String(null, Schema.OperationIdPattern)),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.OperationRow();

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var id = call.GetString("operation_id")!;
        var operation = await call.Inventory.GetOperationAsync(id, cancellationToken).ConfigureAwait(false);
        if (operation is null)
        {
            return ToolResult.Error("not_found", $"operation '{id}' does not exist; use the operation_id an execute tool returned");
        }

        var text = $"Operation {operation.OperationId} ({operation.Action}) is {EnumText.Name(operation.Status)}" +
                   (operation.Error is { } e ? $": {e.Message}" : ".");
        return ToolResult.Ok(CoreJson.ToNode(operation, CoreJsonContext.Default.Operation), text);
    }
}
