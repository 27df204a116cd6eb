using System.Text.Json.Nodes;

namespace RuntimeAI.Core.Policies;

/// <summary>The verdict on one action, with the rules that decided it and why.</summary>
public sealed record PolicyDecision
{
    /// <summary>
    /// Pseudo rule id named when the autonomy level is advisor (no mutations at all).
    /// </summary>
    public const string AdvisorRuleId = "autonomy.advisor";

    /// <summary>Pseudo rule id named when the autonomy level is copilot (every mutation needs approval).</summary>
    public const string CopilotRuleId = "autonomy.copilot";

    /// <summary>
    /// Pseudo rule id named when no <c>allow_action</c> rule matches at the current level (guardian:
    /// approval needed; autonomous: denied).
    /// </summary>
    public const string NoAllowRuleId = "default.no_allow";

    /// <summary>Allow, deny or require approval.</summary>
    public required PolicyEffect Effect { get; init; }

    /// <summary>The ids of the rules (or pseudo rules above) that decided the effect, in policy order.</summary>
    public required IReadOnlyList<string> RuleIds { get; init; }

    /// <summary>One human-readable sentence per deciding rule.</summary>
    public required IReadOnlyList<string> Reasons { get; init; }

    /// <summary>What audit- and warn-mode rules would have done (not enforced).</summary>
    public IReadOnlyList<PolicyWarning> Warnings { get; init; } = [];

    /// <summary>The decision as JSON with the brief's snake_case names, e.g. for the audit record.</summary>
    /// <returns>A new JSON object.</returns>
    public JsonObject ToJsonObject()
    {
        var warnings = new JsonArray();
        foreach (var w in Warnings)
        {
            warnings.Add((JsonNode)new JsonObject
            {
                ["rule_id"] = w.RuleId,
                ["policy_id"] = w.PolicyId,
                ["mode"] = PolicyNames.Mode(w.Mode),
                ["would_be"] = PolicyNames.Effect(w.WouldBe),
                ["message"] = w.Message,
            });
        }

        return new JsonObject
        {
            ["effect"] = PolicyNames.Effect(Effect),
            ["rule_ids"] = new JsonArray(RuleIds.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
            ["reasons"] = new JsonArray(Reasons.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            ["warnings"] = warnings,
        };
    }
}

/// <summary>What a rule in audit or warn mode would have done had it been enforced.</summary>
/// <param name="RuleId">The rule.</param>
/// <param name="PolicyId">Its policy.</param>
/// <param name="Mode">Audit (record only) or warn (also show the caller).</param>
/// <param name="WouldBe">The effect it would have had: deny or require_approval.</param>
/// <param name="Message">Why, in a sentence.</param>
public sealed record PolicyWarning(string RuleId, string PolicyId, PolicyMode Mode, PolicyEffect WouldBe, string Message);
