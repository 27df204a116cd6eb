using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>
/// Source-generated JSON for the Kubernetes models <see cref="KubeApi"/> reads and writes (and the
/// models they contain), with the settings of KubernetesClient's own context: camelCase names as
/// the models declare them, nulls left out, enums as strings, and the library's converters for
/// Kubernetes timestamps and durations. Quantities and int-or-strings carry their converters on
/// their types.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    Converters = [typeof(KubernetesJson.Iso8601TimeSpanConverter), typeof(KubernetesJson.KubernetesDateTimeConverter), typeof(KubernetesJson.KubernetesDateTimeOffsetConverter)])]
[JsonSerializable(typeof(V1PodList))]
[JsonSerializable(typeof(V1NodeList))]
[JsonSerializable(typeof(V1Namespace))]
[JsonSerializable(typeof(V1ServiceAccount))]
[JsonSerializable(typeof(V1Secret))]
[JsonSerializable(typeof(V1SecretList))]
[JsonSerializable(typeof(V1ConfigMap))]
[JsonSerializable(typeof(V1ConfigMapList))]
[JsonSerializable(typeof(V1Service))]
[JsonSerializable(typeof(V1ServiceList))]
[JsonSerializable(typeof(V1PersistentVolumeClaimList))]
[JsonSerializable(typeof(V1ResourceQuotaList))]
[JsonSerializable(typeof(V1StatefulSet))]
[JsonSerializable(typeof(V1StatefulSetList))]
[JsonSerializable(typeof(V1Deployment))]
[JsonSerializable(typeof(V1DeploymentList))]
[JsonSerializable(typeof(V1PodDisruptionBudgetList))]
internal sealed partial class KubeModelJson : JsonSerializerContext;
