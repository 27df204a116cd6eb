using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Operations;

/// <summary>Planning: actions to commands, the automatic snapshots before destructive steps, the steps and their compensations, the idempotency digest.</summary>
public sealed partial class SagaExecutor
{
    /// <summary>The name of the automatic snapshot taken before action <paramref name="actionIndex"/>.</summary>
    public static string AutoSnapshotName(string operationId, int actionIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"auto-before-{operationId}-{actionIndex}");

    /// <summary>
    /// Turns the caller's actions into commands; throws <see cref="SagaException"/> (invalid_action)
    /// listing every problem, not only the first.
    /// </summary>
    public static IReadOnlyList<SagaCommand> ToCommands(IReadOnlyList<RuntimeAction> actions) => ToCommands(actions, null);

    /// <summary>
    /// Turns the caller's actions into commands; an action whose <see cref="RuntimeAction.Target"/>
    /// names a <c>runtime_id</c> other than <paramref name="defaultRuntimeId"/> runs on that runtime.
    /// </summary>
    public static IReadOnlyList<SagaCommand> ToCommands(IReadOnlyList<RuntimeAction> actions, string? defaultRuntimeId)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var errors = new List<string>();
        var commands = new List<SagaCommand>();
        if (actions.Count is 0 or > MaxActions)
        {
            errors.Add($"actions must hold 1 to {MaxActions} items (got {actions.Count})");
        }

        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            var p = action.Params ?? [];
            var where = $"actions[{i}] ({EnumText.Name(action.Type)})";
            switch (action.Type)
            {
                case ActionType.Start:
                    commands.Add(new SagaCommand { Type = SagaCommandType.Start });
                    break;
                case ActionType.Stop:
                    commands.Add(new SagaCommand { Type = SagaCommandType.Stop, Force = Bool(p, "force") });
                    break;
                case ActionType.Restart:
                    commands.Add(new SagaCommand { Type = SagaCommandType.Restart });
                    break;
                case ActionType.Scale:
                    var size = Text(p, "size");
                    var vcpus = Long(p, "vcpus");
                    var memory = Long(p, "memory_mib");
                    if (size is null && vcpus is null && memory is null)
                    {
                        errors.Add($"{where}: params needs size, vcpus or memory_mib");
                    }
                    else if (size is not null && !SizeTable.TryGet(size, out _))
                    {
                        errors.Add($"{where}: size '{size}' is not one of {string.Join(", ", SizeTable.Names)}");
                    }

                    commands.Add(new SagaCommand { Type = SagaCommandType.Scale, Size = size, Vcpus = (int?)vcpus, MemoryMiB = memory });
                    break;
                case ActionType.Snapshot:
                    var name = Text(p, "name");
                    if (name is null)
                    {
                        errors.Add($"{where}: params.name is required");
                    }
                    else if (name.StartsWith("auto-before-", StringComparison.Ordinal))
                    {
                        errors.Add($"{where}: snapshot names starting with 'auto-before-' are reserved for the executor's automatic snapshots");
                    }

                    commands.Add(new SagaCommand { Type = SagaCommandType.Snapshot, Snapshot = name });
                    break;
                case ActionType.Restore:
                    var snapshot = Text(p, "snapshot");
                    if (snapshot is null)
                    {
                        errors.Add($"{where}: params.snapshot is required");
                    }

                    commands.Add(new SagaCommand { Type = SagaCommandType.Restore, Snapshot = snapshot });
                    break;
                default:
                    errors.Add($"{where}: only start, stop, restart, scale, snapshot and restore can run in a saga");
                    break;
            }
        }

        if (errors.Count > 0)
        {
            throw new SagaException("invalid_action", string.Join("; ", errors));
        }

        // A command keeps a runtime of its own only when it differs from the operation's runtime, so
        // single-runtime sagas store (and digest) exactly as before.
        return commands.Select((c, i) =>
            actions[i].Target?["runtime_id"] is JsonValue v && v.TryGetValue<string>(out var id) && !string.IsNullOrEmpty(id) && id != defaultRuntimeId
                ? c with { RuntimeId = id }
                : c).ToList();
    }

    /// <summary>The runtime a step runs on, and whose events record it.</summary>
    internal static string RuntimeOf(SagaStep step, string operationRuntimeId) => step.Command.RuntimeId ?? operationRuntimeId;

    /// <summary>The runtime a compensation runs on.</summary>
    internal static string RuntimeOf(SagaCommand command, string operationRuntimeId) => command.RuntimeId ?? operationRuntimeId;

    /// <summary>Every runtime a saga touches: the operation's runtime first, then the others in order of first use.</summary>
    internal static IReadOnlyList<string> RuntimesOf(string operationRuntimeId, IEnumerable<SagaStep> steps) =>
        new[] { operationRuntimeId }.Concat(steps.SelectMany(s => new[] { s.Command.RuntimeId, s.Compensation?.RuntimeId }).OfType<string>())
            .Distinct(StringComparer.Ordinal).ToList();

    /// <summary>SHA-256 of the canonical payload (runtime id and normalized commands, each with its runtime when it has its own), hex.</summary>
    public static string PayloadDigest(string runtimeId, IReadOnlyList<SagaCommand> commands)
    {
        var canonical = runtimeId + "\n" + JsonSerializer.Serialize(commands.ToList(), SagaJsonContext.Default.ListSagaCommand);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>The steps a saga of <paramref name="commands"/> would run, with their compensations.</summary>
    public static IReadOnlyList<SagaStep> Plan(string operationId, IReadOnlyList<SagaCommand> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var steps = new List<SagaStep>();
        for (var i = 0; i < commands.Count; i++)
        {
            var command = commands[i];
            var actionIndex = i + 1;
            string? auto = null;
            if (command.Type is SagaCommandType.Stop or SagaCommandType.Restart or SagaCommandType.Restore)
            {
                auto = AutoSnapshotName(operationId, actionIndex);
                steps.Add(new SagaStep
                {
                    Step = steps.Count + 1,
                    ActionIndex = actionIndex,
                    Kind = "auto_snapshot",
                    Command = new SagaCommand { Type = SagaCommandType.Snapshot, Snapshot = auto, RuntimeId = command.RuntimeId },
                    Compensation = new SagaCommand { Type = SagaCommandType.DeleteSnapshot, Snapshot = auto, RuntimeId = command.RuntimeId },
                    Status = SagaStepStatus.Pending,
                });
            }

            steps.Add(new SagaStep
            {
                Step = steps.Count + 1,
                ActionIndex = actionIndex,
                Kind = "action",
                Command = command,
                Compensation = (command.Type switch
                {
                    SagaCommandType.Start => new SagaCommand { Type = SagaCommandType.Stop, Force = true },
                    // start is lossless; the automatic snapshot stays the fallback a human can restore.
                    SagaCommandType.Stop => new SagaCommand { Type = SagaCommandType.Start },
                    SagaCommandType.Restart or SagaCommandType.Restore => new SagaCommand { Type = SagaCommandType.Restore, Snapshot = auto },
                    SagaCommandType.Snapshot => new SagaCommand { Type = SagaCommandType.DeleteSnapshot, Snapshot = command.Snapshot },
                    // The exact size is read just before the step runs (see ExecuteStepsAsync).
                    SagaCommandType.Scale => null,
                    _ => null,
                }) is { } undo ? undo with { RuntimeId = command.RuntimeId } : null,
                Status = SagaStepStatus.Pending,
            });
        }

        return steps;
    }

    private static string? Text(JsonObject p, string name) =>
        p[name] is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s : null;

    private static long? Long(JsonObject p, string name) =>
        p[name] is JsonValue v && v.TryGetValue<double>(out var d) ? (long)d : null;

    private static bool? Bool(JsonObject p, string name) =>
        p[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
}
