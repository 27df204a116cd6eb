using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RuntimeAI.Kubernetes.Client;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Model;
using RuntimeAI.Kubernetes.Tests.Infrastructure;
using static RuntimeAI.Kubernetes.Tests.Infrastructure.FakeKubeApi;

namespace RuntimeAI.Kubernetes.Tests.Client;

public sealed class KubeApiClientTests : IAsyncLifetime
{
    private FakeKubeApi _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync();

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task GetAsync_ExistingObject_SendsBearerAndAcceptAndReturnsObject()
    {
        _api.OnJson("GET", "/apis/apps/v1/namespaces/team-a/deployments/web", Obj("Deployment", "web", "team-a", "42"));
        using var client = TestClients.For(_api);

        var obj = await client.GetAsync(KubeResourceTypes.Deployments, "web", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("web", obj.Name);
        Assert.Equal("42", obj.ResourceVersion);
        var request = Assert.Single(_api.Requests);
        Assert.Equal($"Bearer {TestClients.Token}", request.Header("Authorization"));
        Assert.Equal("application/json", request.Header("Accept"));
        Assert.StartsWith("runtimeai-kube/", request.Header("User-Agent"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_NotFound_ThrowsWithStatusReasonAndResourceName()
    {
        _api.OnStatus("GET", "/api/v1/namespaces/prod/pods/db-0", 404, "NotFound", "pods \"db-0\" not found");
        using var client = TestClients.For(_api);

        var ex = await Assert.ThrowsAsync<KubeNotFoundException>(() => client.GetAsync(KubeResourceTypes.Pods, "db-0", "prod", TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("NotFound", ex.Reason);
        Assert.Equal("pods \"db-0\" not found", ex.ApiMessage);
        Assert.Contains("get pods \"db-0\" in namespace \"prod\"", ex.Message, StringComparison.Ordinal);
        Assert.Single(_api.Requests); // 404 is not retried
    }

    [Fact]
    public async Task GetAsync_ServerUrlWithPath_AppendsApiPathToIt()
    {
        _api.OnJson("GET", "/vcluster/team-a/vc1/api/v1/namespaces/default/pods/p", Obj("Pod", "p", "default", "1"));
        using var client = new KubeApiClient(
            new KubeConnection { Server = new Uri(_api.BaseUri, "/vcluster/team-a/vc1/") }, TestClients.FastOptions());

        var pod = await client.GetAsync(KubeResourceTypes.Pods, "p", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("p", pod.Name);
    }

    [Fact]
    public async Task TryGetAsync_NotFound_ReturnsNull()
    {
        using var client = TestClients.For(_api);

        Assert.Null(await client.TryGetAsync(KubeResourceTypes.Nodes, "ghost", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("/api/v1/nodes/ghost", Assert.Single(_api.Requests).Path);
    }

    [Fact]
    public async Task ListAsync_SelectorsAndPage_EncodesQueryAndFillsKinds()
    {
        _api.OnJson("GET", "/api/v1/namespaces/team-a/pods", new JsonObject
        {
            ["kind"] = "PodList",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = "100", ["continue"] = "tok2", ["remainingItemCount"] = 7 },
            ["items"] = new JsonArray(new JsonObject { ["metadata"] = new JsonObject { ["name"] = "p1", ["resourceVersion"] = "99" }, ["spec"] = new JsonObject { ["x-unknown"] = 1 } }),
        });
        using var client = TestClients.For(_api);

        var list = await client.ListAsync(KubeResourceTypes.Pods, "team-a", new KubeListOptions
        {
            LabelSelector = "app=web,tier in (a,b)",
            FieldSelector = "status.phase=Running",
            Limit = 2,
            Continue = "tok1",
        }, TestContext.Current.CancellationToken);

        var request = Assert.Single(_api.Requests);
        Assert.Equal("app=web,tier in (a,b)", request.QueryValue("labelSelector"));
        Assert.Equal("status.phase=Running", request.QueryValue("fieldSelector"));
        Assert.Equal("2", request.QueryValue("limit"));
        Assert.Equal("tok1", request.QueryValue("continue"));
        Assert.Equal("100", list.ResourceVersion);
        Assert.Equal("tok2", list.Continue);
        Assert.Equal(7, list.RemainingItemCount);
        var pod = Assert.Single(list.Items);
        Assert.Equal("Pod", pod.Kind);
        Assert.Equal("v1", pod.ApiVersion);
        Assert.Equal(1, (int)pod.Spec!["x-unknown"]!);
    }

    [Fact]
    public async Task ListAllAsync_ThreePages_FollowsContinueTokens()
    {
        _api.On("GET", "/api/v1/configmaps", ctx =>
        {
            var token = ctx.Request.Query["continue"].ToString();
            var (next, name) = token switch { "" => ("c1", "a"), "c1" => ("c2", "b"), _ => ("", "c") };
            return WriteJson(ctx, new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = "5", ["continue"] = next },
                ["items"] = new JsonArray(Obj("ConfigMap", name, "x", "1")),
            });
        }, sticky: true);
        using var client = TestClients.For(_api);

        var names = new List<string?>();
        await foreach (var item in client.ListAllAsync(KubeResourceTypes.ConfigMaps, options: new KubeListOptions { LabelSelector = "a=b", Limit = 1 }, cancellationToken: TestContext.Current.CancellationToken))
        {
            names.Add(item.Name);
        }

        Assert.Equal(["a", "b", "c"], names);
        Assert.All(_api.Requests, r => Assert.Equal("a=b", r.QueryValue("labelSelector")));
        Assert.Equal([null, "c1", "c2"], _api.Requests.Select(r => r.QueryValue("continue")));
    }

    [Fact]
    public async Task CreateAsync_DryRun_PostsJsonWithDryRunAndFieldManager()
    {
        _api.On("POST", "/api/v1/namespaces/ops/configmaps", ctx => WriteJson(ctx, JsonNode.Parse(_api.Requests.Last().Body)!, 201));
        using var client = TestClients.For(_api);
        var cm = KubeObject.Create("v1", "ConfigMap", "settings", "ops");
        cm.Json["data"] = new JsonObject { ["k"] = "v" };
        cm.Json["x-future-field"] = "kept";

        var created = await client.CreateAsync(cm, new KubeWriteOptions { DryRun = true, FieldManager = "runtimeai" }, KubeResourceTypes.ConfigMaps, TestContext.Current.CancellationToken);

        var request = Assert.Single(_api.Requests);
        Assert.Equal("All", request.QueryValue("dryRun"));
        Assert.Equal("runtimeai", request.QueryValue("fieldManager"));
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Equal("v", (string?)request.Json!["data"]!["k"]);
        Assert.Equal("kept", (string?)created.Json["x-future-field"]);
    }

    [Fact]
    public async Task CreateAsync_AlreadyExists_ThrowsConflictNotRetried()
    {
        _api.OnStatus("POST", "/api/v1/namespaces/team-a/configmaps", 409, "AlreadyExists", "configmaps \"a\" already exists", sticky: true);
        using var client = TestClients.For(_api);

        var ex = await Assert.ThrowsAsync<KubeConflictException>(() => client.CreateAsync(KubeObject.Create("v1", "ConfigMap", "a"), type: KubeResourceTypes.ConfigMaps, cancellationToken: TestContext.Current.CancellationToken));

        Assert.True(ex.AlreadyExists);
        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task CreateAsync_ServerError_IsNotRetried()
    {
        _api.OnStatus("POST", "/api/v1/namespaces/team-a/configmaps", 500, "InternalError", "boom", sticky: true);
        using var client = TestClients.For(_api);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.CreateAsync(KubeObject.Create("v1", "ConfigMap", "a"), type: KubeResourceTypes.ConfigMaps, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task CreateAsync_WithoutType_ResolvesThroughDiscovery()
    {
        _api.OnJson("GET", "/apis/apps/v1", Discovery("apps/v1", ("deployments", "Deployment", true, "deploy"), ("deployments/scale", "Scale", true, null)));
        _api.On("POST", "/apis/apps/v1/namespaces/team-a/deployments", ctx => WriteJson(ctx, Obj("Deployment", "web", "team-a", "1"), 201), sticky: true);
        using var client = TestClients.For(_api);

        await client.CreateAsync(KubeObject.Create("apps/v1", "Deployment", "web"), cancellationToken: TestContext.Current.CancellationToken);
        await client.CreateAsync(KubeObject.Create("apps/v1", "Deployment", "web"), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Single(_api.RequestsTo("GET", "/apis/apps/v1")); // cached
        Assert.Equal(2, _api.RequestsTo("POST", "/apis/apps/v1/namespaces/team-a/deployments").Count);
    }

    [Fact]
    public async Task ResolveAsync_KindPluralOrShortName_FindsType()
    {
        _api.OnJson("GET", "/api/v1", Discovery("v1", ("pods", "Pod", true, "po"), ("pods/log", "Pod", true, null), ("nodes", "Node", false, "no")), sticky: true);
        using var client = TestClients.For(_api);

        var byKind = await client.ResolveAsync("v1", "Pod", TestContext.Current.CancellationToken);
        var byPlural = await client.ResolveAsync("v1", "nodes", TestContext.Current.CancellationToken);
        var byShort = await client.ResolveAsync("v1", "po", TestContext.Current.CancellationToken);
        var missing = await Assert.ThrowsAsync<KubeNotFoundException>(() => client.ResolveAsync("v1", "Widget", TestContext.Current.CancellationToken));

        Assert.Equal(KubeResourceTypes.Pods, byKind);
        Assert.Equal(KubeResourceTypes.Nodes, byPlural);
        Assert.Equal(KubeResourceTypes.Pods, byShort);
        Assert.Contains("Widget", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplaceAsync_StaleResourceVersion_ThrowsConflictCallerCanRetry()
    {
        _api.OnStatus("PUT", "/apis/apps/v1/namespaces/team-a/deployments/web", 409, "Conflict",
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again");
        _api.OnJson("GET", "/apis/apps/v1/namespaces/team-a/deployments/web", Obj("Deployment", "web", "team-a", "8"));
        _api.On("PUT", "/apis/apps/v1/namespaces/team-a/deployments/web", ctx => WriteJson(ctx, JsonNode.Parse(_api.Requests.Last().Body)!));
        using var client = TestClients.For(_api);
        var stale = new KubeObject(Obj("Deployment", "web", "team-a", "7"));

        var conflict = await Assert.ThrowsAsync<KubeConflictException>(() => client.ReplaceAsync(stale, type: KubeResourceTypes.Deployments, cancellationToken: TestContext.Current.CancellationToken));
        var fresh = await client.GetAsync(KubeResourceTypes.Deployments, "web", cancellationToken: TestContext.Current.CancellationToken);
        var stored = await client.ReplaceAsync(fresh, type: KubeResourceTypes.Deployments, cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(conflict.AlreadyExists);
        Assert.Contains("replace deployments.apps \"web\" in namespace \"team-a\"", conflict.Message, StringComparison.Ordinal);
        Assert.Equal("7", (string?)_api.RequestsTo("PUT", "/apis/apps/v1/namespaces/team-a/deployments/web")[0].Json!["metadata"]!["resourceVersion"]);
        Assert.Equal("8", stored.ResourceVersion);
    }

    [Fact]
    public async Task UpdateAsync_ConflictOnce_RereadsAndRetries()
    {
        const string path = "/api/v1/namespaces/team-a/configmaps/cfg";
        _api.OnJson("GET", path, Obj("ConfigMap", "cfg", "team-a", "1"));
        _api.OnStatus("PUT", path, 409, "Conflict", "the object has been modified");
        _api.OnJson("GET", path, Obj("ConfigMap", "cfg", "team-a", "2"));
        _api.On("PUT", path, ctx => WriteJson(ctx, JsonNode.Parse(_api.Requests.Last().Body)!));
        using var client = TestClients.For(_api);

        var updated = await client.UpdateAsync(KubeResourceTypes.ConfigMaps, "cfg", obj =>
        {
            obj.SetLabel("touched", "yes");
            return true;
        }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("yes", updated.Labels["touched"]);
        var puts = _api.RequestsTo("PUT", path);
        Assert.Equal(["1", "2"], puts.Select(p => (string?)p.Json!["metadata"]!["resourceVersion"]));
    }

    [Fact]
    public async Task UpdateAsync_MutateReturnsFalse_WritesNothing()
    {
        _api.OnJson("GET", "/api/v1/namespaces/team-a/configmaps/cfg", Obj("ConfigMap", "cfg", "team-a", "1"));
        using var client = TestClients.For(_api);

        await client.UpdateAsync(KubeResourceTypes.ConfigMaps, "cfg", _ => false, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Single(_api.Requests);
    }

    [Theory]
    [InlineData(KubePatchType.Merge, "application/merge-patch+json")]
    [InlineData(KubePatchType.Json, "application/json-patch+json")]
    [InlineData(KubePatchType.StrategicMerge, "application/strategic-merge-patch+json")]
    public async Task PatchAsync_EachType_SendsItsContentType(KubePatchType patchType, string contentType)
    {
        _api.OnJson("PATCH", "/apis/apps/v1/namespaces/team-a/deployments/web", Obj("Deployment", "web", "team-a", "9"));
        using var client = TestClients.For(_api);
        JsonNode patch = patchType == KubePatchType.Json
            ? new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = "/spec/replicas", ["value"] = 3 })
            : new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 3 } };

        var result = await client.PatchAsync(KubeResourceTypes.Deployments, "web", patchType, patch, cancellationToken: TestContext.Current.CancellationToken);

        var request = Assert.Single(_api.Requests);
        Assert.Equal(contentType, request.Header("Content-Type"));
        Assert.Equal(patch.ToJsonString(), request.Body);
        Assert.Equal("9", result.ResourceVersion);
    }

    [Fact]
    public async Task ApplyAsync_Force_SendsApplyContentTypeFieldManagerAndForce()
    {
        _api.OnJson("PATCH", "/api/v1/namespaces/ops/configmaps/cfg", Obj("ConfigMap", "cfg", "ops", "3"));
        using var client = TestClients.For(_api);

        await client.ApplyAsync(KubeObject.Create("v1", "ConfigMap", "cfg", "ops"), new KubeApplyOptions { FieldManager = "runtimeai", Force = true, DryRun = true }, KubeResourceTypes.ConfigMaps, TestContext.Current.CancellationToken);

        var request = Assert.Single(_api.Requests);
        Assert.Equal("application/apply-patch+yaml", request.Header("Content-Type"));
        Assert.Equal("runtimeai", request.QueryValue("fieldManager"));
        Assert.Equal("true", request.QueryValue("force"));
        Assert.Equal("All", request.QueryValue("dryRun"));
    }

    [Fact]
    public async Task DeleteAsync_Foreground_SendsDeleteOptionsAndReturnsObject()
    {
        var terminating = Obj("Deployment", "web", "team-a", "11");
        terminating["metadata"]!["deletionTimestamp"] = "2026-01-01T00:00:00Z";
        _api.OnJson("DELETE", "/apis/apps/v1/namespaces/team-a/deployments/web", terminating);
        using var client = TestClients.For(_api);

        var result = await client.DeleteAsync(KubeResourceTypes.Deployments, "web", options: new KubeDeleteOptions
        {
            PropagationPolicy = KubePropagationPolicy.Foreground,
            GracePeriodSeconds = 0,
            PreconditionResourceVersion = "10",
        }, cancellationToken: TestContext.Current.CancellationToken);

        var body = Assert.Single(_api.Requests).Json!;
        Assert.Equal("DeleteOptions", (string?)body["kind"]);
        Assert.Equal("Foreground", (string?)body["propagationPolicy"]);
        Assert.Equal(0, (int)body["gracePeriodSeconds"]!);
        Assert.Equal("10", (string?)body["preconditions"]!["resourceVersion"]);
        Assert.NotNull(result!.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task DeleteAsync_ServerReturnsStatus_ReturnsNull()
    {
        _api.OnJson("DELETE", "/api/v1/namespaces/x", new JsonObject { ["kind"] = "Status", ["status"] = "Success" });
        using var client = TestClients.For(_api);

        Assert.Null(await client.DeleteAsync(KubeResourceTypes.Namespaces, "x", options: new KubeDeleteOptions { DryRun = true }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("All", Assert.Single(_api.Requests).QueryValue("dryRun"));
    }

    [Fact]
    public async Task ScaleAsync_Replicas_PatchesScaleSubresource()
    {
        var scale = new JsonObject
        {
            ["apiVersion"] = "autoscaling/v1",
            ["kind"] = "Scale",
            ["metadata"] = new JsonObject { ["name"] = "db", ["namespace"] = "team-a", ["resourceVersion"] = "4" },
            ["spec"] = new JsonObject { ["replicas"] = 5 },
            ["status"] = new JsonObject { ["replicas"] = 3, ["selector"] = "app=db" },
        };
        _api.OnJson("PATCH", "/apis/apps/v1/namespaces/team-a/statefulsets/db/scale", scale);
        _api.OnJson("GET", "/apis/apps/v1/namespaces/team-a/statefulsets/db/scale", scale);
        _api.On("PUT", "/apis/apps/v1/namespaces/team-a/statefulsets/db/scale", ctx => WriteJson(ctx, JsonNode.Parse(_api.Requests.Last().Body)!));
        using var client = TestClients.For(_api);

        var patched = await client.ScaleAsync(KubeResourceTypes.StatefulSets, "db", 5, cancellationToken: TestContext.Current.CancellationToken);
        var read = await client.GetScaleAsync(KubeResourceTypes.StatefulSets, "db", cancellationToken: TestContext.Current.CancellationToken);
        var replaced = await client.ReplaceScaleAsync(KubeResourceTypes.StatefulSets, "db", read with { Spec = new ScaleSpec { Replicas = 2 } }, cancellationToken: TestContext.Current.CancellationToken);

        var patch = _api.Requests.First();
        Assert.Equal("application/merge-patch+json", patch.Header("Content-Type"));
        Assert.Equal("""{"spec":{"replicas":5}}""", patch.Body);
        Assert.Equal(5, patched.Spec!.Replicas);
        Assert.Equal("app=db", read.Status!.Selector);
        var put = _api.RequestsTo("PUT", "/apis/apps/v1/namespaces/team-a/statefulsets/db/scale").Single().Json!;
        Assert.Equal("4", (string?)put["metadata"]!["resourceVersion"]);
        Assert.Equal(2, replaced.Spec!.Replicas);
    }

    [Fact]
    public async Task SendSubresourceAsync_KubeVirtStart_PutsToSubresourceGroup()
    {
        _api.On("PUT", "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm1/start", ctx =>
        {
            ctx.Response.StatusCode = 202;
            return Task.CompletedTask;
        });
        using var client = TestClients.For(_api);

        var result = await client.SendSubresourceAsync(HttpMethod.Put, KubeResourceTypes.VirtualMachineSubresources, "vm1", "start", new JsonObject(), "vms", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Null(result);
        Assert.Equal("{}", Assert.Single(_api.Requests).Body);
    }

    [Fact]
    public async Task SendSubresourceAsync_PostFails_IsNotRetried()
    {
        _api.OnStatus("POST", "/api/v1/namespaces/team-a/pods/p/exec", 503, "ServiceUnavailable", "busy", sticky: true);
        using var client = TestClients.For(_api);

        await Assert.ThrowsAsync<KubeApiException>(() => client.SendSubresourceAsync(HttpMethod.Post, KubeResourceTypes.Pods, "p", "exec", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task ListTableAsync_SendsTableAcceptAndParsesRows()
    {
        _api.OnJson("GET", "/api/v1/pods", new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = "77" },
            ["columnDefinitions"] = new JsonArray(
                new JsonObject { ["name"] = "Name", ["type"] = "string", ["format"] = "name", ["priority"] = 0 },
                new JsonObject { ["name"] = "Status", ["type"] = "string", ["priority"] = 0 },
                new JsonObject { ["name"] = "Node", ["type"] = "string", ["priority"] = 1 }),
            ["rows"] = new JsonArray(new JsonObject
            {
                ["cells"] = new JsonArray("web-1", "Running", "node-a"),
                ["object"] = new JsonObject { ["kind"] = "PartialObjectMetadata", ["metadata"] = new JsonObject { ["name"] = "web-1" } },
            }),
        });
        using var client = TestClients.For(_api);

        var table = await client.ListTableAsync(KubeResourceTypes.Pods, options: new KubeListOptions { Limit = 50 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("application/json;as=Table;v=v1;g=meta.k8s.io, application/json", Assert.Single(_api.Requests).Header("Accept"));
        Assert.Equal(["Name", "Status", "Node"], table.ColumnDefinitions.Select(c => c.Name));
        Assert.Equal(1, table.ColumnDefinitions[2].Priority);
        Assert.Equal("Running", (string?)table.Rows[0].Cells[1]);
        Assert.Equal("77", table.Metadata!.ResourceVersion);
    }

    [Fact]
    public async Task ListTableAsync_ServerIgnoresTable_Throws()
    {
        _api.OnJson("GET", "/api/v1/pods", new JsonObject { ["kind"] = "PodList", ["items"] = new JsonArray() });
        using var client = TestClients.For(_api);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.ListTableAsync(KubeResourceTypes.Pods, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("did not return a Table", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvictAsync_DisruptionBudgetBlocks_ThrowsTooManyRequestsWithoutRetry()
    {
        _api.On("POST", "/api/v1/namespaces/team-a/pods/web-1/eviction", ctx =>
        {
            ctx.Response.Headers.RetryAfter = "10";
            var status = StatusBody(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
            status["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "DisruptionBudget", ["message"] = "The disruption budget web-pdb needs 2 healthy pods and has 2 currently" }) };
            return WriteJson(ctx, status, 429);
        }, sticky: true);
        using var client = TestClients.For(_api);

        var ex = await Assert.ThrowsAsync<KubeTooManyRequestsException>(() => client.EvictAsync("web-1", options: new KubeDeleteOptions { GracePeriodSeconds = 30 }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.True(ex.DisruptionBudgetViolated);
        Assert.Equal(TimeSpan.FromSeconds(10), ex.RetryAfter);
        var request = Assert.Single(_api.Requests);
        var body = request.Json!;
        Assert.Equal("policy/v1", (string?)body["apiVersion"]);
        Assert.Equal("Eviction", (string?)body["kind"]);
        Assert.Equal("web-1", (string?)body["metadata"]!["name"]);
        Assert.Equal(30, (int)body["deleteOptions"]!["gracePeriodSeconds"]!);
    }

    [Fact]
    public async Task EvictAsync_Accepted_Completes()
    {
        _api.OnJson("POST", "/api/v1/namespaces/team-a/pods/web-2/eviction", new JsonObject { ["kind"] = "Status", ["status"] = "Success" }, 201);
        using var client = TestClients.For(_api);

        await client.EvictAsync("web-2", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task GetLogsAsync_TailAndSince_EncodesQuery()
    {
        _api.On("GET", "/api/v1/namespaces/team-a/pods/web-1/log", ctx => ctx.Response.WriteAsync("line 1\nline 2\n"));
        using var client = TestClients.For(_api);

        var text = await client.GetLogsAsync("web-1", options: new KubePodLogOptions { Container = "app", TailLines = 100, Since = TimeSpan.FromMinutes(5), Timestamps = true }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("line 1\nline 2\n", text);
        var request = Assert.Single(_api.Requests);
        Assert.Equal("app", request.QueryValue("container"));
        Assert.Equal("100", request.QueryValue("tailLines"));
        Assert.Equal("300", request.QueryValue("sinceSeconds"));
        Assert.Equal("true", request.QueryValue("timestamps"));
        Assert.Null(request.QueryValue("follow"));
    }

    [Fact]
    public async Task FollowLogsAsync_Stream_YieldsLines()
    {
        _api.On("GET", "/api/v1/namespaces/team-a/pods/web-1/log", async ctx =>
        {
            await ctx.Response.WriteAsync("a\n");
            await ctx.Response.Body.FlushAsync();
            await ctx.Response.WriteAsync("b\n");
        });
        using var client = TestClients.For(_api);

        var lines = new List<string>();
        await foreach (var line in client.FollowLogsAsync("web-1", options: new KubePodLogOptions { SinceTime = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero) }, cancellationToken: TestContext.Current.CancellationToken))
        {
            lines.Add(line);
        }

        Assert.Equal(["a", "b"], lines);
        var request = Assert.Single(_api.Requests);
        Assert.Equal("true", request.QueryValue("follow"));
        Assert.Equal("2026-01-02T03:04:05Z", request.QueryValue("sinceTime"));
    }

    [Fact]
    public async Task GetVersionAsync_Served_ReturnsVersion()
    {
        _api.OnJson("GET", "/version", new JsonObject { ["major"] = "1", ["minor"] = "31", ["gitVersion"] = "v1.31.0" });
        using var client = TestClients.For(_api);

        var version = await client.GetVersionAsync(TestContext.Current.CancellationToken);

        Assert.Equal("v1.31.0", (string?)version["gitVersion"]);
    }

    internal static JsonObject Discovery(string groupVersion, params (string Name, string Kind, bool Namespaced, string? ShortName)[] resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray(resources.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Name,
            ["kind"] = r.Kind,
            ["namespaced"] = r.Namespaced,
            ["verbs"] = new JsonArray("get", "list"),
            ["shortNames"] = r.ShortName is null ? null : new JsonArray(r.ShortName),
        }).ToArray()),
    };
}
