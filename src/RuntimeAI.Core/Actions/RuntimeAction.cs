using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RuntimeAI.Core.Actions;

/// <summary>The action types of the brief, plus the lifecycle ends (create, restore, delete).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ActionType>))]
public enum ActionType
{
    [JsonStringEnumMemberName("start")] Start,
    [JsonStringEnumMemberName("stop")] Stop,
    [JsonStringEnumMemberName("restart")] Restart,
    [JsonStringEnumMemberName("scale")] Scale,
    [JsonStringEnumMemberName("snapshot")] Snapshot,
    [JsonStringEnumMemberName("restore")] Restore,
    [JsonStringEnumMemberName("delete")] Delete,
    [JsonStringEnumMemberName("create")] Create,
    [JsonStringEnumMemberName("migrate")] Migrate,
    [JsonStringEnumMemberName("rollout_restart")] RolloutRestart,
    [JsonStringEnumMemberName("tune_policy")] TunePolicy,
    [JsonStringEnumMemberName("attach_observer")] AttachObserver,
    [JsonStringEnumMemberName("detach_observer")] DetachObserver,
}

/// <summary>An action an agent proposes or executes against a runtime (the brief's Action).</summary>
public sealed record RuntimeAction
{
    public required ActionType Type { get; init; }
    public JsonObject? Target { get; init; }
    public JsonObject? Params { get; init; }
}
