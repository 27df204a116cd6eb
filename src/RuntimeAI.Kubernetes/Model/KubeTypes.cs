using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RuntimeAI.Kubernetes.Model;

/// <summary>meta/v1 ObjectMeta: the fields drivers reason about.</summary>
public sealed record ObjectMeta
{
    /// <summary>Name.</summary>
    public string? Name { get; init; }

    /// <summary>Namespace; <see langword="null"/> for cluster-scoped objects.</summary>
    public string? Namespace { get; init; }

    /// <summary>Server-assigned unique id.</summary>
    public string? Uid { get; init; }

    /// <summary>Opaque version for optimistic concurrency and watches.</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>Incremented on every spec change.</summary>
    public long? Generation { get; init; }

    /// <summary>When the object was created.</summary>
    public DateTimeOffset? CreationTimestamp { get; init; }

    /// <summary>Set when deletion has begun (finalizers pending).</summary>
    public DateTimeOffset? DeletionTimestamp { get; init; }

    /// <summary>Labels.</summary>
    public Dictionary<string, string>? Labels { get; init; }

    /// <summary>Annotations.</summary>
    public Dictionary<string, string>? Annotations { get; init; }

    /// <summary>Owners, for garbage collection.</summary>
    public List<OwnerReference>? OwnerReferences { get; init; }

    /// <summary>Finalizers.</summary>
    public List<string>? Finalizers { get; init; }
}

/// <summary>meta/v1 OwnerReference.</summary>
public sealed record OwnerReference
{
    /// <summary>The owner's apiVersion.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>The owner's kind.</summary>
    public string? Kind { get; init; }

    /// <summary>The owner's name.</summary>
    public string? Name { get; init; }

    /// <summary>The owner's uid.</summary>
    public string? Uid { get; init; }

    /// <summary>Whether this owner is the managing controller.</summary>
    public bool? Controller { get; init; }

    /// <summary>Whether the owner cannot be deleted before this object under foreground deletion.</summary>
    public bool? BlockOwnerDeletion { get; init; }
}

/// <summary>meta/v1 ListMeta.</summary>
public sealed record ListMeta
{
    /// <summary>The list's resourceVersion.</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>Continue token for the next page.</summary>
    [JsonPropertyName("continue")]
    public string? Continue { get; init; }

    /// <summary>Estimated items after this page.</summary>
    public long? RemainingItemCount { get; init; }
}

/// <summary>meta/v1 Status: what the API returns on failure (and on some deletes).</summary>
public sealed record KubeStatus
{
    /// <summary><c>Success</c> or <c>Failure</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Human-readable description.</summary>
    public string? Message { get; init; }

    /// <summary>Machine-readable reason, e.g. <c>NotFound</c>, <c>Conflict</c>, <c>AlreadyExists</c>, <c>Expired</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>The HTTP status code it stands for.</summary>
    public int? Code { get; init; }

    /// <summary>Details about the object concerned.</summary>
    public KubeStatusDetails? Details { get; init; }
}

/// <summary>meta/v1 StatusDetails.</summary>
public sealed record KubeStatusDetails
{
    /// <summary>Object name.</summary>
    public string? Name { get; init; }

    /// <summary>API group.</summary>
    public string? Group { get; init; }

    /// <summary>Kind (or resource).</summary>
    public string? Kind { get; init; }

    /// <summary>Object uid.</summary>
    public string? Uid { get; init; }

    /// <summary>Suggested wait before retrying.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Field-level causes (validation errors).</summary>
    public List<KubeStatusCause>? Causes { get; init; }
}

/// <summary>meta/v1 StatusCause.</summary>
public sealed record KubeStatusCause
{
    /// <summary>Machine-readable reason.</summary>
    public string? Reason { get; init; }

    /// <summary>Description.</summary>
    public string? Message { get; init; }

    /// <summary>The field path concerned.</summary>
    public string? Field { get; init; }
}

/// <summary>autoscaling/v1 Scale: the scale subresource.</summary>
public sealed record Scale
{
    /// <summary>Always <c>autoscaling/v1</c>.</summary>
    public string? ApiVersion { get; init; } = "autoscaling/v1";

    /// <summary>Always <c>Scale</c>.</summary>
    public string? Kind { get; init; } = "Scale";

    /// <summary>The scaled object's metadata (name, namespace, resourceVersion).</summary>
    public ObjectMeta? Metadata { get; init; }

    /// <summary>Desired replicas.</summary>
    public ScaleSpec? Spec { get; init; }

    /// <summary>Observed replicas.</summary>
    public ScaleStatus? Status { get; init; }
}

/// <summary>autoscaling/v1 ScaleSpec.</summary>
public sealed record ScaleSpec
{
    /// <summary>Desired replicas.</summary>
    public int? Replicas { get; init; }
}

/// <summary>autoscaling/v1 ScaleStatus.</summary>
public sealed record ScaleStatus
{
    /// <summary>Observed replicas.</summary>
    public int Replicas { get; init; }

    /// <summary>The label selector of the pods, as a string.</summary>
    public string? Selector { get; init; }
}

/// <summary>meta.k8s.io/v1 Table: the compact listing kubectl prints.</summary>
public sealed record KubeTable
{
    /// <summary>The list metadata (resourceVersion, continue).</summary>
    public ListMeta? Metadata { get; init; }

    /// <summary>Columns, in order.</summary>
    public List<KubeTableColumn> ColumnDefinitions { get; init; } = [];

    /// <summary>Rows.</summary>
    public List<KubeTableRow> Rows { get; init; } = [];
}

/// <summary>A Table column.</summary>
public sealed record KubeTableColumn
{
    /// <summary>Header, e.g. <c>NAME</c> in kubectl (here as the server sends it, e.g. <c>Name</c>).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>OpenAPI type: <c>string</c>, <c>integer</c>, <c>number</c>, <c>boolean</c>.</summary>
    public string? Type { get; init; }

    /// <summary>OpenAPI format hint, e.g. <c>name</c> or <c>date</c>.</summary>
    public string? Format { get; init; }

    /// <summary>Description.</summary>
    public string? Description { get; init; }

    /// <summary>0 for columns kubectl shows by default, higher for <c>-o wide</c>.</summary>
    public int Priority { get; init; }
}

/// <summary>A Table row.</summary>
public sealed record KubeTableRow
{
    /// <summary>Cells, one per column.</summary>
    public List<JsonNode?> Cells { get; init; } = [];

    /// <summary>The object (PartialObjectMetadata by default), when the server includes it.</summary>
    [JsonPropertyName("object")]
    public JsonObject? Object { get; init; }
}

/// <summary>A condition in any status (<c>type</c>/<c>status</c>/<c>reason</c>/<c>message</c>).</summary>
public sealed record KubeCondition
{
    /// <summary>e.g. <c>Ready</c>, <c>Available</c>.</summary>
    public string? Type { get; init; }

    /// <summary><c>True</c>, <c>False</c> or <c>Unknown</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Machine-readable reason.</summary>
    public string? Reason { get; init; }

    /// <summary>Description.</summary>
    public string? Message { get; init; }

    /// <summary>When the status last changed.</summary>
    public DateTimeOffset? LastTransitionTime { get; init; }
}

/// <summary>core/v1 PodStatus: the parts drivers reason about.</summary>
public sealed record PodStatus
{
    /// <summary><c>Pending</c>, <c>Running</c>, <c>Succeeded</c>, <c>Failed</c>, <c>Unknown</c>.</summary>
    public string? Phase { get; init; }

    /// <summary>Conditions (<c>Ready</c>, <c>PodScheduled</c>, ...).</summary>
    public List<KubeCondition>? Conditions { get; init; }

    /// <summary>Pod IP.</summary>
    public string? PodIP { get; init; }

    /// <summary>Node IP.</summary>
    public string? HostIP { get; init; }

    /// <summary>When the kubelet acknowledged the pod.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>Per-container status.</summary>
    public List<ContainerStatus>? ContainerStatuses { get; init; }
}

/// <summary>core/v1 ContainerStatus (summary).</summary>
public sealed record ContainerStatus
{
    /// <summary>Container name.</summary>
    public string? Name { get; init; }

    /// <summary>Passing its readiness probe.</summary>
    public bool Ready { get; init; }

    /// <summary>Restarts so far.</summary>
    public int RestartCount { get; init; }

    /// <summary>Image.</summary>
    public string? Image { get; init; }
}

/// <summary>apps/v1 Deployment or StatefulSet status (the replica counters they share).</summary>
public sealed record WorkloadStatus
{
    /// <summary>Pods targeted by this workload.</summary>
    public int Replicas { get; init; }

    /// <summary>Pods ready.</summary>
    public int ReadyReplicas { get; init; }

    /// <summary>Pods at the current revision.</summary>
    public int UpdatedReplicas { get; init; }

    /// <summary>Pods available (Deployment).</summary>
    public int AvailableReplicas { get; init; }

    /// <summary>Pods at the current revision (StatefulSet).</summary>
    public int CurrentReplicas { get; init; }

    /// <summary>The generation the controller has acted on.</summary>
    public long? ObservedGeneration { get; init; }

    /// <summary>Conditions.</summary>
    public List<KubeCondition>? Conditions { get; init; }
}

/// <summary>core/v1 NodeStatus: capacity and conditions.</summary>
public sealed record NodeStatus
{
    /// <summary>Total resources (<c>cpu</c>, <c>memory</c>, <c>pods</c>) as quantities.</summary>
    public Dictionary<string, string>? Capacity { get; init; }

    /// <summary>Resources available to pods.</summary>
    public Dictionary<string, string>? Allocatable { get; init; }

    /// <summary>Conditions (<c>Ready</c>, <c>MemoryPressure</c>, ...).</summary>
    public List<KubeCondition>? Conditions { get; init; }
}

/// <summary>kubevirt.io/v1 VirtualMachine: what the run-strategy rules need.</summary>
/// <param name="RunStrategy"><c>spec.runStrategy</c> (<c>Always</c>, <c>Halted</c>, <c>Manual</c>, <c>RerunOnFailure</c>, <c>Once</c>), or derived from the deprecated <c>spec.running</c>.</param>
/// <param name="PrintableStatus"><c>status.printableStatus</c>, e.g. <c>Running</c>, <c>Stopped</c>, <c>Starting</c>.</param>
/// <param name="Ready"><c>status.ready</c>.</param>
/// <param name="Created"><c>status.created</c>: a VMI exists.</param>
public sealed record VirtualMachineState(string? RunStrategy, string? PrintableStatus, bool Ready, bool Created);

/// <summary>client.authentication.k8s.io ExecCredential, as printed by an exec plugin.</summary>
internal sealed record ExecCredential
{
    public string? ApiVersion { get; init; }

    public string? Kind { get; init; }

    public ExecCredentialStatus? Status { get; init; }
}

/// <summary>ExecCredential status.</summary>
internal sealed record ExecCredentialStatus
{
    public string? Token { get; init; }

    public DateTimeOffset? ExpirationTimestamp { get; init; }

    public string? ClientCertificateData { get; init; }

    public string? ClientKeyData { get; init; }
}

/// <summary>The source-generated serializer context for every typed record (no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = false)]
[JsonSerializable(typeof(ObjectMeta))]
[JsonSerializable(typeof(ListMeta))]
[JsonSerializable(typeof(KubeStatus))]
[JsonSerializable(typeof(Scale))]
[JsonSerializable(typeof(KubeTable))]
[JsonSerializable(typeof(PodStatus))]
[JsonSerializable(typeof(WorkloadStatus))]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(List<KubeCondition>))]
public sealed partial class KubeJsonContext : JsonSerializerContext;

/// <summary>Serializer context for types that are not part of the public surface.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExecCredential))]
internal sealed partial class KubeInternalJsonContext : JsonSerializerContext;
