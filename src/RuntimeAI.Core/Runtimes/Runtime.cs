using System.Text.Json.Serialization;

namespace RuntimeAI.Core.Runtimes;

/// <summary>The kind of runtime, as named by the brief's OpenAPI.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RuntimeType>))]
public enum RuntimeType
{
    /// <summary>A virtual machine (libvirt, or KubeVirt on Kubernetes).</summary>
    [JsonStringEnumMemberName("vm")] Vm,
    /// <summary>A virtual Kubernetes cluster (vCluster).</summary>
    [JsonStringEnumMemberName("vcluster")] Vcluster,
    /// <summary>A sandbox runtime.</summary>
    [JsonStringEnumMemberName("sandbox")] Sandbox,
    /// <summary>A runtime hosting an agent.</summary>
    [JsonStringEnumMemberName("agent_runtime")] AgentRuntime,
}

/// <summary>The lifecycle state of a runtime.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RuntimeState>))]
public enum RuntimeState
{
    [JsonStringEnumMemberName("creating")] Creating,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("stopped")] Stopped,
    [JsonStringEnumMemberName("degraded")] Degraded,
    [JsonStringEnumMemberName("deleting")] Deleting,
    [JsonStringEnumMemberName("deleted")] Deleted,
    [JsonStringEnumMemberName("error")] Error,
}

/// <summary>Which kind of backend holds a runtime.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BackendKind>))]
public enum BackendKind
{
    [JsonStringEnumMemberName("vm_backend")] VmBackend,
    [JsonStringEnumMemberName("vcluster_backend")] VclusterBackend,
    [JsonStringEnumMemberName("k8s_backend")] K8sBackend,
    [JsonStringEnumMemberName("custom")] Custom,
}

/// <summary>Where a runtime lives: the backend kind and an opaque backend-specific reference.</summary>
/// <param name="Kind">The backend kind.</param>
/// <param name="Ref">Opaque reference the driver understands (e.g. <c>libvirt:test:///default#uuid</c>).</param>
public sealed record RuntimeBackendRef(BackendKind Kind, string Ref);

/// <summary>Requested resources; every field is optional and overrides the size.</summary>
public sealed record ResourceProfile
{
    public double? Cpu { get; init; }
    public string? Memory { get; init; }
    public string? Gpu { get; init; }
    public int? Replicas { get; init; }
}

/// <summary>Exposure and egress of a runtime's network.</summary>
public sealed record NetworkingProfile
{
    public string Exposure { get; init; } = "private";
    public string EgressPolicy { get; init; } = "restricted";
}

/// <summary>Isolation and compliance requirements.</summary>
public sealed record SecurityProfile
{
    public string Isolation { get; init; } = "strong";
    public IReadOnlyList<string> Compliance { get; init; } = [];
    public bool Audit { get; init; } = true;
}

/// <summary>The desired shape of a runtime.</summary>
public sealed record RuntimeSpec
{
    public string? Size { get; init; }
    public ResourceProfile? Resources { get; init; }
    public NetworkingProfile? Networking { get; init; }
    public SecurityProfile? Security { get; init; }
}

/// <summary>A runtime: one VM or virtual cluster under the common abstraction.</summary>
public sealed record Runtime
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required RuntimeType Type { get; init; }
    public required RuntimeState State { get; init; }
    public string? TenantId { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public RuntimeBackendRef? Backend { get; init; }
    public RuntimeSpec Spec { get; init; } = new();
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
}

/// <summary>The brief's RuntimeCreateRequest.</summary>
public sealed record RuntimeCreateRequest
{
    public required string Name { get; init; }
    public required RuntimeType Type { get; init; }
    public string? TenantId { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public RuntimeSpec Spec { get; init; } = new();

    /// <summary>The backend to create it on (a driver name from list_backends / get_runtime, e.g. <c>vcluster:prod</c>); null takes the first that serves the type.</summary>
    public string? Backend { get; init; }

    /// <summary>Namespace on a Kubernetes backend; null lets the driver choose (<c>vcluster-NAME</c> for a virtual cluster).</summary>
    public string? Namespace { get; init; }
}
