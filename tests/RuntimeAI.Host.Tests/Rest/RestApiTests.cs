using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Client;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// The REST API (/v1) against the real executable on loopback with a real HttpClient: every path,
/// the governance outcomes (dry run, approval, refusal, idempotent replay), authentication,
/// roles and tenants, and the same decision and audit record as the MCP tool call.
/// </summary>
public sealed class RestApiTests(RestServer server) : IClassFixture<RestServer>
{
    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Health_AnswersWithoutCredentials()
    {
        var health = await server.GetAsync("/health", null);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("ok", health.Json!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task EveryProtectedPath_WithoutCredentials_Is401WithTheMcpChallengeAndAProblem()
    {
        foreach (var (method, path) in RestPaths.All("rt_00000000000000000000000000", "op_00000000000000000000000000", "prp_00000000000000000000000000", "int_00000000000000000000000000", "some-policy"))
        {
            var response = await server.SendAsync(method, path, null, method == HttpMethod.Get || method == HttpMethod.Delete ? null : "{}");

            Assert.True(response.Status == HttpStatusCode.Unauthorized, $"{method} {path}: {response}");
            Assert.StartsWith("Bearer", response.Header("WWW-Authenticate"), StringComparison.Ordinal);
            Assert.Contains("resource_metadata=", response.Header("WWW-Authenticate"), StringComparison.Ordinal);
            Assert.Equal("application/problem+json", response.MediaType);
            Assert.Equal(401, response.Json!["status"]!.GetValue<int>());
        }

        var wrongKey = await server.GetAsync("/runtimes", "rtk_0123456789ab_not-a-key-not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.Status);
    }

    [Fact]
    public async Task Runtimes_CreateListGetStatusDelete_AnswerTheBriefsShapes()
    {
        var name = Unique("web");
        var created = await server.PostAsync("/runtimes", server.Operator, $$$"""{"name": "{{{name}}}", "type": "vm", "labels": {"app": "web"}, "spec": {"size": "small"}}""");
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        var id = created.Json!["id"]!.GetValue<string>();
        Assert.Equal($"/v1/runtimes/{id}", created.Header("Location"));
        Assert.Equal("running", created.Json["state"]!.GetValue<string>());
        Assert.Equal("succeeded", created.Json["operation"]!["status"]!.GetValue<string>());

        var list = await server.GetAsync("/runtimes?type=vm&page_size=200", server.Operator);
        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Contains(list.Json!["items"]!.AsArray(), r => r!["id"]!.GetValue<string>() == id);
        Assert.All(list.Json["items"]!.AsArray(), r => Assert.Equal("vm", r!["type"]!.GetValue<string>()));

        var paged = await server.GetAsync("/runtimes?page_size=1", server.Operator);
        Assert.Single(paged.Json!["items"]!.AsArray());
        var next = paged.Json["next_page_token"]!.GetValue<string>();
        var second = await server.GetAsync($"/runtimes?page_size=1&page_token={Uri.EscapeDataString(next)}", server.Operator);
        Assert.NotEqual(paged.Json["items"]![0]!["id"]!.GetValue<string>(), second.Json!["items"]![0]!["id"]!.GetValue<string>());

        var get = await server.GetAsync($"/runtimes/{id}", server.Viewer);
        Assert.Equal(name, get.Json!["name"]!.GetValue<string>());
        var status = await server.GetAsync($"/runtimes/{id}/status", server.Viewer);
        Assert.Equal(id, status.Json!["runtime_id"]!.GetValue<string>());
        Assert.NotNull(status.Json["observed_at"]);

        var deleted = await server.SendAsync(HttpMethod.Delete, $"/runtimes/{id}", server.Operator);
        Assert.True(deleted.Status == HttpStatusCode.Accepted, deleted.ToString());
        var operationId = deleted.Json!["id"]!.GetValue<string>();
        Assert.Equal($"/v1/operations/{operationId}", deleted.Header("Location"));
        var operation = await server.GetAsync($"/operations/{operationId}", server.Viewer);
        Assert.Equal("succeeded", operation.Json!["status"]!.GetValue<string>());
        Assert.Equal("delete", operation.Json["action"]!.GetValue<string>());
        Assert.Equal("deleted", (await server.GetAsync($"/runtimes/{id}", server.Viewer)).Json!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lifecycle_EveryVerb_Is202WithAnOperation_AndDryRunChangesNothing()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("life"));

        var dry = await server.PostAsync($"/runtimes/{id}/lifecycle/stop?dry_run=true", server.Operator);
        Assert.Equal(HttpStatusCode.OK, dry.Status);
        Assert.True(dry.Json!["dry_run"]!.GetValue<bool>());
        Assert.Equal("running", (await server.GetAsync($"/runtimes/{id}", server.Operator)).Json!["state"]!.GetValue<string>());

        foreach (var (verb, body, state) in new (string, string?, string)[]
        {
            ("stop", """{"force": false}""", "stopped"),
            ("start", """{"reason": "back to work"}""", "running"),
            ("scale", """{"resources": {"cpu": 2, "memory": "4Gi"}}""", "running"),
            ("snapshot", null, "running"),
        })
        {
            var response = await server.PostAsync($"/runtimes/{id}/lifecycle/{verb}", server.Operator, body);
            Assert.True(response.Status == HttpStatusCode.Accepted, $"{verb}: {response}");
            Assert.Equal("succeeded", response.Json!["status"]!.GetValue<string>());
            Assert.Equal(response.Json["id"]!.GetValue<string>(), response.Json["operation_id"]!.GetValue<string>());
            Assert.Equal(state, (await server.GetAsync($"/runtimes/{id}", server.Operator)).Json!["state"]!.GetValue<string>());
        }

        var runtime = await server.GetAsync($"/runtimes/{id}", server.Operator);
        Assert.Equal(2, runtime.Json!["spec"]!["resources"]!["cpu"]!.GetValue<double>());
        Assert.Equal("4Gi", runtime.Json["spec"]!["resources"]!["memory"]!.GetValue<string>());

        var gpu = await server.PostAsync($"/runtimes/{id}/lifecycle/scale", server.Operator, """{"resources": {"gpu": "1xA10"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, gpu.Status);
        Assert.Contains("resources.gpu cannot be scaled", gpu.Json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_NeedsApproval_202WithProposal_ApprovedByAnotherPrincipal_ThenRuns()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("appr"));

        var pending = await server.PostAsync($"/runtimes/{id}/lifecycle/restart", server.Operator);
        Assert.True(pending.Status == HttpStatusCode.Accepted, pending.ToString());
        Assert.Equal("pending_approval", pending.Json!["status"]!.GetValue<string>());
        var proposalId = pending.Json["proposal_id"]!.GetValue<string>();
        Assert.Equal($"/v1/proposals/{proposalId}", pending.Header("Location"));

        var polled = await server.GetAsync($"/proposals/{proposalId}", server.Operator);
        Assert.Equal("pending", polled.Json!["status"]!.GetValue<string>());
        var listed = await server.GetAsync("/proposals", server.Approver);
        Assert.Contains(listed.Json!["items"]!.AsArray(), p => p!["proposal_id"]!.GetValue<string>() == proposalId);

        var early = await server.PostAsync($"/runtimes/{id}/lifecycle/restart?proposal_id={proposalId}", server.Operator);
        Assert.Equal(HttpStatusCode.Conflict, early.Status);

        var self = await server.PostAsync($"/proposals/{proposalId}/approve", server.Operator);
        Assert.Equal(HttpStatusCode.Forbidden, self.Status);
        Assert.Contains("is the requester", self.Json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        var approved = await server.PostAsync($"/proposals/{proposalId}/approve", server.Approver, """{"reason": "maintenance window"}""");
        Assert.True(approved.Status == HttpStatusCode.OK, approved.ToString());
        Assert.Equal("approved", approved.Json!["status"]!.GetValue<string>());

        var ran = await server.PostAsync($"/runtimes/{id}/lifecycle/restart?proposal_id={proposalId}", server.Operator);
        Assert.True(ran.Status == HttpStatusCode.Accepted, ran.ToString());
        Assert.Equal("restart", ran.Json!["action"]!.GetValue<string>());
        Assert.Equal("succeeded", ran.Json["status"]!.GetValue<string>());

        var audit = AuditDocs(ran.Header("RuntimeAI-Call-Id")!);
        Assert.Equal("key:alice", audit["approver"]!.GetValue<string>());
        Assert.Equal("rest", audit["transport"]!.GetValue<string>());
        Assert.Single(AuditRows("approve_proposal", proposalId), r => r["outcome"]!.GetValue<string>() == "ok" && r["principal"]!.GetValue<string>() == "key:alice");
        Assert.Single(AuditRows("approve_proposal", proposalId), r => r["outcome"]!.GetValue<string>() == "refused" && r["principal"]!.GetValue<string>() == "key:ops-bot");
    }

    [Fact]
    public async Task Delete_DeniedByPolicy_Is403WithTheRuleIds()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("prod"), env: "prod");

        var refused = await server.SendAsync(HttpMethod.Delete, $"/runtimes/{id}", server.Operator);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("application/problem+json", refused.MediaType);
        Assert.Equal("denied_by_policy", refused.Json!["code"]!.GetValue<string>());
        Assert.Contains("deny-delete-prod", refused.Json["rule_ids"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/runtimes/{id}", server.Operator)).Status);
    }

    [Fact]
    public async Task ExecuteActions_SameIdempotencyKey_ReplaysTheFirstOperation_OtherActionsConflict()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("idem"));
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Unique("key") };
        const string Stop = """{"actions": [{"type": "stop", "params": {"force": true}}]}""";

        var first = await server.PostAsync($"/runtimes/{id}/actions/execute", server.Operator, Stop, key);
        var again = await server.PostAsync($"/runtimes/{id}/actions/execute", server.Operator, Stop, key);
        var other = await server.PostAsync($"/runtimes/{id}/actions/execute", server.Operator, """{"actions": [{"type": "start"}]}""", key);

        Assert.True(first.Status == HttpStatusCode.Accepted, first.ToString());
        Assert.True(again.Status == HttpStatusCode.Accepted, again.ToString());
        Assert.Equal(first.Json!["id"]!.GetValue<string>(), again.Json!["id"]!.GetValue<string>());
        Assert.Equal("stopped", (await server.GetAsync($"/runtimes/{id}", server.Operator)).Json!["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, other.Status);
        Assert.Equal("idempotency_conflict", other.Json!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task IntentAndPlan_AnswerTheBriefsShapes_AndIntentsStayWithTheirRuntime()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("intent"));
        var other = await server.CreateVmAsync(server.Operator, Unique("intent"));

        var plan = await server.PostAsync($"/runtimes/{id}/actions/plan", server.Operator, """{"goal": "reduce cost", "policy_mode": "safe_first"}""");
        Assert.Equal(HttpStatusCode.OK, plan.Status);
        Assert.NotNull(plan.Json!["actions"]!.AsArray());

        var submitted = await server.PostAsync($"/runtimes/{id}/intent", server.Operator,
            """{"goal": "reduce cost while keeping latency < 50ms", "constraints": {"latency": "<50ms", "availability": "high", "cost": "optimize"}, "dry_run": true}""");
        Assert.True(submitted.Status == HttpStatusCode.Accepted, submitted.ToString());
        var intentId = submitted.Json!["intent_id"]!.GetValue<string>();

        var record = await server.GetAsync($"/runtimes/{id}/intent/{intentId}", server.Viewer);
        Assert.Equal(HttpStatusCode.OK, record.Status);
        Assert.Equal("reduce cost while keeping latency < 50ms", record.Json!["request"]!["goal"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/runtimes/{other}/intent/{intentId}", server.Viewer)).Status);
    }

    [Fact]
    public async Task Policies_CreateListGetDelete_AdminOnly()
    {
        var name = Unique("Night freeze");
        var body = $$$"""{"name": "{{{name}}}", "scope_env": "staging", "rules": [{"kind": "deny_action", "selector": {"action_types": ["scale"]}}]}""";

        var refused = await server.PostAsync("/policies", server.Operator, body);
        var created = await server.PostAsync("/policies", server.Admin, body);
        var id = created.Json?["id"]?.GetValue<string>();
        var list = await server.SendAsync(HttpMethod.Get, "/policies?scope_env=staging", server.Viewer);
        var get = await server.GetAsync($"/policies/{id}", server.Viewer);
        var deleted = await server.SendAsync(HttpMethod.Delete, $"/policies/{id}", server.Admin);
        var gone = await server.GetAsync($"/policies/{id}", server.Viewer);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Contains("needs the admin role", refused.Json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        Assert.Equal($"{id}-1", created.Json!["rules"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("scale", created.Json["rules"]![0]!["selector"]!["action_types"]![0]!.GetValue<string>());
        Assert.Contains(list.Json!["items"]!.AsArray(), p => p!["id"]!.GetValue<string>() == id);
        Assert.DoesNotContain(list.Json["items"]!.AsArray(), p => p!["id"]!.GetValue<string>() == "rest-tests");
        Assert.Equal(name, get.Json!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task TenantScopedCaller_AnotherTenantsRuntime_IsNotFoundOnEveryRuntimePath()
    {
        var globex = await server.CreateVmAsync(server.Globex, Unique("globex"), tenant: "globex");
        var acme = await server.CreateVmAsync(server.Acme, Unique("acme"), tenant: "acme");
        var operation = (await server.PostAsync($"/runtimes/{globex}/lifecycle/snapshot", server.Globex)).Json!["id"]!.GetValue<string>();

        foreach (var (method, path) in RestPaths.RuntimePaths(globex).Append((HttpMethod.Get, $"/operations/{operation}")))
        {
            var response = await server.SendAsync(method, path, server.Acme, RestPaths.ValidBody(method, path));
            Assert.True(response.Status == HttpStatusCode.NotFound, $"{method} {path}: {response}");
            Assert.Equal("application/problem+json", response.MediaType);
        }

        var list = await server.GetAsync("/runtimes?page_size=200", server.Acme);
        Assert.Contains(list.Json!["items"]!.AsArray(), r => r!["id"]!.GetValue<string>() == acme);
        Assert.DoesNotContain(list.Json["items"]!.AsArray(), r => r!["id"]!.GetValue<string>() == globex);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/runtimes/{globex}", server.Globex)).Status);
    }

    [Fact]
    public async Task Viewer_EveryMutation_Is403_AndNothingChanges()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("view"));

        foreach (var (method, path) in RestPaths.Mutations(id))
        {
            var response = await server.SendAsync(method, path, server.Viewer, RestPaths.ValidBody(method, path));
            Assert.True(response.Status == HttpStatusCode.Forbidden, $"{method} {path}: {response}");
            Assert.Contains("needs the", response.Json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal("running", (await server.GetAsync($"/runtimes/{id}", server.Viewer)).Json!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task SameCall_OverRestAndMcp_SameDecisionAndAuditShape()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("same"));
        var rest = await server.PostAsync($"/runtimes/{id}/lifecycle/snapshot", server.Operator, """{"name": "same-1"}""");
        await using var mcp = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = server.Server.McpEndpoint!,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + server.Operator },
        }), cancellationToken: TestContext.Current.CancellationToken);
        var result = await mcp.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "same-2" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError != true);

        var restDoc = AuditDocs(rest.Header("RuntimeAI-Call-Id")!);
        var mcpDoc = AuditRows("snapshot_runtime", "same-2").Single();

        Assert.Equal("rest", restDoc["transport"]!.GetValue<string>());
        Assert.Equal("http", mcpDoc["transport"]!.GetValue<string>());
        Assert.Equal(Keys(mcpDoc), Keys(restDoc));
        foreach (var field in new[] { "tool", "tier", "principal", "principal_kind", "authenticated_by", "outcome", "runtime_id", "autonomy_level", "decision" })
        {
            Assert.True(JsonNode.DeepEquals(mcpDoc[field], restDoc[field]), $"{field}: mcp {mcpDoc[field]?.ToJsonString()} rest {restDoc[field]?.ToJsonString()}");
        }
    }

    [Fact]
    public async Task Extensions_RestoreAuditExportAndDiscovery()
    {
        var id = await server.CreateVmAsync(server.Operator, Unique("ext"));
        Assert.Equal(HttpStatusCode.Accepted, (await server.PostAsync($"/runtimes/{id}/lifecycle/snapshot", server.Operator, """{"name": "before"}""")).Status);

        var restore = await server.PostAsync($"/runtimes/{id}/lifecycle/restore", server.Operator, """{"snapshot": "before"}""");
        var trail = await server.GetAsync($"/audit?runtime_id={id}", server.Operator);
        var export = await server.GetAsync($"/audit/export?runtime_id={id}", server.Operator);
        var discoveryRefused = await server.PostAsync("/discovery", server.Operator);
        var discovery = await server.PostAsync("/discovery", server.Admin);

        Assert.True(restore.Status == HttpStatusCode.Accepted, restore.ToString());
        Assert.Equal("restore", restore.Json!["action"]!.GetValue<string>());
        Assert.Contains(trail.Json!["items"]!.AsArray(), r => r!["tool"]!.GetValue<string>() == "restore_snapshot");
        Assert.Equal("application/x-ndjson", export.MediaType);
        var lines = export.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Contains(lines, r => r["tool"]!.GetValue<string>() == "create_runtime");
        Assert.Equal(HttpStatusCode.Forbidden, discoveryRefused.Status);
        Assert.True(discovery.Status == HttpStatusCode.OK, discovery.ToString());
        Assert.NotNull(discovery.Json!["imported"]);
    }

    [Fact]
    public async Task Errors_AreProblemDetailsInTheToolsWords()
    {
        var badId = await server.GetAsync("/runtimes/rt_x", server.Viewer);
        var missing = await server.GetAsync("/runtimes/rt_00000000000000000000000000", server.Viewer);
        var badType = await server.GetAsync("/runtimes?type=cow", server.Viewer);
        var notJson = await server.PostAsync("/runtimes", server.Operator, "name=web");
        var unknownPath = await server.GetAsync("/nothing-here", server.Viewer);

        Assert.Equal(HttpStatusCode.BadRequest, badId.Status);
        Assert.Contains("does not match the pattern", badId.Json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("runtime 'rt_00000000000000000000000000' does not exist; call list_runtimes to find a valid runtime_id", missing.Json!["detail"]!.GetValue<string>());
        Assert.Contains("\"cow\" is not one of the allowed values", badType.Json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknownPath.Status);
        foreach (var problem in new[] { badId, missing, badType, notJson, unknownPath })
        {
            Assert.Equal("application/problem+json", problem.MediaType);
            Assert.Equal((int)problem.Status, problem.Json!["status"]!.GetValue<int>());
            Assert.StartsWith("https://runtimeai.dev/problems/", problem.Json["type"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    private static IEnumerable<string> Keys(JsonObject doc) => doc.Select(p => p.Key).Where(k => k is not ("arguments" or "reasoning" or "client" or "dry_run_summary")).Order(StringComparer.Ordinal);

    /// <summary>The audit record (begin and end merged) of one call.</summary>
    private JsonObject AuditDocs(string callId)
    {
        var merged = new JsonObject();
        foreach (var doc in Query("SELECT doc FROM audit_log WHERE call_id = $p ORDER BY seq", callId))
        {
            foreach (var part in new[] { doc["begin"], doc["end"] }.OfType<JsonObject>())
            {
                foreach (var (key, value) in part)
                {
                    merged[key] = value?.DeepClone();
                }
            }
        }

        Assert.True(merged.Count > 0, $"no audit record for {callId}");
        return merged;
    }

    /// <summary>The audit records of <paramref name="tool"/> whose text contains <paramref name="needle"/>.</summary>
    private List<JsonObject> AuditRows(string tool, string needle) =>
        CallIds(tool).Select(AuditDocs).Where(d => d.ToJsonString().Contains(needle, StringComparison.Ordinal)).ToList();

    private List<string> CallIds(string tool)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT call_id FROM audit_log WHERE tool = $p";
        command.Parameters.AddWithValue("$p", tool);
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private List<JsonObject> Query(string sql, string parameter)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$p", parameter);
        using var reader = command.ExecuteReader();
        var docs = new List<JsonObject>();
        while (reader.Read())
        {
            if (!reader.IsDBNull(0) && JsonNode.Parse(reader.GetString(0)) is JsonObject doc)
            {
                docs.Add(doc);
            }
        }

        return docs;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(server.DataDir, SqliteDatabase.FileName)};Mode=ReadOnly");
        connection.Open();
        return connection;
    }
}
