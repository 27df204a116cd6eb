namespace RuntimeAI.Core.Runtimes;

/// <summary>One size of the shared vocabulary: vCPUs and memory.</summary>
public sealed record RuntimeSize(string Name, int Vcpus, long MemoryMiB);

/// <summary>
/// The one size vocabulary every backend understands (it matches the KubeVirt u1 series), so an
/// agent can say "medium" without knowing whether the runtime is a VM or a virtual cluster.
/// </summary>
public static class SizeTable
{
    /// <summary>All sizes, smallest first.</summary>
    public static IReadOnlyList<RuntimeSize> All { get; } =
    [
        new("nano", 1, 512),
        new("micro", 1, 1024),
        new("small", 1, 2048),
        new("medium", 1, 4096),
        new("large", 2, 8192),
        new("xlarge", 4, 16384),
        new("2xlarge", 8, 32768),
    ];

    /// <summary>The names, for enums in tool schemas and error messages.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(s => s.Name).ToArray();

    /// <summary>Finds a size by name (case-insensitive).</summary>
    public static bool TryGet(string? name, out RuntimeSize size)
    {
        size = All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return size is not null;
    }
}
