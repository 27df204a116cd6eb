using System.Diagnostics;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Telemetry;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// The span and the metrics of one tool call (docs/telemetry.md), kept out of the pipeline's own
/// logic. Only names and outcomes are recorded: the tool (or <c>_unknown</c> for a name the
/// catalog does not hold, which is client text), tier, outcome, autonomy, transport and principal
/// kind — never the arguments, the reasoning or the principal's name.
/// </summary>
internal static class ToolCallTelemetry
{
    /// <summary>The tag value used for a tool name that is not in the catalog.</summary>
    public const string UnknownTool = "_unknown";

    /// <summary>Starts the call's span (null when nobody listens).</summary>
    public static Activity? Start(ToolCallContext context)
    {
        var source = RuntimeAiTelemetry.Source;
        if (!source.HasListeners())
        {
            return null;
        }

        var tool = context.Tool?.Name ?? UnknownTool;
        var activity = source.StartActivity($"tools/call {tool}", ActivityKind.Server);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("mcp.method.name", "tools/call");
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", tool);
            activity.SetTag("runtimeai.call_id", context.CallId);
            activity.SetTag("runtimeai.tool.tier", Tier(context));
            activity.SetTag("runtimeai.transport", context.Transport ?? "unknown");
            activity.SetTag("runtimeai.principal.kind", PrincipalKindName(context));
        }

        return activity;
    }

    /// <summary>Tags the call's span with its outcome (the pipeline's <c>using</c> ends it) and records its metrics.</summary>
    public static void End(Activity? activity, ToolCallContext context, string outcome, double seconds)
    {
        var tool = context.Tool?.Name ?? UnknownTool;
        var tier = Tier(context);
        if (activity is not null)
        {
            activity.SetTag("runtimeai.outcome", outcome);
            activity.SetTag("runtimeai.autonomy", context.Autonomy.ToString().ToLowerInvariant());
            if (outcome is "error")
            {
                activity.SetStatus(ActivityStatusCode.Error, "the tool call failed");
            }
        }

        if (RuntimeAiTelemetry.ToolCalls.Enabled || RuntimeAiTelemetry.ToolCallDuration.Enabled)
        {
            var tags = new TagList
            {
                { "tool", tool },
                { "tier", tier },
                { "outcome", outcome },
                { "transport", context.Transport ?? "unknown" },
            };
            RuntimeAiTelemetry.ToolCalls.Add(1, tags);
            RuntimeAiTelemetry.ToolCallDuration.Record(seconds, tags);
        }
    }

    /// <summary>Records one audit append's latency.</summary>
    public static void AuditAppended(string phase, double seconds)
    {
        if (RuntimeAiTelemetry.AuditAppendDuration.Enabled)
        {
            RuntimeAiTelemetry.AuditAppendDuration.Record(seconds, new KeyValuePair<string, object?>("phase", phase));
        }
    }

    private static string Tier(ToolCallContext context) => context.Tool?.Tier.ToString().ToLowerInvariant() ?? "unknown";

    private static string PrincipalKindName(ToolCallContext context) => context.Principal.Kind == PrincipalKind.Human ? "human" : "agent";
}
