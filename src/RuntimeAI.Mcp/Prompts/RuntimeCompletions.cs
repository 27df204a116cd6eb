using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Mcp.Identity;

namespace RuntimeAI.Mcp.Prompts;

/// <summary>
/// <c>completion/complete</c>: suggests runtime ids for the <c>runtime_id</c> argument of the
/// triage prompt and of the runtime resource templates, from the runtimes the caller may see
/// (ids that start with what was typed, case-insensitive). Any other argument gets no suggestion.
/// </summary>
internal static class RuntimeCompletions
{
    /// <summary>The most values one answer carries (the MCP limit).</summary>
    internal const int MaxValues = 100;

    public static IMcpServerBuilder WithRuntimeAiCompletions(this IMcpServerBuilder builder) =>
        builder.WithCompleteHandler(async (context, cancellationToken) =>
        {
            var argument = context.Params?.Argument;
            if (argument is not { Name: "runtime_id" } || !RefersToRuntime(context.Params!.Ref))
            {
                return new CompleteResult { Completion = new Completion { Values = [], Total = 0, HasMore = false } };
            }

            var services = context.Services!;
            var principal = services.GetRequiredService<PrincipalResolver>().Resolve(context.User);
            var inventory = services.GetRequiredService<IRuntimeInventory>();
            var scoped = principal.AllTenants ? inventory : new TenantScopedInventory(inventory, principal);
            var prefix = argument.Value ?? string.Empty;
            var matches = new List<string>();
            string? token = null;
            do
            {
                var page = await scoped.ListRuntimesAsync(new RuntimeQuery { PageSize = 200, PageToken = token }, cancellationToken).ConfigureAwait(false);
                matches.AddRange(page.Items.Select(r => r.Id).Where(id => id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)));
                token = page.NextPageToken;
            }
            while (token is not null && matches.Count <= MaxValues);

            matches.Sort(StringComparer.Ordinal);
            return new CompleteResult
            {
                Completion = new Completion
                {
                    Values = [.. matches.Take(MaxValues)],
                    Total = token is null ? matches.Count : null,
                    HasMore = matches.Count > MaxValues || token is not null,
                },
            };
        });

    private static bool RefersToRuntime(Reference? reference) => reference switch
    {
        PromptReference prompt => prompt.Name == "triage_runtime",
        ResourceTemplateReference template => template.Uri?.Contains("{runtime_id}", StringComparison.Ordinal) == true,
        _ => false,
    };
}
