using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Mcp.Tools.Observe;

internal sealed class GetRuntimeTool : RuntimeTool
{
    public override string Name => "get_runtime";

    public override string Title => "Get a runtime";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "A runtime's record: name, type, state, tenant, labels, backend, spec. Live state: get_runtime_status.";

    public override JsonObject InputSchema { get; } = Schema.Object(Schema.RuntimeId(), Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.RuntimeRow();

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var id = call.GetString("runtime_id")!;
        var runtime = await call.Inventory.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false);
        if (runtime is null)
        {
            return ToolErrors.RuntimeNotFound(id);
        }

        return ToolResult.Ok(CoreJson.ToNode(runtime, CoreJsonContext.Default.Runtime),
            $"{runtime.Name} ({runtime.Id}) is {EnumText.Name(runtime.Type)}, {EnumText.Name(runtime.State)}.");
    }
}
