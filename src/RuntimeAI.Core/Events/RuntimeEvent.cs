using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RuntimeAI.Core.Events;

/// <summary>How much an event matters.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EventSeverity>))]
public enum EventSeverity
{
    [JsonStringEnumMemberName("info")] Info,
    [JsonStringEnumMemberName("warning")] Warning,
    [JsonStringEnumMemberName("critical")] Critical,
}

/// <summary>Something that happened to a runtime (the brief's Event).</summary>
public sealed record RuntimeEvent
{
    public required string Id { get; init; }
    public required string RuntimeId { get; init; }
    /// <summary>Dotted type, e.g. <c>lifecycle.started</c>, <c>lifecycle.scale</c>.</summary>
    public required string Type { get; init; }
    public EventSeverity Severity { get; init; } = EventSeverity.Info;
    public required DateTimeOffset Ts { get; init; }
    /// <summary>human, agent or system.</summary>
    public string Actor { get; init; } = "system";
    /// <summary>The principal behind the event, when a caller caused it.</summary>
    public string? Principal { get; init; }
    /// <summary>The operation that caused the event, when one did.</summary>
    public string? OperationId { get; init; }
    public JsonObject? Data { get; init; }
}
