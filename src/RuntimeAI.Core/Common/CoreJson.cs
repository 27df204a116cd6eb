using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Common;

/// <summary>
/// Source-generated JSON for the domain, with the brief's snake_case names. Every layer (store,
/// tools, audit) serializes the domain through this context so names never drift.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(Runtime))]
[JsonSerializable(typeof(RuntimeCreateRequest))]
[JsonSerializable(typeof(RuntimeSpec))]
[JsonSerializable(typeof(RuntimeAction))]
[JsonSerializable(typeof(List<RuntimeAction>))]
[JsonSerializable(typeof(Operation))]
[JsonSerializable(typeof(RuntimeEvent))]
[JsonSerializable(typeof(SpecRevision))]
[JsonSerializable(typeof(AuditBegin))]
[JsonSerializable(typeof(AuditEnd))]
[JsonSerializable(typeof(AuditRecord))]
[JsonSerializable(typeof(MutationResult))]
[JsonSerializable(typeof(RuntimeObservation))]
[JsonSerializable(typeof(SnapshotInfo))]
[JsonSerializable(typeof(HostCapacity))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(RuntimeType))]
[JsonSerializable(typeof(RuntimeState))]
[JsonSerializable(typeof(BackendKind))]
[JsonSerializable(typeof(OperationStatus))]
[JsonSerializable(typeof(SagaCommandType))]
[JsonSerializable(typeof(ActionType))]
[JsonSerializable(typeof(EventSeverity))]
[JsonSerializable(typeof(RuntimeAI.Core.Governance.Proposal))]
[JsonSerializable(typeof(RuntimeAI.Core.Governance.ProposalStatus))]
[JsonSerializable(typeof(RuntimeAI.Core.Identity.ApiKey))]
[JsonSerializable(typeof(RuntimeAI.Core.Planning.IntentRecord))]
public sealed partial class CoreJsonContext : JsonSerializerContext;

/// <summary>Shortcuts over <see cref="CoreJsonContext"/>.</summary>
public static class CoreJson
{
    /// <summary>The options every layer uses for domain JSON.</summary>
    public static JsonSerializerOptions Options => CoreJsonContext.Default.Options;

    /// <summary>Serializes a domain value to a JSON object node.</summary>
    public static JsonObject ToNode<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.SerializeToNode(value, typeInfo)!.AsObject();
}
