using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Pipeline;

namespace RuntimeAI.Mcp.Tools.Analyse;

/// <summary>
/// Runs the pipeline's own plan, policy and dry-run stages on hypothetical actions, so "simulate
/// first" gives exactly the answer the real call would get — without changing anything.
/// </summary>
internal static class Simulation
{
    public static JsonObject ActionSchema() => Schema.Object(
        Schema.Required("type", Schema.Enum(null, ["start", "stop", "restart", "scale", "snapshot", "restore", "delete"])),
        Schema.Optional("params", Schema.OpenObject()));

    public static async ValueTask<ToolResult> RunAsync(ToolCall call, string toolName, IReadOnlyList<PlannedChange> changes, CancellationToken cancellationToken)
    {
        var services = call.Services;
        var context = new ToolCallContext
        {
            CallId = "simulation",
            ToolName = toolName,
            Arguments = new JsonObject { ["dry_run"] = true },
            Principal = call.Caller,
            Autonomy = services.GetRequiredService<Hosting.RuntimeAiServerOptions>().Autonomy,
            Services = services,
            Changes = changes,
        };
        var loaded = await PlanStage.LoadAsync(context, cancellationToken).ConfigureAwait(false);
        if (loaded.Refusal is { } refusal)
        {
            return refusal;
        }

        // The gate narrows the level to the target's scope; at advisor the policy decision itself says no.
        await new AutonomyGateStage(services.GetRequiredService<Hosting.RuntimeAiServerOptions>()).RunAsync(context, cancellationToken).ConfigureAwait(false);
        await services.GetRequiredService<PolicyStage>().RunAsync(context, cancellationToken).ConfigureAwait(false);
        var verdict = await services.GetRequiredService<DryRunStage>().RunAsync(context, cancellationToken).ConfigureAwait(false);
        return verdict.Answer ?? DryRunStage.Report(context);
    }

    public static RuntimeAction ParseAction(JsonNode? node)
    {
        var obj = (JsonObject)node!;
        return new RuntimeAction
        {
            Type = EnumText.Parse<ActionType>(obj["type"]!.GetValue<string>()),
            Params = obj["params"]?.DeepClone() as JsonObject ?? new JsonObject(),
        };
    }
}

internal sealed class SimulateActionTool : RuntimeTool
{
    public override string Name => "simulate_action";

    public override string Title => "Simulate an action";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "Dry-run one action: policy decision, state, capacity, dependents, disruption, undo, approval need.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.RuntimeId(), Schema.Required("action", Simulation.ActionSchema()), Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("verdict", "tool");

    public override ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken) =>
        Simulation.RunAsync(call, Name, [new PlannedChange(call.GetString("runtime_id"), Simulation.ParseAction(call.Arguments["action"]))], cancellationToken);
}

internal sealed class CheckPolicyTool : RuntimeTool
{
    public override string Name => "check_policy";

    public override string Title => "Check actions against policy";

    public override ToolTier Tier => ToolTier.Analyse;

    public override string Description =>
        "Would these actions be allowed, denied or need a human at this autonomy level? With rule ids.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.RuntimeId(), Schema.Required("actions", Schema.Array(Simulation.ActionSchema(), maxItems: 20, minItems: 1)), Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("verdict", "tool");

    public override ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var runtimeId = call.GetString("runtime_id");
        var changes = ((JsonArray)call.Arguments["actions"]!).Select(a => new PlannedChange(runtimeId, Simulation.ParseAction(a))).ToList();
        return Simulation.RunAsync(call, Name, changes, cancellationToken);
    }
}
