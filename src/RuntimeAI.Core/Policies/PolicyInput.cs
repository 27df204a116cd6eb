using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Policies;

/// <summary>Everything a policy decision looks at, gathered by the caller (pure data, no lookups).</summary>
public sealed record PolicyInput
{
    /// <summary>The action to decide on.</summary>
    public required ActionType Action { get; init; }

    /// <summary>The autonomy level in force for this call's scope.</summary>
    public required AutonomyLevel Autonomy { get; init; }

    /// <summary>The target runtime (for <c>create</c>, the runtime about to be created: no id yet).</summary>
    public PolicyRuntimeFacts Runtime { get; init; } = new();

    /// <summary>The networking exposure the action requests (e.g. <c>public</c>), or null when unchanged.</summary>
    public string? RequestedExposure { get; init; }

    /// <summary>The egress policy the action requests (e.g. <c>open</c>), or null when unchanged.</summary>
    public string? RequestedEgress { get; init; }

    /// <summary>Counters for budget guardrails.</summary>
    public PolicyBudgetCounters Budget { get; init; } = new();
}

/// <summary>What is known about the target runtime.</summary>
public sealed record PolicyRuntimeFacts
{
    /// <summary>Runtime id; null for a runtime not created yet.</summary>
    public string? Id { get; init; }

    /// <summary>Runtime type.</summary>
    public RuntimeType? Type { get; init; }

    /// <summary>Tenant id.</summary>
    public string? TenantId { get; init; }

    /// <summary>Labels, including <c>env</c>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The environment: the <c>env</c> label.</summary>
    public string? Env => Labels.TryGetValue("env", out var env) ? env : null;

    /// <summary>Current vCPUs (0 or null for a runtime not created yet).</summary>
    public int? CurrentVcpus { get; init; }

    /// <summary>Current memory in MiB.</summary>
    public long? CurrentMemoryMiB { get; init; }

    /// <summary>The size the action asks for (create, scale), by name from <see cref="SizeTable"/>.</summary>
    public string? TargetSize { get; init; }

    /// <summary>vCPUs after the action; when null, taken from <see cref="TargetSize"/>.</summary>
    public int? TargetVcpus { get; init; }

    /// <summary>Memory (MiB) after the action; when null, taken from <see cref="TargetSize"/>.</summary>
    public long? TargetMemoryMiB { get; init; }

    /// <summary>Builds the facts from a runtime of the inventory, reading its current size from the spec.</summary>
    /// <param name="runtime">The runtime.</param>
    /// <param name="targetSize">The size the action asks for, if any.</param>
    /// <returns>The facts.</returns>
    public static PolicyRuntimeFacts From(Runtime runtime, string? targetSize = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        int? vcpus = null;
        long? memory = null;
        if (SizeTable.TryGet(runtime.Spec.Size, out var size))
        {
            vcpus = size.Vcpus;
            memory = size.MemoryMiB;
        }

        if (runtime.Spec.Resources is { } resources)
        {
            if (resources.Cpu is { } cpu)
            {
                vcpus = (int)Math.Ceiling(cpu);
            }

            if (Quantity.TryParseMiB(resources.Memory, out var mib))
            {
                memory = mib;
            }
        }

        return new PolicyRuntimeFacts
        {
            Id = runtime.Id,
            Type = runtime.Type,
            TenantId = runtime.TenantId,
            Labels = runtime.Labels,
            CurrentVcpus = vcpus,
            CurrentMemoryMiB = memory,
            TargetSize = targetSize,
        };
    }
}

/// <summary>
/// Budget counters for the scope of the call (e.g. the tenant), supplied by the caller. A guardrail
/// whose counter is missing fails closed (it counts as violated), so supply every window listed in
/// <see cref="PolicyEvaluator.BudgetWindows"/> (both per-window dictionaries).
/// </summary>
public sealed record PolicyBudgetCounters
{
    /// <summary>Mutations already made in scope within each window (keyed by the window length).</summary>
    public IReadOnlyDictionary<TimeSpan, int> MutationsInWindow { get; init; } = new Dictionary<TimeSpan, int>();

    /// <summary>Distinct runtimes in scope already changed within each window (keyed by the window length).</summary>
    public IReadOnlyDictionary<TimeSpan, int> RuntimesChangedInWindow { get; init; } = new Dictionary<TimeSpan, int>();

    /// <summary>How many runtimes the scope holds now (the base of <c>max_changed_percent</c>).</summary>
    public int? RuntimesInScope { get; init; }

    /// <summary>Total vCPUs of the runtimes in scope now.</summary>
    public int? TotalVcpus { get; init; }

    /// <summary>Total memory (MiB) of the runtimes in scope now.</summary>
    public long? TotalMemoryMiB { get; init; }
}
