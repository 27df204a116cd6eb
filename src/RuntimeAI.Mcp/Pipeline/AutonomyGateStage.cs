using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Resolves the autonomy level that applies to this call (the global level, or the most
/// restrictive scope its target runtimes fall in) and refuses execute-tier tools at advisor,
/// saying what the agent can do instead. Runs after the plan stage so scopes can see the targets.
/// </summary>
internal sealed class AutonomyGateStage(RuntimeAiServerOptions options) : IToolCallStage
{
    public ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.Tool is { Tier: not ToolTier.Execute })
        {
            return ValueTask.FromResult(StageVerdict.Continue);
        }

        var levels = context.Changes.Select(change =>
        {
            if (change.RuntimeId is { } id && context.Targets.TryGetValue(id, out var runtime))
            {
                return AutonomyScope.Resolve(options.Autonomy, options.AutonomyScopes, runtime.TenantId, runtime.Labels);
            }

            var labels = change.Action.Params?["labels"] is System.Text.Json.Nodes.JsonObject l
                ? l.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? string.Empty, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);
            return AutonomyScope.Resolve(options.Autonomy, options.AutonomyScopes, change.Action.Params?["tenant_id"]?.ToString(), labels);
        }).ToList();
        context.Autonomy = levels.Count == 0 ? options.Autonomy : levels.Min();

        if (context.Autonomy == AutonomyLevel.Advisor)
        {
            return ValueTask.FromResult(StageVerdict.Refuse("autonomy_denied",
                $"'{context.ToolName}' changes infrastructure and autonomy is 'advisor' here, where agents only observe, " +
                "analyse and recommend. Use simulate_action to see what would happen and draft_recommendation to propose it " +
                "to a human; an operator can raise the level with --autonomy copilot|guardian|autonomous."));
        }

        return ValueTask.FromResult(StageVerdict.Continue);
    }
}
