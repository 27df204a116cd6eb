using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Works out what an execute call would change, and loads the target runtimes and the inventory
/// the governance stages reason over. Tools that change nothing skip the governance stages.
/// </summary>
internal sealed class PlanStage : IToolCallStage
{
    private const int InventoryLimit = 10_000;

    public async ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        context.Changes = await context.Tool!.PlanChangesAsync(context, cancellationToken).ConfigureAwait(false);
        if (context.Changes.Count == 0)
        {
            return StageVerdict.Continue;
        }

        // A change is judged against a settled runtime: a saga running on it now (from any caller)
        // passes through states its own steps leave behind, and would refuse a valid call.
        if (context.Services.GetService<RuntimeLifecycle>() is { } lifecycle)
        {
            foreach (var id in context.Changes.Select(c => c.RuntimeId).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                await lifecycle.WaitUntilIdleAsync(id, cancellationToken).ConfigureAwait(false);
            }
        }

        return await LoadAsync(context, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads the inventory and the targets of <see cref="ToolCallContext.Changes"/>.</summary>
    internal static async ValueTask<StageVerdict> LoadAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        var inventory = context.Services.GetRequiredService<IRuntimeInventory>();
        var all = new List<Runtime>();
        string? token = null;
        do
        {
            var page = await inventory.ListRuntimesAsync(new RuntimeQuery { PageSize = 200, PageToken = token }, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token is not null && all.Count < InventoryLimit);

        context.Inventory = all;
        var targets = new Dictionary<string, Runtime>(StringComparer.Ordinal);
        foreach (var change in context.Changes)
        {
            if (change.RuntimeId is not { } id)
            {
                continue;
            }

            // Another tenant's runtime does not exist for this caller (not found, not forbidden).
            if (all.FirstOrDefault(r => r.Id == id) is not { } runtime || !context.Principal.CanSee(runtime.TenantId))
            {
                var error = Tools.ToolErrors.RuntimeNotFound(id);
                return StageVerdict.Refuse(error.ErrorCode!, error.Text);
            }

            targets[id] = runtime;
        }

        context.Targets = targets;
        return StageVerdict.Continue;
    }
}
