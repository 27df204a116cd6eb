using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Tests.Api;

public sealed class PatchTests
{
    private const string Deployments = "apis/apps/v1/namespaces/default/deployments";

    private static async Task<SimHost> WithDeploymentAsync()
    {
        var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Deployments, """
            {"metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"main","image":"nginx:1.27","env":[{"name":"A","value":"1"}]},{"name":"sidecar","image":"envoy:1.30"}]}}}}
            """);
        return sim;
    }

    [Fact]
    public async Task Patch_MergePatch_SetsAndRemovesFields()
    {
        await using var sim = await WithDeploymentAsync();

        var (status, body) = await sim.PatchAsync($"{Deployments}/web", """{"metadata":{"labels":{"app":null,"tier":"web"}},"spec":{"replicas":3}}""", "application/merge-patch+json");

        Assert.Equal(200, status);
        Assert.Null(body!["metadata"]!["labels"]!["app"]);
        Assert.Equal("web", body["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Equal(3, body["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Patch_JsonPatch_AppliesOperationsInOrder()
    {
        await using var sim = await WithDeploymentAsync();

        var (status, body) = await sim.PatchAsync($"{Deployments}/web",
            """[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":4},{"op":"add","path":"/metadata/annotations","value":{"x":"y"}}]""",
            "application/json-patch+json");

        Assert.Equal(200, status);
        Assert.Equal(4, body!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("y", body["metadata"]!["annotations"]!["x"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patch_JsonPatchFailedTest_Returns422()
    {
        await using var sim = await WithDeploymentAsync();

        var (status, _) = await sim.PatchAsync($"{Deployments}/web", """[{"op":"test","path":"/spec/replicas","value":9}]""", "application/json-patch+json");

        Assert.Equal(422, status);
    }

    [Fact]
    public async Task Patch_StrategicMerge_MergesContainersByName()
    {
        await using var sim = await WithDeploymentAsync();

        var (_, body) = await sim.PatchAsync($"{Deployments}/web",
            """{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28","env":[{"name":"B","value":"2"}]}]}}}}""",
            "application/strategic-merge-patch+json");

        var containers = body!["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(2, containers.Count);
        Assert.Equal("nginx:1.28", containers[0]!["image"]!.GetValue<string>());
        Assert.Equal("envoy:1.30", containers[1]!["image"]!.GetValue<string>());
        Assert.Equal(new[] { "A", "B" }, containers[0]!["env"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Patch_StrategicMergeDeleteDirective_RemovesListItem()
    {
        await using var sim = await WithDeploymentAsync();

        var (_, body) = await sim.PatchAsync($"{Deployments}/web",
            """{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"main"}],"containers":[{"name":"sidecar","$patch":"delete"}]}}}}""",
            "application/strategic-merge-patch+json");

        Assert.Single(body!["spec"]!["template"]!["spec"]!["containers"]!.AsArray());
    }

    [Fact]
    public async Task Patch_ApplyWithoutFieldManager_Returns400()
    {
        await using var sim = await WithDeploymentAsync();

        var (status, _) = await sim.PatchAsync($"{Deployments}/web", "spec:\n  replicas: 2\n", "application/apply-patch+yaml");

        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Patch_ServerSideApply_CreatesThenUpdatesAndRecordsManager()
    {
        await using var sim = await SimHost.StartAsync();
        const string yaml = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: applied
            data:
              a: "1"
            """;

        var (created, body) = await sim.PatchAsync("api/v1/namespaces/default/configmaps/applied?fieldManager=runtimeai", yaml, "application/apply-patch+yaml");
        var (updated, body2) = await sim.PatchAsync("api/v1/namespaces/default/configmaps/applied?fieldManager=runtimeai", yaml.Replace("\"1\"", "\"2\""), "application/apply-patch+yaml");

        Assert.Equal(200, created);
        Assert.Equal(200, updated);
        Assert.Equal("2", body2!["data"]!["a"]!.GetValue<string>());
        Assert.Contains(body2["metadata"]!["managedFields"]!.AsArray(), m => m!["manager"]!.GetValue<string>() == "runtimeai" && m["operation"]!.GetValue<string>() == "Apply");
        Assert.Equal(body!["metadata"]!["uid"]!.GetValue<string>(), body2["metadata"]!["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patch_UnknownContentType_Returns415()
    {
        await using var sim = await WithDeploymentAsync();

        var (status, _) = await sim.PatchAsync($"{Deployments}/web", "{}", "text/plain");

        Assert.Equal(415, status);
    }

    [Fact]
    public async Task Scale_GetAndPatch_ChangesParentReplicas()
    {
        await using var sim = await WithDeploymentAsync();

        var scale = await sim.GetObjectAsync($"{Deployments}/web/scale");
        var (status, patched) = await sim.PatchAsync($"{Deployments}/web/scale", """{"spec":{"replicas":5}}""", "application/merge-patch+json");

        Assert.Equal("Scale", scale["kind"]!.GetValue<string>());
        Assert.Equal("autoscaling/v1", scale["apiVersion"]!.GetValue<string>());
        Assert.Equal("app=web", scale["status"]!["selector"]!.GetValue<string>());
        Assert.Equal(200, status);
        Assert.Equal(5, patched!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(5, (await sim.GetObjectAsync($"{Deployments}/web"))["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Scale_PutWithStaleResourceVersion_Returns409()
    {
        await using var sim = await WithDeploymentAsync();
        var scale = await sim.GetObjectAsync($"{Deployments}/web/scale");
        await sim.PatchAsync($"{Deployments}/web", """{"metadata":{"labels":{"x":"y"}}}""", "application/merge-patch+json");
        scale["spec"]!["replicas"] = 2;

        var (status, _) = await sim.PutAsync($"{Deployments}/web/scale", scale.ToJsonString());

        Assert.Equal(409, status);
    }

    [Fact]
    public async Task Patch_ServerSideApplyDroppingAField_RemovesItButKeepsOthersChanges()
    {
        await using var sim = await SimHost.StartAsync();
        const string first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {a: \"1\", b: \"2\"}\ndata:\n  x: \"1\"\n  y: \"2\"\n";
        const string second = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {a: \"1\"}\ndata:\n  x: \"1\"\n";
        await sim.PatchAsync("api/v1/namespaces/default/configmaps/cfg?fieldManager=ops", first, "application/apply-patch+yaml");
        await sim.PatchAsync("api/v1/namespaces/default/configmaps/cfg", """{"data":{"z":"from-someone-else"}}""", "application/merge-patch+json");

        var (status, body) = await sim.PatchAsync("api/v1/namespaces/default/configmaps/cfg?fieldManager=ops", second, "application/apply-patch+yaml");

        Assert.Equal(200, status);
        Assert.Null(body!["metadata"]!["labels"]!["b"]);
        Assert.Equal("1", body["metadata"]!["labels"]!["a"]!.GetValue<string>());
        Assert.Null(body["data"]!["y"]);
        Assert.Equal("from-someone-else", body["data"]!["z"]!.GetValue<string>());
        var fields = body["metadata"]!["managedFields"]!.AsArray().Single(m => m!["manager"]!.GetValue<string>() == "ops")!["fieldsV1"]!;
        Assert.NotNull(fields["f:data"]!["f:x"]);
    }
}

/// <summary>Patches racing other writers, as against a real API server.</summary>
public sealed class PatchConcurrencyTests
{
    private const string Deployments = "apis/apps/v1/namespaces/default/deployments";

    [Fact]
    public async Task PatchWithoutResourceVersion_RacingStatusWrites_NeverConflicts_PinnedOneDoes()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Deployments, SimHost.Deployment("web", 1));
        var ct = TestContext.Current.CancellationToken;

        // A controller-like writer updates status while a client patches spec: the client named no
        // resourceVersion, so every one of its patches applies to whatever is current.
        var statusWrites = Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                await sim.PatchAsync($"{Deployments}/web/status", "{\"status\":{\"observedGeneration\":" + i + "}}", "application/merge-patch+json");
            }
        }, ct);
        var codes = new List<int>();
        for (var i = 0; i < 300; i++)
        {
            var (status, _) = await sim.PatchAsync($"{Deployments}/web", "{\"metadata\":{\"annotations\":{\"n\":\"" + i + "\"}}}", "application/strategic-merge-patch+json");
            codes.Add(status);
        }

        await statusWrites;
        Assert.All(codes, c => Assert.Equal(200, c));

        // Naming a resourceVersion that is no longer current still conflicts, as asked.
        var (stale, body) = await sim.PatchAsync($"{Deployments}/web", """{"metadata":{"resourceVersion":"1","annotations":{"n":"stale"}}}""", "application/merge-patch+json");
        Assert.True(stale == 409, body?.ToJsonString());
    }
}
