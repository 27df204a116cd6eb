namespace RuntimeAI.Mcp.Governance;

/// <summary>How much an agent may do on its own ("Lane Assist": the human hand on the wheel).</summary>
public enum AutonomyLevel
{
    /// <summary>Observe, analyse and recommend only; execute tools are hidden and refused.</summary>
    Advisor,
    /// <summary>Every mutation needs a human approval.</summary>
    Copilot,
    /// <summary>Allow-listed safe actions run when the dry-run is clean; others need approval.</summary>
    Guardian,
    /// <summary>Runs what policy allows within blast-radius budgets; deny rules stay absolute.</summary>
    Autonomous,
}
