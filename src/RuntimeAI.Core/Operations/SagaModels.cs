using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RuntimeAI.Core.Operations;

/// <summary>What a saga step (or the compensation of one) does to the runtime.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SagaCommandType>))]
public enum SagaCommandType
{
    [JsonStringEnumMemberName("start")] Start,
    [JsonStringEnumMemberName("stop")] Stop,
    [JsonStringEnumMemberName("restart")] Restart,
    [JsonStringEnumMemberName("scale")] Scale,
    [JsonStringEnumMemberName("snapshot")] Snapshot,
    [JsonStringEnumMemberName("restore")] Restore,
    [JsonStringEnumMemberName("delete_snapshot")] DeleteSnapshot,
}

/// <summary>One command against a runtime of the saga, with only the parameters its type uses.</summary>
public sealed record SagaCommand
{
    /// <summary>What to do.</summary>
    public required SagaCommandType Type { get; init; }

    /// <summary>
    /// The runtime the command runs on when it is not the operation's runtime (a saga over several
    /// runtimes); null means the operation's runtime, which is also how sagas stored before this
    /// field read.
    /// </summary>
    [JsonPropertyName("runtime_id")]
    public string? RuntimeId { get; init; }

    /// <summary>Size name for a scale.</summary>
    public string? Size { get; init; }

    /// <summary>vCPUs for a scale.</summary>
    public int? Vcpus { get; init; }

    /// <summary>Memory for a scale.</summary>
    [JsonPropertyName("memory_mib")]
    public long? MemoryMiB { get; init; }

    /// <summary>Snapshot to take, restore or delete.</summary>
    public string? Snapshot { get; init; }

    /// <summary>For a stop: power off when the graceful shutdown does not finish in time.</summary>
    public bool? Force { get; init; }

    /// <summary>A short human description, e.g. <c>scale to vcpus=1 memory_mib=512</c>.</summary>
    public string Describe() => Type switch
    {
        SagaCommandType.Scale => "scale to " + string.Join(' ', new[]
        {
            Size is null ? null : $"size={Size}",
            Vcpus is null ? null : $"vcpus={Vcpus}",
            MemoryMiB is null ? null : $"memory_mib={MemoryMiB}",
        }.Where(p => p is not null)),
        SagaCommandType.Snapshot => $"snapshot '{Snapshot}'",
        SagaCommandType.Restore => $"restore snapshot '{Snapshot}'",
        SagaCommandType.DeleteSnapshot => $"delete snapshot '{Snapshot}'",
        SagaCommandType.Stop => Force == true ? "stop (force)" : "stop",
        _ => SagaJson.Name(Type),
    };
}

/// <summary>Where a saga step is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SagaStepStatus>))]
public enum SagaStepStatus
{
    /// <summary>Planned (intent and compensation are durable), not started.</summary>
    [JsonStringEnumMemberName("pending")] Pending,
    /// <summary>Started; if the server stops now, recovery assumes it may have happened.</summary>
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("compensated")] Compensated,
    /// <summary>Its compensation failed after every retry: a human must act.</summary>
    [JsonStringEnumMemberName("compensation_failed")] CompensationFailed,
    /// <summary>Never started because an earlier step failed.</summary>
    [JsonStringEnumMemberName("not_run")] NotRun,
}

/// <summary>
/// One durable step of a saga operation (a row of <c>saga_steps</c>): the command, the command
/// that undoes it, and how far both got.
/// </summary>
public sealed record SagaStep
{
    /// <summary>1-based position in the operation.</summary>
    public required int Step { get; init; }

    /// <summary>1-based index of the caller's action this step belongs to (0 for rollback steps).</summary>
    public required int ActionIndex { get; init; }

    /// <summary><c>action</c>, <c>auto_snapshot</c> (taken before a destructive action) or <c>rollback</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>What the step does.</summary>
    public required SagaCommand Command { get; init; }

    /// <summary>What undoes it; null when nothing can (rollback steps).</summary>
    public SagaCommand? Compensation { get; init; }

    /// <summary>Where the step is.</summary>
    public required SagaStepStatus Status { get; init; }

    /// <summary>The lifecycle operation that ran the command.</summary>
    public string? OperationId { get; init; }

    /// <summary>The lifecycle operation that ran the compensation.</summary>
    public string? CompensationOperationId { get; init; }

    /// <summary>Why the step or its compensation failed.</summary>
    public string? Error { get; init; }

    /// <summary>When the row last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A saga request the executor refuses, with a message that names the cause and the fix.</summary>
public sealed class SagaException(string code, string message) : Exception(message)
{
    /// <summary>invalid_action, idempotency_conflict, not_found, invalid_state, not_reversible.</summary>
    public string Code { get; } = code;
}

/// <summary>Source-generated JSON of the saga records (snake_case, like the rest of the domain).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(SagaStep))]
[JsonSerializable(typeof(SagaCommand))]
[JsonSerializable(typeof(List<SagaCommand>))]
[JsonSerializable(typeof(SagaCommandType))]
[JsonSerializable(typeof(SagaStepStatus))]
public sealed partial class SagaJsonContext : JsonSerializerContext;

/// <summary>Shortcuts over <see cref="SagaJsonContext"/>.</summary>
public static class SagaJson
{
    /// <summary>The wire name of a command type.</summary>
    public static string Name(SagaCommandType type) => JsonSerializer.Serialize(type, SagaJsonContext.Default.SagaCommandType).Trim('"');

    /// <summary>The wire name of a step status.</summary>
    public static string Name(SagaStepStatus status) => JsonSerializer.Serialize(status, SagaJsonContext.Default.SagaStepStatus).Trim('"');

    /// <summary>A step as a JSON object.</summary>
    public static JsonObject ToNode(SagaStep step) => JsonSerializer.SerializeToNode(step, SagaJsonContext.Default.SagaStep)!.AsObject();

    /// <summary>Serializes a step for the store.</summary>
    public static string Serialize(SagaStep step) => JsonSerializer.Serialize(step, SagaJsonContext.Default.SagaStep);

    /// <summary>Reads a stored step.</summary>
    public static SagaStep Deserialize(string json) => JsonSerializer.Deserialize(json, SagaJsonContext.Default.SagaStep)!;
}
