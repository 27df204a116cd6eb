using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Mcp.Tools.Execute;

/// <summary>
/// An execute-tier tool that runs one lifecycle action as an Operation and returns it. Failures
/// are tool errors that name the cause; the operation stays readable with get_operation.
/// </summary>
internal abstract class LifecycleTool : RuntimeTool
{
    public override ToolTier Tier => ToolTier.Execute;

    public override JsonObject OutputSchema { get; } = Schema.OperationRow();

    protected abstract ActionType Action { get; }

    protected virtual LifecycleRequest BuildRequest(ToolCall call) => new()
    {
        RuntimeId = call.GetString("runtime_id")!,
        Action = Action,
        Actor = call.Context.ToActor().Kind,
        Initiator = call.Context.ToActor(),
        OperationId = call.Context.OperationId,
    };

    public override IReadOnlyList<PlannedChange> PlanChanges(JsonObject arguments) =>
        [new PlannedChange(arguments["runtime_id"]?.GetValue<string>(), new RuntimeAction { Type = Action, Params = PlannedChange.ParametersOf(arguments) })];

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var lifecycle = call.Services.GetRequiredService<RuntimeLifecycle>();
        var (operation, runtime) = await lifecycle.RunAsync(BuildRequest(call), ProgressOf(call), cancellationToken).ConfigureAwait(false);
        return Outcome(operation, runtime);
    }

    /// <summary>Maps an operation to the tool result every execute tool returns.</summary>
    internal static ToolResult Outcome(Operation operation, Runtime runtime)
    {
        var structured = CoreJson.ToNode(operation, CoreJsonContext.Default.Operation);
        if (operation.Status != OperationStatus.Succeeded)
        {
            return ToolResult.Error(operation.Error?.Code ?? "failed",
                $"{operation.Action} of {runtime.Name} ({runtime.Id}) failed: {operation.Error?.Message} (operation {operation.OperationId}; the runtime is {EnumText.Name(runtime.State)})");
        }

        var notes = operation.Result?["restart_required"] is not null ? " A restart is needed for the new size to take full effect." : string.Empty;
        return ToolResult.Ok(structured,
            $"{operation.Action} of {runtime.Name} ({runtime.Id}) succeeded; it is now {EnumText.Name(runtime.State)} (operation {operation.OperationId}).{notes}");
    }

    internal static IProgress<OperationProgress> ProgressOf(ToolCall call) =>
        new Progress<OperationProgress>(p => call.Progress.Report(new ProgressNotificationValue { Progress = p.Percent, Total = 100, Message = p.Message }));
}

internal sealed class StartRuntimeTool : LifecycleTool
{
    public override string Name => "start_runtime";

    public override string Title => "Start a runtime";

    protected override ActionType Action => ActionType.Start;

    public override string Description =>
        "Start (power on) a stopped runtime; it is running when the operation succeeds.";

    public override JsonObject InputSchema { get; } = Schema.Object([Schema.RuntimeId(), .. Schema.Governed(), Schema.Reasoning()]);
}

internal sealed class StopRuntimeTool : LifecycleTool
{
    public override string Name => "stop_runtime";

    public override string Title => "Stop a runtime";

    public override bool Destructive => true;

    protected override ActionType Action => ActionType.Stop;

    public override string Description =>
        "Shut a runtime down gracefully within timeout_seconds, else fail and keep it running; force powers it off.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.RuntimeId(),
        Schema.Optional("force", Schema.Boolean()),
        Schema.Optional("timeout_seconds", Schema.Integer(null, 1, 600, 30)),
        .. Schema.Governed(), Schema.Reasoning()]);

    protected override LifecycleRequest BuildRequest(ToolCall call) => base.BuildRequest(call) with
    {
        Stop = new Core.Drivers.StopOptions(call.GetBool("force"), TimeSpan.FromSeconds(call.GetInt("timeout_seconds", 30))),
    };
}

internal sealed class RestartRuntimeTool : LifecycleTool
{
    public override string Name => "restart_runtime";

    public override string Title => "Restart a runtime";

    public override bool Destructive => true;

    protected override ActionType Action => ActionType.Restart;

    public override string Description =>
        "Reboot a running runtime gracefully; workloads inside are interrupted.";

    public override JsonObject InputSchema { get; } = Schema.Object([Schema.RuntimeId(), .. Schema.Governed(), Schema.Reasoning()]);
}

internal sealed class ScaleRuntimeTool : LifecycleTool
{
    public override string Name => "scale_runtime";

    public override string Title => "Scale a runtime";

    protected override ActionType Action => ActionType.Scale;

    public override string Description =>
        "Change a runtime's vCPUs and memory by size or vcpus/memory_mib; live if possible, else result.restart_required.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.RuntimeId(),
        Schema.Optional("size", Schema.Enum(null, SizeTable.Names)),
        Schema.Optional("vcpus", Schema.Integer(null, 1, 64)),
        Schema.Optional("memory_mib", Schema.Integer(null, 64, 262144)),
        .. Schema.Governed(), Schema.Reasoning()]);

    protected override LifecycleRequest BuildRequest(ToolCall call) => base.BuildRequest(call) with
    {
        Size = call.GetString("size"),
        Vcpus = call.Arguments["vcpus"] is null ? null : call.GetInt("vcpus", 0),
        MemoryMiB = call.Arguments["memory_mib"] is null ? null : call.GetInt("memory_mib", 0),
    };
}

internal sealed class SnapshotRuntimeTool : LifecycleTool
{
    public override string Name => "snapshot_runtime";

    public override string Title => "Snapshot a runtime";

    protected override ActionType Action => ActionType.Snapshot;

    public override string Description =>
        "Take a named snapshot of a runtime (cheap; take one before risky changes).";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.RuntimeId(),
        Schema.Required("name", Schema.String(null, "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")),
        Schema.Optional("description", Schema.String(null, maxLength: 500)),
        .. Schema.Governed(), Schema.Reasoning()]);

    protected override LifecycleRequest BuildRequest(ToolCall call) => base.BuildRequest(call) with
    {
        SnapshotName = call.GetString("name"),
        SnapshotDescription = call.GetString("description"),
    };
}

internal sealed class RestoreSnapshotTool : LifecycleTool
{
    public override string Name => "restore_snapshot";

    public override string Title => "Restore a snapshot";

    public override bool Destructive => true;

    protected override ActionType Action => ActionType.Restore;

    public override string Description =>
        "Revert a runtime to one of its snapshots (list_snapshots); everything since the snapshot is lost.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.RuntimeId(),
        Schema.Required("snapshot", Schema.String(null, "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")),
        .. Schema.Governed(), Schema.Reasoning()]);

    protected override LifecycleRequest BuildRequest(ToolCall call) => base.BuildRequest(call) with { SnapshotName = call.GetString("snapshot") };
}

internal sealed class DeleteRuntimeTool : LifecycleTool
{
    public override string Name => "delete_runtime";

    public override string Title => "Delete a runtime";

    public override bool Destructive => true;

    protected override ActionType Action => ActionType.Delete;

    public override string Description =>
        "Delete a runtime for good: definition, snapshots and, unless keep_data, its disks/volumes.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.RuntimeId(),
        Schema.Optional("keep_data", Schema.Boolean()),
        .. Schema.Governed(), Schema.Reasoning()]);

    protected override LifecycleRequest BuildRequest(ToolCall call) =>
        base.BuildRequest(call) with { KeepDisk = call.GetBool("keep_data") };
}
