namespace RuntimeAI.Core.Drivers;

/// <summary>
/// What a backend knows about a planned action before it runs, for the dry-run: reasons the backend
/// would refuse it (quota, node capacity, a disruption budget), and what a human should know
/// (the workloads a pause removes). A driver reads; it never decides policy.
/// </summary>
public sealed record ActionAssessment
{
    /// <summary>Nothing to report.</summary>
    public static ActionAssessment None { get; } = new();

    /// <summary>Why the backend would refuse the action, each naming the cause and the fix.</summary>
    public IReadOnlyList<string> BlockingReasons { get; init; } = [];

    /// <summary>Facts a human should see before approving.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Workloads the action removes or interrupts, e.g. <c>pod apps/web-1</c>.</summary>
    public IReadOnlyList<string> Disrupted { get; init; } = [];
}

/// <summary>A planned action the dry-run asks a driver to assess.</summary>
/// <param name="Action">What would run: start, stop, restart, scale, create, delete…</param>
/// <param name="BackendRef">The runtime's backend reference; null for a create.</param>
/// <param name="Target">The size a create or scale asks for, when it does.</param>
/// <param name="Name">The new runtime's name (create only).</param>
/// <param name="Namespace">The namespace a create asks for, on a Kubernetes backend.</param>
public sealed record PlannedAction(Actions.ActionType Action, string? BackendRef, ScaleTarget? Target, string? Name = null, string? Namespace = null);
