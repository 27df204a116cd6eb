using System.Text.Json.Nodes;
using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Tests.Model;

public sealed class KubeObjectTests
{
    [Fact]
    public void Parse_UnknownFields_SurviveRoundTrip()
    {
        const string json = """{"apiVersion":"example.io/v1","kind":"Widget","metadata":{"name":"w","namespace":"n","resourceVersion":"5","labels":{"a":"b"},"managedFields":[{"manager":"kubectl"}]},"spec":{"gizmo":{"size":3}},"futureTopLevel":true}""";

        var obj = KubeObject.Parse(json);
        obj.SetLabel("c", "d");
        obj.ResourceVersion = "6";

        var round = JsonNode.Parse(obj.ToString())!;
        Assert.Equal(3, (int)round["spec"]!["gizmo"]!["size"]!);
        Assert.True((bool)round["futureTopLevel"]!);
        Assert.Equal("kubectl", (string?)round["metadata"]!["managedFields"]![0]!["manager"]);
        Assert.Equal("d", (string?)round["metadata"]!["labels"]!["c"]);
        Assert.Equal("6", (string?)round["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public void Metadata_OwnerReferencesAndTimestamps_AreTyped()
    {
        var obj = KubeObject.Parse("""
            {"metadata":{"name":"web-abc","uid":"u1","generation":4,"creationTimestamp":"2026-03-01T10:00:00Z",
             "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d","uid":"rs1","controller":true}],
             "finalizers":["x/y"],"annotations":{"k":"v"}}}
            """);

        var meta = obj.Metadata;

        Assert.Equal(4, meta.Generation);
        Assert.Equal(4, obj.Generation);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), meta.CreationTimestamp);
        var owner = Assert.Single(meta.OwnerReferences!);
        Assert.Equal("ReplicaSet", owner.Kind);
        Assert.True(owner.Controller);
        Assert.Equal(["x/y"], meta.Finalizers!);
        Assert.Equal("v", obj.Annotations["k"]);
    }

    [Fact]
    public void Setters_RemoveValues_WhenNull()
    {
        var obj = KubeObject.Create("v1", "ConfigMap", "c", "n");
        obj.SetLabel("a", "1");
        obj.SetAnnotation("b", "2");
        obj.ResourceVersion = "3";

        obj.SetLabel("a", null);
        obj.SetAnnotation("b", null);
        obj.ResourceVersion = null;

        Assert.Empty(obj.Labels);
        Assert.Empty(obj.Annotations);
        Assert.Null(obj.MetadataJson["resourceVersion"]);
        Assert.Equal("n", obj.Namespace);
    }

    [Fact]
    public void Clone_ThenEdit_LeavesOriginal()
    {
        var original = KubeObject.Create("v1", "ConfigMap", "c");
        var copy = original.Clone();

        copy.Name = "d";

        Assert.Equal("c", original.Name);
    }

    [Fact]
    public void GetPodStatus_RunningReadyPod_ReadsPhaseAndConditions()
    {
        var pod = KubeObject.Parse("""
            {"kind":"Pod","status":{"phase":"Running","podIP":"10.1.0.5","conditions":[{"type":"PodScheduled","status":"True"},{"type":"Ready","status":"True","lastTransitionTime":"2026-03-01T10:00:00Z"}],
             "containerStatuses":[{"name":"app","ready":true,"restartCount":2,"image":"nginx"}]}}
            """);

        var status = pod.GetPodStatus();

        Assert.Equal("Running", status.Phase);
        Assert.Equal("10.1.0.5", status.PodIP);
        Assert.Equal(2, status.ContainerStatuses![0].RestartCount);
        Assert.True(pod.IsPodReady());
        Assert.False(KubeObject.Create("v1", "Pod", "p").IsPodReady());
    }

    [Fact]
    public void GetWorkloadStatus_Deployment_ReadsReplicaCounters()
    {
        var deployment = KubeObject.Parse("""
            {"kind":"Deployment","spec":{"replicas":3},"status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2,"observedGeneration":7,
             "conditions":[{"type":"Available","status":"False","reason":"MinimumReplicasUnavailable"}]}}
            """);

        var status = deployment.GetWorkloadStatus();

        Assert.Equal(3, deployment.GetDesiredReplicas());
        Assert.Equal(2, status.ReadyReplicas);
        Assert.Equal(7, status.ObservedGeneration);
        Assert.Equal("MinimumReplicasUnavailable", status.Conditions![0].Reason);
        Assert.Equal(1, KubeObject.Create("apps/v1", "StatefulSet", "s").GetDesiredReplicas());
    }

    [Fact]
    public void GetNodeStatus_Node_ReadsCapacity()
    {
        var node = KubeObject.Parse("""{"kind":"Node","status":{"capacity":{"cpu":"8","memory":"32Gi","pods":"110"},"allocatable":{"cpu":"7500m"},"conditions":[{"type":"Ready","status":"True"}]}}""");

        var status = node.GetNodeStatus();

        Assert.Equal("32Gi", status.Capacity!["memory"]);
        Assert.Equal("7500m", status.Allocatable!["cpu"]);
    }

    [Theory]
    [InlineData("""{"spec":{"runStrategy":"Halted"},"status":{"printableStatus":"Stopped"}}""", "Halted", "Stopped", false)]
    [InlineData("""{"spec":{"running":true},"status":{"printableStatus":"Running","ready":true,"created":true}}""", "Always", "Running", true)]
    [InlineData("""{"spec":{}}""", null, null, false)]
    public void GetVirtualMachineState_Variants_DeriveRunStrategy(string json, string? strategy, string? printable, bool ready)
    {
        var state = KubeObject.Parse(json).GetVirtualMachineState();

        Assert.Equal(strategy, state.RunStrategy);
        Assert.Equal(printable, state.PrintableStatus);
        Assert.Equal(ready, state.Ready);
    }

    [Fact]
    public void GetNamespacePhase_Terminating_ReturnsIt()
    {
        Assert.Equal("Terminating", KubeObject.Parse("""{"status":{"phase":"Terminating"}}""").GetNamespacePhase());
    }
}
