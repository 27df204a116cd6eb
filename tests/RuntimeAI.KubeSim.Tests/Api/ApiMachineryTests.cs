using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Tests.Api;

public sealed class ApiMachineryTests
{
    private const string ConfigMaps = "api/v1/namespaces/default/configmaps";

    [Fact]
    public async Task Discovery_CoreAndGroups_ListServedResources()
    {
        await using var sim = await SimHost.StartAsync();
        var version = await sim.GetObjectAsync("version");
        Assert.Equal("1", version["major"]?.GetValue<string>());

        var core = await sim.GetObjectAsync("api/v1");
        var names = core["resources"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("pods", names);
        Assert.Contains("pods/log", names);
        Assert.Contains("pods/eviction", names);
        Assert.Contains("resourcequotas", names);

        var groups = await sim.GetObjectAsync("apis");
        var groupNames = groups["groups"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("apps", groupNames);
        Assert.Contains("kubevirt.io", groupNames);
        Assert.Contains("subresources.kubevirt.io", groupNames);
        Assert.Contains("snapshot.kubevirt.io", groupNames);
        Assert.Contains("instancetype.kubevirt.io", groupNames);
        Assert.Contains("metrics.k8s.io", groupNames);

        var apps = await sim.GetObjectAsync("apis/apps/v1");
        var scale = apps["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "deployments/scale")!;
        Assert.Equal("autoscaling", scale["group"]!.GetValue<string>());

        var (status, _) = await sim.GetAsync("apis/nope.example.com/v1");
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task Create_SameNameTwice_Returns409AlreadyExists()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));

        var (status, body) = await sim.PostAsync(ConfigMaps, SimHost.ConfigMap("a"));

        Assert.Equal(409, status);
        Assert.Equal("Status", body!["kind"]!.GetValue<string>());
        Assert.Equal("AlreadyExists", body["reason"]!.GetValue<string>());
        Assert.Equal("configmaps \"a\" already exists", body["message"]!.GetValue<string>());
        Assert.Equal(409, body["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Create_AssignsIdentity_UidTimestampGenerationAndVersion()
    {
        await using var sim = await SimHost.StartAsync();
        var created = await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));

        Assert.Matches("^[0-9a-f-]{36}$", created["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal("2026-01-15T09:00:00Z", created["metadata"]!["creationTimestamp"]!.GetValue<string>());
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal("ConfigMap", created["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Replace_StaleResourceVersion_Returns409Conflict()
    {
        await using var sim = await SimHost.StartAsync();
        var created = await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        var stale = created.ToJsonString();
        created["data"]!["key"] = "v2";
        var (ok, updated) = await sim.PutAsync($"{ConfigMaps}/a", created.ToJsonString());
        Assert.Equal(200, ok);

        var (status, body) = await sim.PutAsync($"{ConfigMaps}/a", stale);

        Assert.Equal(409, status);
        Assert.Equal("Conflict", body!["reason"]!.GetValue<string>());
        Assert.Contains("the object has been modified", body["message"]!.GetValue<string>());
        Assert.True(long.Parse(updated!["metadata"]!["resourceVersion"]!.GetValue<string>()) > long.Parse(created["metadata"]!["resourceVersion"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Replace_SpecChangeVersusStatusChange_OnlySpecMovesGeneration()
    {
        await using var sim = await SimHost.StartAsync();
        var d = await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));
        d["spec"]!["replicas"] = 2;
        var (_, afterSpec) = await sim.PutAsync("apis/apps/v1/namespaces/default/deployments/web", d.ToJsonString());
        Assert.Equal(2, afterSpec!["metadata"]!["generation"]!.GetValue<int>());

        var (_, afterStatus) = await sim.PatchAsync("apis/apps/v1/namespaces/default/deployments/web/status", """{"status":{"observedGeneration":7}}""", "application/merge-patch+json");

        Assert.Equal(2, afterStatus!["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal(7, afterStatus["status"]!["observedGeneration"]!.GetValue<int>());
        Assert.Equal(2, afterStatus["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Replace_MainResourceWithStatus_IgnoresStatusChange()
    {
        await using var sim = await SimHost.StartAsync();
        var d = await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));
        d["status"] = new JsonObject { ["replicas"] = 99 };

        var (_, body) = await sim.PutAsync("apis/apps/v1/namespaces/default/deployments/web", d.ToJsonString());

        Assert.Null(body!["status"]?["replicas"]);
    }

    [Fact]
    public async Task Get_Missing_ReturnsNotFoundStatus()
    {
        await using var sim = await SimHost.StartAsync();

        var (status, body) = await sim.GetAsync("api/v1/namespaces/default/pods/nope");

        Assert.Equal(404, status);
        Assert.Equal("NotFound", body!["reason"]!.GetValue<string>());
        Assert.Equal("pods \"nope\" not found", body["message"]!.GetValue<string>());
        Assert.Equal("pods", body["details"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_InMissingNamespace_Returns404ForNamespace()
    {
        await using var sim = await SimHost.StartAsync();

        var (status, body) = await sim.PostAsync("api/v1/namespaces/ghost/configmaps", SimHost.ConfigMap("a"));

        Assert.Equal(404, status);
        Assert.Equal("namespaces \"ghost\" not found", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_InvalidName_Returns422Invalid()
    {
        await using var sim = await SimHost.StartAsync();

        var (status, body) = await sim.PostAsync(ConfigMaps, SimHost.ConfigMap("Bad_Name"));

        Assert.Equal(422, status);
        Assert.Equal("Invalid", body!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_GenerateName_AppendsSuffix()
    {
        await using var sim = await SimHost.StartAsync();

        var created = await sim.CreateAsync(ConfigMaps, """{"metadata":{"generateName":"job-"},"data":{}}""");

        Assert.Matches("^job-[a-z0-9]{5}$", created["metadata"]!["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("env=prod", "a")]
    [InlineData("env in (prod,staging)", "a,b")]
    [InlineData("env notin (prod)", "b,c")]
    [InlineData("tier", "a,b")]
    [InlineData("!tier", "c")]
    [InlineData("env!=prod,tier", "b")]
    public async Task List_LabelSelector_FiltersObjects(string selector, string expected)
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a", new Dictionary<string, string> { ["env"] = "prod", ["tier"] = "web" }));
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("b", new Dictionary<string, string> { ["env"] = "staging", ["tier"] = "db" }));
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("c"));

        var list = await sim.GetObjectAsync($"{ConfigMaps}?labelSelector={Uri.EscapeDataString(selector)}");

        var names = list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).Where(n => n.Length == 1);
        Assert.Equal(expected, string.Join(',', names));
        Assert.Equal("ConfigMapList", list["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_FieldSelector_FiltersByNameNamespacePhaseAndNode()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p2"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var node = (await sim.GetObjectAsync("api/v1/namespaces/default/pods/p1"))["spec"]!["nodeName"]!.GetValue<string>();

        var byName = await sim.GetObjectAsync("api/v1/pods?fieldSelector=metadata.name%3Dp2");
        var byPhase = await sim.GetObjectAsync("api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning,metadata.namespace%3Ddefault");
        var byNode = await sim.GetObjectAsync($"api/v1/pods?fieldSelector=spec.nodeName%3D{node}");
        var notRunning = await sim.GetObjectAsync("api/v1/pods?fieldSelector=status.phase!%3DRunning");

        Assert.Single(byName["items"]!.AsArray());
        Assert.Equal(2, byPhase["items"]!.AsArray().Count);
        Assert.Contains(byNode["items"]!.AsArray(), p => p!["metadata"]!["name"]!.GetValue<string>() == "p1");
        Assert.Empty(notRunning["items"]!.AsArray());
    }

    [Fact]
    public async Task List_LimitAndContinue_PagesThroughAllItems()
    {
        await using var sim = await SimHost.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap($"cm{i}"));
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await sim.GetObjectAsync($"{ConfigMaps}?limit=2" + (token is null ? string.Empty : $"&continue={Uri.EscapeDataString(token)}"));
            seen.AddRange(page["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
            token = page["metadata"]!["continue"]?.GetValue<string>();
            pages++;
        }
        while (token is not null);

        Assert.Equal(new[] { "cm0", "cm1", "cm2", "cm3", "cm4" }, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task DryRun_Create_ReturnsObjectWithoutStoringIt()
    {
        await using var sim = await SimHost.StartAsync();

        var (status, body) = await sim.PostAsync($"{ConfigMaps}?dryRun=All", SimHost.ConfigMap("dry"));

        Assert.Equal(201, status);
        Assert.Equal("dry", body!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(404, (await sim.GetAsync($"{ConfigMaps}/dry")).Status);
    }

    [Fact]
    public async Task DryRun_Delete_KeepsObject()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));

        var (status, _) = await sim.DeleteAsync($"{ConfigMaps}/a?dryRun=All");

        Assert.Equal(200, status);
        Assert.Equal(200, (await sim.GetAsync($"{ConfigMaps}/a")).Status);
    }

    [Fact]
    public async Task Delete_Background_CascadesThroughOwnerReferences()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 2));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, (await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["items"]!.AsArray().Count);

        var (status, _) = await sim.DeleteAsync("apis/apps/v1/namespaces/default/deployments/web", """{"propagationPolicy":"Background"}""");

        Assert.Equal(200, status);
        Assert.Empty((await sim.GetObjectAsync("apis/apps/v1/namespaces/default/replicasets"))["items"]!.AsArray());
        Assert.Empty((await sim.GetObjectAsync("api/v1/namespaces/default/pods"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Delete_Orphan_KeepsDependentsAndDropsOwnerReference()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apps/v1/namespaces/default/deployments", SimHost.Deployment("web", 1));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        await sim.DeleteAsync("apis/apps/v1/namespaces/default/deployments/web?propagationPolicy=Orphan");

        var rs = (await sim.GetObjectAsync("apis/apps/v1/namespaces/default/replicasets"))["items"]!.AsArray().Single()!;
        Assert.Empty(rs["metadata"]!["ownerReferences"]!.AsArray());
    }

    [Fact]
    public async Task Delete_WithFinalizer_SetsDeletionTimestampUntilFinalizerRemoved()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, """{"metadata":{"name":"held","finalizers":["example.com/hold"]},"data":{}}""");

        var (status, body) = await sim.DeleteAsync($"{ConfigMaps}/held");
        Assert.Equal(202, status);
        Assert.NotNull(body!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(200, (await sim.GetAsync($"{ConfigMaps}/held")).Status);

        await sim.PatchAsync($"{ConfigMaps}/held", """{"metadata":{"finalizers":null}}""", "application/merge-patch+json");

        Assert.Equal(404, (await sim.GetAsync($"{ConfigMaps}/held")).Status);
    }

    [Fact]
    public async Task Delete_Namespace_RemovesItsObjects()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces", """{"metadata":{"name":"team"}}""");
        await sim.CreateAsync("api/v1/namespaces/team/configmaps", SimHost.ConfigMap("a"));

        await sim.DeleteAsync("api/v1/namespaces/team");

        Assert.Equal(404, (await sim.GetAsync("api/v1/namespaces/team/configmaps/a")).Status);
        Assert.Equal(404, (await sim.GetAsync("api/v1/namespaces/team")).Status);
    }

    [Fact]
    public async Task DeleteCollection_LabelSelector_DeletesOnlyMatches()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a", new Dictionary<string, string> { ["x"] = "1" }));
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("b"));

        await sim.DeleteAsync($"{ConfigMaps}?labelSelector=x%3D1");

        Assert.Equal(404, (await sim.GetAsync($"{ConfigMaps}/a")).Status);
        Assert.Equal(200, (await sim.GetAsync($"{ConfigMaps}/b")).Status);
    }

    [Fact]
    public async Task Table_AcceptAsTable_ReturnsColumnsRowsAndObjects()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ConfigMaps, SimHost.ConfigMap("a"));
        sim.Time.Advance(TimeSpan.FromMinutes(3));

        var (status, table) = await sim.GetAsync(ConfigMaps, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");

        Assert.Equal(200, status);
        Assert.Equal("Table", table!["kind"]!.GetValue<string>());
        Assert.Equal("meta.k8s.io/v1", table["apiVersion"]!.GetValue<string>());
        Assert.Equal(new[] { "Name", "Data", "Age" }, table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("a", cells[0]!.GetValue<string>());
        Assert.Equal("3m", cells[2]!.GetValue<string>());
        Assert.Equal("ConfigMap", table["rows"]![0]!["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Table_UnknownKind_FallsBackToNameAndAge()
    {
        await using var sim = await SimHost.StartAsync();

        var (_, table) = await sim.GetAsync("apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes", "application/json;as=Table;v=v1;g=meta.k8s.io");

        Assert.Equal(new[] { "Name", "Age" }, table!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Equal(7, table["rows"]!.AsArray().Count);
    }

    [Fact]
    public async Task OpenApiV3_Index_ListsGroupVersionsWithFieldValidation()
    {
        await using var sim = await SimHost.StartAsync();

        var index = await sim.GetObjectAsync("openapi/v3");
        var apps = await sim.GetObjectAsync("openapi/v3/apis/apps/v1");

        Assert.NotNull(index["paths"]!["apis/apps/v1"]);
        var patch = apps["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!["patch"]!;
        Assert.Contains(patch["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "fieldValidation");
    }

    [Fact]
    public async Task CustomResourceDefinition_Created_ServesNewResource()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/apiextensions.k8s.io/v1/customresourcedefinitions", """
            {"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced",
             "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
             "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}}]}}
            """);

        var created = await sim.CreateAsync("apis/example.com/v1/namespaces/default/widgets", """{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":3}}""");

        Assert.Equal("Widget", created["kind"]!.GetValue<string>());
        var discovery = await sim.GetObjectAsync("apis/example.com/v1");
        Assert.Equal("widgets", discovery["resources"]![0]!["name"]!.GetValue<string>());
    }
}
