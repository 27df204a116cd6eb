using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Graph;

namespace RuntimeAI.Core.Tests.Graph;

/// <summary>What a node drain evicts and which PodDisruptionBudgets stop it, read from the graph.</summary>
public sealed class DrainPlanTests
{
    private readonly ClusterGraph _graph = new("c", new GraphOptions(), new FakeTimeProvider());

    [Fact]
    public void Drain_EvictsWorkloadPods_LeavesDaemonSetAndFinishedPods_AndNamesTheBudgetThatBlocks()
    {
        Add("node", "n1");
        Add("node", "n2");
        Add("deployment", "web", uid: "d-web");
        Add("replicaset", "web-1", uid: "rs-web", owner: "d-web");
        Add("daemonset", "logs", uid: "ds-logs");
        Add("poddisruptionbudget", "web", selector: new() { ["app"] = "web" }, allowed: 1);
        Add("poddisruptionbudget", "db", selector: new() { ["app"] = "db" }, allowed: 1);
        Add("pod", "web-a", owner: "rs-web", node: "n1", labels: new() { ["app"] = "web" });
        Add("pod", "web-b", owner: "rs-web", node: "n1", labels: new() { ["app"] = "web" });
        Add("pod", "web-c", owner: "rs-web", node: "n2", labels: new() { ["app"] = "web" });
        Add("pod", "db-0", node: "n1", labels: new() { ["app"] = "db" });
        Add("pod", "logs-x", owner: "ds-logs", node: "n1");
        Add("pod", "batch-done", node: "n1", phase: "Succeeded");

        var plan = DrainPlan.Of(_graph, "node/n1");

        Assert.Equal(["pod/ns/db-0", "pod/ns/web-a", "pod/ns/web-b"], plan.Evicted.Select(e => e.Pod));
        Assert.Equal("deployment/ns/web", plan.Evicted.Single(e => e.Pod == "pod/ns/web-a").Workload);
        Assert.Null(plan.Evicted.Single(e => e.Pod == "pod/ns/db-0").Workload);
        Assert.Equal(["pod/ns/logs-x"], plan.DaemonSetPods);
        Assert.Equal(
            [new DrainBudgetHit("poddisruptionbudget/ns/db", 1, 1, false), new DrainBudgetHit("poddisruptionbudget/ns/web", 2, 1, true)],
            plan.Budgets);
        Assert.Equal(["poddisruptionbudget/ns/web"], plan.Blocking.Select(b => b.Budget));
    }

    [Fact]
    public void Drain_OfAnEmptyNode_EvictsNothing_AndABudgetWithoutStatusDoesNotClaimToBlock()
    {
        Add("node", "n3");
        Add("node", "n9");
        Add("poddisruptionbudget", "new", selector: new() { ["app"] = "new" }, allowed: null);
        Add("pod", "new-a", node: "n3", labels: new() { ["app"] = "new" });

        Assert.Empty(DrainPlan.Of(_graph, "node/n9").Evicted);
        Assert.Equal([new DrainBudgetHit("poddisruptionbudget/ns/new", 1, null, false)], DrainPlan.Of(_graph, "node/n3").Budgets);
    }

    private void Add(string kind, string name, string? uid = null, string? owner = null, string? node = null,
        Dictionary<string, string>? labels = null, Dictionary<string, string>? selector = null, int? allowed = 0, string phase = "Running")
    {
        var metadata = new JsonObject { ["name"] = name, ["uid"] = uid ?? $"{kind}-{name}", ["resourceVersion"] = "1" };
        if (kind != "node")
        {
            metadata["namespace"] = "ns";
        }

        if (owner is not null)
        {
            metadata["ownerReferences"] = new JsonArray(new JsonObject { ["uid"] = owner });
        }

        if (labels is not null)
        {
            metadata["labels"] = Map(labels);
        }

        var obj = new JsonObject { ["metadata"] = metadata, ["spec"] = new JsonObject() };
        if (kind == "pod")
        {
            obj["spec"]!["nodeName"] = node;
            obj["spec"]!["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" });
            obj["status"] = new JsonObject { ["phase"] = phase };
        }

        if (kind == "poddisruptionbudget")
        {
            obj["spec"]!["selector"] = new JsonObject { ["matchLabels"] = Map(selector!) };
            obj["status"] = allowed is null ? new JsonObject() : new JsonObject { ["disruptionsAllowed"] = allowed };
        }

        _graph.Apply("ADDED", GraphObject.FromJson(JsonSerializer.SerializeToElement(obj), kind, _graph.Pool)!);
    }

    private static JsonObject Map(Dictionary<string, string> pairs) =>
        new(pairs.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value))));
}
