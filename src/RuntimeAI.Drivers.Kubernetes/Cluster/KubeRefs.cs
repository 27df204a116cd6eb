using RuntimeAI.Core.Drivers;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>Backend references of Kubernetes runtimes: <c>{driver name}#{namespace}/{name}</c>.</summary>
internal static class KubeRefs
{
    public static string Format(string driverName, string ns, string name) => $"{driverName}#{ns}/{name}";

    /// <summary>Splits a reference; accepts a bare <c>namespace/name</c> too.</summary>
    /// <exception cref="RuntimeDriverException">Code <c>not_found</c> when it has no namespace/name.</exception>
    public static (string Namespace, string Name) Parse(string driverName, string backendRef)
    {
        ArgumentNullException.ThrowIfNull(backendRef);
        var local = backendRef.StartsWith(driverName + "#", StringComparison.Ordinal) ? backendRef[(driverName.Length + 1)..] : backendRef;
        var parts = local.Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new RuntimeDriverException($"backend reference '{backendRef}' is not '{driverName}#NAMESPACE/NAME'; call list_runtimes for a valid runtime") { Code = "not_found" };
        }

        return (parts[0], parts[1]);
    }
}
