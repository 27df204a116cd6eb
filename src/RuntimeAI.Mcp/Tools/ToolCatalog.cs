using RuntimeAI.Mcp.Tools.Observe;

namespace RuntimeAI.Mcp.Tools;

/// <summary>All tools of the server, in catalog order (tier, then name).</summary>
internal static class ToolCatalog
{
    public static IReadOnlyList<RuntimeTool> All { get; } = Sorted(
    [
        new ListRuntimesTool(),
        new GetRuntimeTool(),
        new GetEventsTool(),
        new GetOperationTool(),
        new GetRuntimeStatusTool(),
        new ListSnapshotsTool(),
        new GetMetricsTool(),
        new Observe.Inside.ListResourcesTool(),
        new Observe.Inside.GetResourceTool(),
        new Observe.Inside.GetLogsTool(),
        new Recommend.GetProposalTool(),
        new Analyse.SimulateActionTool(),
        new Analyse.CheckPolicyTool(),
        new Analyse.ForecastCapacityTool(),
        new Analyse.DetectAnomaliesTool(),
        new Analyse.FindRootCauseTool(),
        new Analyse.Graph.GetDependenciesTool(),
        new Analyse.Graph.WhatChangedTool(),
        new Analyse.Graph.DiffRuntimeTool(),
        new Recommend.PlanActionsTool(),
        new Recommend.SubmitIntentTool(),
        new Recommend.GetIntentTool(),
        new Recommend.DraftRecommendationTool(),
        new GetAuditTrailTool(),
        new Execute.CreateRuntimeTool(),
        new Execute.StartRuntimeTool(),
        new Execute.StopRuntimeTool(),
        new Execute.RestartRuntimeTool(),
        new Execute.ScaleRuntimeTool(),
        new Execute.SnapshotRuntimeTool(),
        new Execute.RestoreSnapshotTool(),
        new Execute.DeleteRuntimeTool(),
        new Execute.ExecuteActionsTool(),
        new Execute.RollbackOperationTool(),
        new Governance.ListPoliciesTool(),
        new Governance.PutPolicyTool(),
        new Governance.DeletePolicyTool(),
    ]);

    public static RuntimeTool? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    private static RuntimeTool[] Sorted(RuntimeTool[] tools) =>
        tools.OrderBy(t => t.Tier).ThenBy(t => t.Name, StringComparer.Ordinal).ToArray();
}
