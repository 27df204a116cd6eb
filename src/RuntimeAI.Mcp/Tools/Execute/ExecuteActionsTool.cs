using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Mcp.Tools.Execute;

/// <summary>
/// Runs a list of actions against one runtime as one saga operation: all or nothing, with
/// compensations, idempotency keys and per-runtime serialization (see <see cref="SagaExecutor"/>).
/// </summary>
internal sealed class ExecuteActionsTool : RuntimeTool
{
    private const string SnapshotNamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$";

    public override string Name => "execute_actions";

    public override string Title => "Execute actions as one transaction";

    public override ToolTier Tier => ToolTier.Execute;

    public override bool Destructive => true;

    public override string Description =>
        "Run 1-20 actions as one saga (an action may name its own runtime_id): if a step fails, the done steps are undone in reverse order.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.RuntimeId(),
        Schema.Required("actions", Schema.Array(
            Schema.Object(
                Schema.Required("type", Schema.Enum(null, ["start", "stop", "restart", "scale", "snapshot", "restore"])),
                Schema.Optional("runtime_id", Schema.String(null, Schema.RuntimeIdPattern)),
                Schema.Optional("params", Schema.Object(
                    Schema.Optional("size", Schema.Enum(null, SizeTable.Names)),
                    Schema.Optional("vcpus", Schema.Integer(null, 1, 64)),
                    Schema.Optional("memory_mib", Schema.Integer(null, 64, 262144)),
                    Schema.Optional("name", Schema.String(null, SnapshotNamePattern)),
                    Schema.Optional("snapshot", Schema.String(null, SnapshotNamePattern)),
                    Schema.Optional("force", Schema.Boolean())))),
            null, maxItems: SagaExecutor.MaxActions, minItems: 1)),
        .. Schema.Governed(),
        Schema.Reasoning()]);

    public override JsonObject OutputSchema { get; } = Schema.OperationRow();

    public override IReadOnlyList<PlannedChange> PlanChanges(JsonObject arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var defaultRuntimeId = arguments["runtime_id"]?.GetValue<string>();
        var changes = new List<PlannedChange>();
        var index = 0;
        foreach (var item in arguments["actions"] as JsonArray ?? [])
        {
            index++;
            // Every runtime the saga touches is a target: visibility, authorization, autonomy, policy
            // and dry-run judge each change on its own runtime, and the strictest decision wins.
            var runtimeId = StepRuntimeId(item, defaultRuntimeId);
            var type = EnumText.Parse<ActionType>(item!["type"]!.GetValue<string>());
            var parameters = (item["params"] as JsonObject)?.DeepClone().AsObject() ?? [];
            if (type is ActionType.Stop or ActionType.Restart or ActionType.Restore)
            {
                // The executor snapshots before every destructive step; governance sees that too.
                changes.Add(new PlannedChange(runtimeId, new RuntimeAction
                {
                    Type = ActionType.Snapshot,
                    Params = new JsonObject { ["name"] = $"auto-before-<op>-{index}", ["automatic"] = true },
                }));
            }

            changes.Add(new PlannedChange(runtimeId, new RuntimeAction { Type = type, Params = parameters }));
        }

        return changes;
    }

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (call.GetBool("dry_run"))
        {
            return DryRunNotAnswered(Name);
        }

        var executor = call.Services.GetRequiredService<SagaExecutor>();
        var defaultRuntimeId = call.GetString("runtime_id");
        var actions = (call.Arguments["actions"] as JsonArray ?? []).Select(item => new RuntimeAction
        {
            Type = EnumText.Parse<ActionType>(item!["type"]!.GetValue<string>()),
            Target = new JsonObject { ["runtime_id"] = StepRuntimeId(item, defaultRuntimeId) },
            Params = (item["params"] as JsonObject)?.DeepClone().AsObject(),
        }).ToList();
        SagaOutcome outcome;
        try
        {
            outcome = await executor.ExecuteAsync(new SagaRequest
            {
                RuntimeId = call.GetString("runtime_id")!,
                Actions = actions,
                Principal = call.Principal,
                IdempotencyKey = call.GetString("idempotency_key"),
                Initiator = call.Context.ToActor(),
            }, LifecycleTool.ProgressOf(call), cancellationToken).ConfigureAwait(false);
        }
        catch (SagaException ex)
        {
            return ToolResult.Error(ex.Code, ex.Message);
        }

        return Outcome(outcome);
    }

    /// <summary>The digest the saga executor keys an idempotent request by (null when the actions cannot form a saga).</summary>
    internal static string? SagaDigest(JsonObject arguments)
    {
        var defaultRuntimeId = arguments["runtime_id"] is JsonValue v && v.TryGetValue<string>(out var id) ? id : null;
        if (defaultRuntimeId is null)
        {
            return null;
        }

        try
        {
            var actions = (arguments["actions"] as JsonArray ?? []).Select(item => new RuntimeAction
            {
                Type = EnumText.Parse<ActionType>(item!["type"]!.GetValue<string>()),
                Target = new JsonObject { ["runtime_id"] = StepRuntimeId(item, defaultRuntimeId) },
                Params = (item["params"] as JsonObject)?.DeepClone().AsObject(),
            }).ToList();
            return SagaExecutor.PayloadDigest(defaultRuntimeId, SagaExecutor.ToCommands(actions, defaultRuntimeId));
        }
        catch (Exception ex) when (ex is SagaException or ArgumentException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The runtime an action runs on: its own runtime_id, else the call's.</summary>
    private static string? StepRuntimeId(JsonNode? item, string? defaultRuntimeId) =>
        item?["runtime_id"] is JsonValue v && v.TryGetValue<string>(out var id) && !string.IsNullOrEmpty(id) ? id : defaultRuntimeId;

    /// <summary>The result every saga tool returns: the operation, its steps, and whether it is a replay.</summary>
    internal static ToolResult Outcome(SagaOutcome outcome)
    {
        var operation = outcome.Operation;
        var replay = outcome.Replayed ? " (replayed: this idempotency_key was used before; nothing ran again)" : string.Empty;
        switch (operation.Status)
        {
            case OperationStatus.Succeeded:
                var structured = CoreJson.ToNode(operation, CoreJsonContext.Default.Operation);
                structured["replayed"] = outcome.Replayed;
                return ToolResult.Ok(structured,
                    $"{operation.Action} on {operation.RuntimeId} succeeded: {outcome.Steps.Count} step(s) (operation {operation.OperationId}){replay}.");
            case OperationStatus.Stuck:
                return ToolResult.Error("stuck", $"{operation.Action} on {operation.RuntimeId} is STUCK (operation {operation.OperationId}){replay}: {operation.Error?.Message}");
            case OperationStatus.Failed:
                return ToolResult.Error("failed_compensated", $"{operation.Action} on {operation.RuntimeId} failed (operation {operation.OperationId}){replay}: {operation.Error?.Message}");
            default:
                var pending = CoreJson.ToNode(operation, CoreJsonContext.Default.Operation);
                pending["replayed"] = outcome.Replayed;
                return ToolResult.Ok(pending,
                    $"{operation.Action} on {operation.RuntimeId} is {EnumText.Name(operation.Status)} (operation {operation.OperationId}){replay}; poll get_operation.");
        }
    }

    /// <summary>
    /// The pipeline's dry-run stage answers <c>dry_run: true</c> before a tool runs; if a call still
    /// gets here, it fails closed instead of executing what was meant as a simulation.
    /// </summary>
    internal static ToolResult DryRunNotAnswered(string tool) => ToolResult.Error("dry_run_unavailable",
        $"{tool} was called with dry_run: true but no dry-run stage answered it, so nothing was executed; call simulate_action or check_policy instead");
}
