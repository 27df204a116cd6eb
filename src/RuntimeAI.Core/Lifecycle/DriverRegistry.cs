using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Lifecycle;

/// <summary>The configured backends; finds the driver that owns a runtime.</summary>
public sealed class DriverRegistry(IEnumerable<IRuntimeDriver> drivers)
{
    /// <summary>Every configured driver, in configuration order.</summary>
    public IReadOnlyList<IRuntimeDriver> All { get; } = drivers.ToArray();

    /// <summary>The driver whose backend references start with its name.</summary>
    public IRuntimeDriver? ForBackendRef(string backendRef) =>
        All.FirstOrDefault(d => backendRef.StartsWith(d.Name + "#", StringComparison.Ordinal));

    /// <summary>The first driver for <paramref name="type"/>, or the named one.</summary>
    public IRuntimeDriver? ForType(RuntimeType type, string? backend = null) =>
        All.FirstOrDefault(d => d.RuntimeType == type && (backend is null || d.Name == backend));
}
