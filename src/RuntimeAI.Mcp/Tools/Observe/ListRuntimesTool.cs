using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Mcp.Tools.Observe;

internal sealed class ListRuntimesTool : RuntimeTool
{
    public override string Name => "list_runtimes";

    public override string Title => "List runtimes";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "List runtimes (VMs, virtual clusters), oldest first; filters must all match. Start here.";

    public override JsonObject InputSchema { get; } = Schema.Object(
    [
        Schema.Optional("type", Schema.Enum(null, ["vm", "vcluster", "sandbox", "agent_runtime"])),
        Schema.Optional("state", Schema.Enum(null, ["creating", "running", "stopped", "degraded", "deleting", "deleted", "error"])),
        Schema.Optional("tenant_id", Schema.String(maxLength: 128)),
        Schema.Optional("labels", Schema.StringMap(null, 16)),
        .. Schema.Paging(),
        Schema.Reasoning(),
    ]);

    public override JsonObject OutputSchema { get; } = Schema.PageOf(Schema.RuntimeRow());

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var inventory = call.Inventory;
        var query = new RuntimeQuery
        {
            Type = call.GetString("type") is { } t ? EnumText.Parse<RuntimeType>(t) : null,
            State = call.GetString("state") is { } s ? EnumText.Parse<RuntimeState>(s) : null,
            TenantId = call.GetString("tenant_id"),
            Labels = call.GetStringMap("labels"),
            IncludeDeleted = call.GetString("state") == "deleted",
            PageSize = call.GetInt("page_size", 50),
            PageToken = call.GetString("page_token"),
        };

        var page = await inventory.ListRuntimesAsync(query, cancellationToken).ConfigureAwait(false);

        var items = new JsonArray(page.Items.Select(r => (JsonNode)CoreJson.ToNode(r, CoreJsonContext.Default.Runtime)).ToArray());
        var text = page.Items.Count == 0
            ? "No runtimes match."
            : $"{page.Items.Count} runtime(s): " + string.Join(", ", page.Items.Take(10).Select(r => $"{r.Name} ({r.Id}, {EnumText.Name(r.State)})"))
              + (page.Items.Count > 10 ? ", …" : string.Empty)
              + (page.NextPageToken is null ? "." : "; more with next_page_token.");
        return ToolResult.Ok(new JsonObject { ["items"] = items, ["next_page_token"] = page.NextPageToken }, text);
    }
}
