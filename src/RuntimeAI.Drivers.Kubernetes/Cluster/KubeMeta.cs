namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>Reads labels and annotations, which the library models as nullable <see cref="IDictionary{TKey,TValue}"/>.</summary>
internal static class KubeMeta
{
    public static string? Label(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;
}
