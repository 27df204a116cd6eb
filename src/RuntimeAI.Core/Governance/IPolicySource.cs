using RuntimeAI.Core.Policies;

namespace RuntimeAI.Core.Governance;

/// <summary>
/// The policies in force right now (files loaded at start plus those managed through the admin
/// tools). The pipeline asks it once per call; implementations swap the evaluator atomically.
/// </summary>
public interface IPolicySource
{
    /// <summary>The compiled, immutable policy set to decide with.</summary>
    PolicyEvaluator Current { get; }
}

/// <summary>A fixed policy set (tests, or a server started without a policies directory).</summary>
public sealed class StaticPolicySource(PolicyEvaluator evaluator) : IPolicySource
{
    /// <inheritdoc />
    public PolicyEvaluator Current { get; } = evaluator;
}
