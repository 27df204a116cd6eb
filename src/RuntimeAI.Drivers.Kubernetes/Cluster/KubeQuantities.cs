using System.Globalization;
using k8s.Models;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>Kubernetes quantities as the drivers need them: CPU in millicores, memory in MiB.</summary>
internal static class KubeQuantities
{
    public static long MilliCpu(ResourceQuantity? quantity) =>
        quantity is null ? 0 : (long)Math.Ceiling(quantity.ToDecimal() * 1000m);

    public static long MilliCpu(string? text) => string.IsNullOrEmpty(text) ? 0 : MilliCpu(new ResourceQuantity(text));

    public static long MiB(ResourceQuantity? quantity) =>
        quantity is null ? 0 : (long)Math.Ceiling(quantity.ToDecimal() / (1024m * 1024m));

    public static long MiB(string? text) => string.IsNullOrEmpty(text) ? 0 : MiB(new ResourceQuantity(text));

    public static string Cpu(long milli) => milli == 0 ? "0" : milli % 1000 == 0
        ? (milli / 1000).ToString(CultureInfo.InvariantCulture)
        : milli.ToString(CultureInfo.InvariantCulture) + "m";

    public static string Memory(long mib) => mib == 0 ? "0" : mib % 1024 == 0
        ? (mib / 1024).ToString(CultureInfo.InvariantCulture) + "Gi"
        : mib.ToString(CultureInfo.InvariantCulture) + "Mi";

    /// <summary>Sum of a resource over a map of quantities (requests, usage), by key.</summary>
    public static ResourceQuantity? Get(IDictionary<string, ResourceQuantity>? map, string key) =>
        map is not null && map.TryGetValue(key, out var q) ? q : null;
}
