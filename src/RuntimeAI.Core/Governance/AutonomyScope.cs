using RuntimeAI.Core.Policies;

namespace RuntimeAI.Core.Governance;

/// <summary>
/// An autonomy level for part of the fleet: runtimes of a tenant and/or carrying all the given
/// labels (e.g. <c>env=prod</c> → copilot while the rest runs autonomous).
/// </summary>
public sealed record AutonomyScope
{
    public string? Tenant { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public required AutonomyLevel Level { get; init; }

    /// <summary>True when the runtime (tenant, labels) falls in this scope.</summary>
    public bool Matches(string? tenant, IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return (Tenant is null || string.Equals(Tenant, tenant, StringComparison.Ordinal))
               && Labels.All(l => labels.TryGetValue(l.Key, out var v) && string.Equals(v, l.Value, StringComparison.Ordinal));
    }

    /// <summary>
    /// The level for a runtime: the most restrictive of the scopes it falls in, or the global
    /// level when it falls in none (a scope may raise or lower the global level).
    /// </summary>
    public static AutonomyLevel Resolve(AutonomyLevel global, IEnumerable<AutonomyScope> scopes, string? tenant, IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        var matching = scopes.Where(s => s.Matches(tenant, labels)).Select(s => s.Level).ToList();
        return matching.Count == 0 ? global : matching.Min();
    }
}
