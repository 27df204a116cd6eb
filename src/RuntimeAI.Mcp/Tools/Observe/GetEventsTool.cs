using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Mcp.Tools.Observe;

internal sealed class GetEventsTool : RuntimeTool
{
    public override string Name => "get_events";

    public override string Title => "Get runtime events";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "Events newest first, of one runtime or all; filter by type prefix (e.g. lifecycle.) and start time.";

    public override JsonObject InputSchema { get; } = Schema.Object(
    [
        Schema.Optional("runtime_id", Schema.String(null, Inside.InsideTarget.Pattern)),
        Schema.Optional("related_resource", Schema.String()),
        Schema.Optional("type_prefix", Schema.String(null, maxLength: 128)),
        Schema.Optional("since", Schema.String(null, format: "date-time")),
        .. Schema.Paging(),
        Schema.Reasoning(),
    ]);

    public override JsonObject OutputSchema { get; } = Schema.PageOf(Schema.EventRow());

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (Inside.RelatedEvents.Applies(call))
        {
            return await Inside.RelatedEvents.ListAsync(call, cancellationToken).ConfigureAwait(false);
        }

        var inventory = call.Inventory;
        var runtimeId = call.GetString("runtime_id");
        if (runtimeId is not null && await inventory.GetRuntimeAsync(runtimeId, cancellationToken).ConfigureAwait(false) is null)
        {
            return ToolErrors.RuntimeNotFound(runtimeId);
        }

        var page = await inventory.ListEventsAsync(new EventQuery
        {
            RuntimeId = runtimeId,
            TypePrefix = call.GetString("type_prefix"),
            Since = call.GetString("since") is { } s ? DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : null,
            PageSize = call.GetInt("page_size", 50),
            PageToken = call.GetString("page_token"),
        }, cancellationToken).ConfigureAwait(false);

        var items = new JsonArray(page.Items.Select(e => (JsonNode)CoreJson.ToNode(e, CoreJsonContext.Default.RuntimeEvent)).ToArray());
        var text = page.Items.Count == 0
            ? "No events match."
            : $"{page.Items.Count} event(s), newest {page.Items[0].Type} at {page.Items[0].Ts:O}" +
              (page.NextPageToken is null ? "." : "; more with next_page_token.");
        return ToolResult.Ok(new JsonObject { ["items"] = items, ["next_page_token"] = page.NextPageToken }, text);
    }
}
