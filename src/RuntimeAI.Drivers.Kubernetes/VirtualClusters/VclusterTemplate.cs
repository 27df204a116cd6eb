using System.Globalization;
using k8s.Models;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

/// <summary>
/// The control-plane objects the vcluster Helm chart lays out, rendered in code because the chart
/// cannot be fetched here: ServiceAccount, config Secret (the vcluster.yaml the chart would pass),
/// headless and client Services, and the StatefulSet with its data volume claim. The chart version
/// it follows is <see cref="ChartVersion"/>; the render itself is versioned by <see cref="Version"/>
/// (stored on the StatefulSet) so a later template can tell what an older one created.
/// </summary>
internal static class VclusterTemplate
{
    public const string ChartVersion = "0.21.2";
    public const string Version = "vcluster-" + ChartVersion + "/runtimeai.1";
    public const string Image = "ghcr.io/loft-sh/vcluster-oss:" + ChartVersion;
    public const string DataVolume = "data";
    public const string DataSize = "5Gi";

    /// <summary>Replicas of the control plane: 3 (HA, embedded etcd) from 2 vCPUs (size large) up, else 1.</summary>
    public static int ReplicasFor(int vcpus) => vcpus >= 2 ? 3 : 1;

    public static Dictionary<string, string> Selector(string name) => new(StringComparer.Ordinal) { ["app"] = "vcluster", ["release"] = name };

    public static V1ResourceRequirements Resources(int vcpus, long memoryMiB)
    {
        var amounts = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal)
        {
            ["cpu"] = new(vcpus.ToString(CultureInfo.InvariantCulture)),
            ["memory"] = new(KubeQuantities.Memory(memoryMiB)),
        };
        return new V1ResourceRequirements { Requests = amounts, Limits = new Dictionary<string, ResourceQuantity>(amounts, StringComparer.Ordinal) };
    }

    public static V1ServiceAccount ServiceAccount(string name, string ns) => new()
    {
        Metadata = Meta($"vc-{name}", ns, name),
    };

    public static V1Secret ConfigSecret(string name, string ns, int replicas) => new()
    {
        Metadata = Meta($"vc-config-{name}", ns, name),
        Type = "Opaque",
        StringData = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["config.yaml"] =
                "# vcluster.yaml rendered by RuntimeAI (template " + Version + ")\n" +
                "controlPlane:\n" +
                "  backingStore:\n    etcd:\n      embedded:\n        enabled: " + (replicas > 1 ? "true" : "false") + "\n" +
                "  statefulSet:\n    highAvailability:\n      replicas: " + replicas.ToString(CultureInfo.InvariantCulture) + "\n" +
                "sync:\n  toHost:\n    pods:\n      enabled: true\n",
        },
    };

    public static V1Service HeadlessService(string name, string ns) => new()
    {
        Metadata = Meta($"{name}-headless", ns, name),
        Spec = new V1ServiceSpec
        {
            ClusterIP = "None",
            Selector = Selector(name),
            Ports = [new V1ServicePort { Name = "https", Port = 443, TargetPort = 8443, Protocol = "TCP" }],
            PublishNotReadyAddresses = true,
        },
    };

    public static V1Service Service(string name, string ns) => new()
    {
        Metadata = Meta(name, ns, name),
        Spec = new V1ServiceSpec
        {
            Selector = Selector(name),
            Ports = [new V1ServicePort { Name = "https", Port = 443, TargetPort = 8443, Protocol = "TCP" }],
        },
    };

    public static V1StatefulSet StatefulSet(string name, string ns, int vcpus, long memoryMiB, IDictionary<string, string> annotations)
    {
        var replicas = ReplicasFor(vcpus);
        var meta = Meta(name, ns, name);
        meta.Labels["chart"] = "vcluster-" + ChartVersion;
        meta.Annotations = new Dictionary<string, string>(annotations, StringComparer.Ordinal) { [VclusterNames.TemplateVersion] = Version };
        return new V1StatefulSet
        {
            Metadata = meta,
            Spec = new V1StatefulSetSpec
            {
                Replicas = replicas,
                ServiceName = $"{name}-headless",
                PodManagementPolicy = replicas > 1 ? "Parallel" : "OrderedReady",
                Selector = new V1LabelSelector { MatchLabels = Selector(name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = Selector(name) },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = $"vc-{name}",
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "syncer",
                                Image = Image,
                                Args = ["--config=/var/lib/vcluster/config.yaml"],
                                Ports = [new V1ContainerPort { Name = "https", ContainerPort = 8443, Protocol = "TCP" }],
                                Resources = Resources(vcpus, memoryMiB),
                                VolumeMounts = [new V1VolumeMount { Name = DataVolume, MountPath = "/data" }, new V1VolumeMount { Name = "config", MountPath = "/var/lib/vcluster" }],
                            },
                        ],
                        Volumes = [new V1Volume { Name = "config", Secret = new V1SecretVolumeSource { SecretName = $"vc-config-{name}" } }],
                    },
                },
                VolumeClaimTemplates =
                [
                    new V1PersistentVolumeClaim
                    {
                        Metadata = new V1ObjectMeta { Name = DataVolume, Labels = Selector(name) },
                        Spec = new V1PersistentVolumeClaimSpec
                        {
                            AccessModes = ["ReadWriteOnce"],
                            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal) { ["storage"] = new(DataSize) } },
                        },
                    },
                ],
            },
        };
    }

    private static V1ObjectMeta Meta(string objectName, string ns, string release) => new()
    {
        Name = objectName,
        NamespaceProperty = ns,
        Labels = Selector(release),
    };
}
