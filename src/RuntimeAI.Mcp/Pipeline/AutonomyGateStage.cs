using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Refuses execute-tier tools at the advisor level, and says what the agent can do instead.
/// </summary>
internal sealed class AutonomyGateStage : IToolCallStage
{
    public ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.Tool!.Tier == ToolTier.Execute && context.Autonomy == AutonomyLevel.Advisor)
        {
            return ValueTask.FromResult(StageVerdict.Refuse("autonomy_denied",
                $"'{context.ToolName}' changes infrastructure and this server runs at autonomy level 'advisor', where agents " +
                "only observe, analyse and recommend. Use the observe/analyse tools to gather facts and describe the change " +
                "for a human; an operator can raise the level with --autonomy copilot|guardian|autonomous."));
        }

        return ValueTask.FromResult(StageVerdict.Continue);
    }
}
