using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Identity;
using Role = RuntimeAI.Core.Identity.Role;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// Roles and tenants through the real MCP boundary: a principal without the tool's role is
/// refused, and another tenant's runtimes, events, operations and proposals do not exist for it.
/// </summary>
public sealed class AuthorizationTests
{
    private sealed record Seeded(string AcmeRuntime, string GlobexRuntime, string AcmeOperation, string GlobexOperation);

    private static Principal Scoped(string name, IEnumerable<Role> roles, params string[] tenants) => new()
    {
        Name = name,
        Kind = PrincipalKind.Agent,
        Roles = roles.ToHashSet(),
        Tenants = tenants,
        AuthenticatedBy = "api_key",
        Identities = [name],
    };

    private static async Task<Seeded> SeedAsync(string dataDir)
    {
        using var db = SqliteDatabase.Open(dataDir);
        var inventory = new SqliteRuntimeInventory(db);
        var ids = new IdGenerator(TimeProvider.System);
        var now = TimeProvider.System.GetUtcNow();
        var result = new List<string>();
        foreach (var tenant in new[] { "acme", "globex" })
        {
            var runtime = new Runtime
            {
                Id = ids.New("rt"), Name = $"{tenant}-web", Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = tenant,
                Labels = new Dictionary<string, string> { ["env"] = "dev" }, Spec = new RuntimeSpec { Size = "small" }, CreatedAt = now,
            };
            await inventory.SaveRuntimeAsync(runtime, "seed", CancellationToken.None);
            await inventory.AppendEventAsync(new RuntimeEvent { Id = ids.New("ev"), RuntimeId = runtime.Id, Type = $"lifecycle.{tenant}", Ts = now }, CancellationToken.None);
            var operation = new Operation { OperationId = ids.New("op"), Status = OperationStatus.Succeeded, RuntimeId = runtime.Id, Action = "start", CreatedAt = now };
            await inventory.SaveOperationAsync(operation, CancellationToken.None);
            result.Add(runtime.Id);
            result.Add(operation.OperationId);
        }

        return new Seeded(result[0], result[2], result[1], result[3]);
    }

    /// <summary>
    /// A session on the seeded inventory with a private, empty libvirt test world: the shared
    /// <c>test:///default</c> world holds what other test classes running at the same time create,
    /// which discovery would import into this inventory.
    /// </summary>
    private static async Task<InProcessSession> StartAsync(string dataDir, Principal principal, AutonomyLevel autonomy = AutonomyLevel.Autonomous)
    {
        var world = Path.Combine(dataDir, "empty-world.xml");
        await File.WriteAllTextAsync(world, "<node/>");
        var options = new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = autonomy, LocalPrincipal = principal };
        options.Libvirt.Add("test://" + world);
        return await InProcessSession.StartAsync(options, CancellationToken.None);
    }

    private static Dictionary<string, object?> Args(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!.ToDictionary(p => p.Key, p => (object?)p.Value);

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static async Task<CallToolResult> CallAsync(McpClient client, string tool, string args) => await client.CallToolAsync(tool, Args(args));

    [Fact]
    public async Task Viewer_ExecuteAndRecommendTools_AreRefusedAndHidden()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await SeedAsync(dataDir);
        await using var session = await StartAsync(dataDir, Scoped("key:watcher", [Role.Viewer], "acme"));

        var stop = await CallAsync(session.Client, "stop_runtime", $$"""{"runtime_id": "{{seeded.AcmeRuntime}}"}""");
        var draft = await CallAsync(session.Client, "draft_recommendation", """{"title": "scale up", "severity": "info", "reasoning": "load is high"}""");
        var tools = (await session.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name).ToList();
        var list = await CallAsync(session.Client, "list_runtimes", "{}");

        Assert.True(stop.IsError);
        Assert.Contains("'stop_runtime' needs the operator role; you are 'key:watcher' with roles viewer", Text(stop), StringComparison.Ordinal);
        Assert.True(draft.IsError);
        Assert.Contains("needs the operator role", Text(draft), StringComparison.Ordinal);
        Assert.DoesNotContain("stop_runtime", tools);
        Assert.DoesNotContain("draft_recommendation", tools);
        Assert.Contains("get_runtime", tools);
        Assert.True(list.IsError != true, Text(list));
    }

    [Fact]
    public async Task Completion_RuntimeIdOfTriagePrompt_SuggestsOnlyTheCallersTenantsRuntimes()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await SeedAsync(dataDir);
        await using var session = await StartAsync(dataDir, Scoped("key:watcher", [Role.Viewer], "acme"));
        var ct = TestContext.Current.CancellationToken;

        var all = await session.Client.CompleteAsync(new PromptReference { Name = "triage_runtime" }, "runtime_id", "rt", cancellationToken: ct);
        var typed = await session.Client.CompleteAsync(new PromptReference { Name = "triage_runtime" }, "runtime_id", seeded.AcmeRuntime[..8].ToUpperInvariant(), cancellationToken: ct);
        var template = await session.Client.CompleteAsync(new ResourceTemplateReference { Uri = "runtime://{runtime_id}" }, "runtime_id", "", cancellationToken: ct);
        var otherArgument = await session.Client.CompleteAsync(new PromptReference { Name = "plan_change" }, "goal", "sc", cancellationToken: ct);

        Assert.Equal([seeded.AcmeRuntime], all.Completion.Values);
        Assert.Equal(1, all.Completion.Total);
        Assert.False(all.Completion.HasMore);
        Assert.Contains(seeded.AcmeRuntime, typed.Completion.Values);
        Assert.DoesNotContain(seeded.GlobexRuntime, template.Completion.Values);
        Assert.Contains(seeded.AcmeRuntime, template.Completion.Values);
        Assert.Empty(otherArgument.Completion.Values);
    }

    [Fact]
    public async Task NoRole_EveryToolIsRefused()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await StartAsync(dataDir, Scoped("client:nobody", [], "acme"));

        var list = await CallAsync(session.Client, "list_runtimes", "{}");
        var tools = await session.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(list.IsError);
        Assert.Contains("you are 'client:nobody' with no role", Text(list), StringComparison.Ordinal);
        Assert.Empty(tools);
    }

    [Fact]
    public async Task Operator_PolicyAdminTools_AreRefused()
    {
        await using var session = await StartAsync(TestPaths.NewDataDir(), Scoped("key:ops", [Role.Operator], "acme"));

        var put = await CallAsync(session.Client, "put_policy", """{"policy": {"id": "p", "name": "p", "rules": [{"id": "r", "kind": "allow_action"}]}}""");

        Assert.True(put.IsError);
        Assert.Contains("'put_policy' needs the admin role", Text(put), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantScoped_OtherTenantsRuntimesEventsAndOperations_AreNotFound()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await SeedAsync(dataDir);
        await using var session = await StartAsync(dataDir, Scoped("key:acme-bot", [Role.Operator], "acme"));

        var list = await CallAsync(session.Client, "list_runtimes", "{}");
        var listGlobex = await CallAsync(session.Client, "list_runtimes", """{"tenant_id": "globex"}""");
        var get = await CallAsync(session.Client, "get_runtime", $$"""{"runtime_id": "{{seeded.GlobexRuntime}}"}""");
        var missing = await CallAsync(session.Client, "get_runtime", """{"runtime_id": "rt_00000000000000000000000000"}""");
        var events = await CallAsync(session.Client, "get_events", "{}");
        var globexEvents = await CallAsync(session.Client, "get_events", $$"""{"runtime_id": "{{seeded.GlobexRuntime}}"}""");
        var operation = await CallAsync(session.Client, "get_operation", $$"""{"operation_id": "{{seeded.GlobexOperation}}"}""");
        var ownOperation = await CallAsync(session.Client, "get_operation", $$"""{"operation_id": "{{seeded.AcmeOperation}}"}""");
        var stop = await CallAsync(session.Client, "stop_runtime", $$"""{"runtime_id": "{{seeded.GlobexRuntime}}"}""");
        var rollback = await CallAsync(session.Client, "rollback_operation", $$"""{"operation_id": "{{seeded.GlobexOperation}}"}""");
        var resource = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() =>
            session.Client.ReadResourceAsync("runtimeai://runtimes/" + seeded.GlobexRuntime, cancellationToken: TestContext.Current.CancellationToken).AsTask());

        var names = list.StructuredContent!.Value.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["acme-web"], names);
        Assert.Empty(listGlobex.StructuredContent!.Value.GetProperty("items").EnumerateArray());
        Assert.True(get.IsError);
        // Not found, worded exactly as for an id that never existed: the id leaks nothing.
        Assert.Equal(Text(missing).Replace("rt_00000000000000000000000000", seeded.GlobexRuntime, StringComparison.Ordinal), Text(get));
        var eventTypes = events.StructuredContent!.Value.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(["lifecycle.acme"], eventTypes);
        Assert.True(globexEvents.IsError);
        Assert.Contains("does not exist", Text(globexEvents), StringComparison.Ordinal);
        Assert.True(operation.IsError);
        Assert.Contains("does not exist", Text(operation), StringComparison.Ordinal);
        Assert.True(ownOperation.IsError != true, Text(ownOperation));
        Assert.True(stop.IsError);
        Assert.Contains("does not exist", Text(stop), StringComparison.Ordinal);
        Assert.True(rollback.IsError);
        Assert.Contains("does not exist", Text(rollback), StringComparison.Ordinal);
        Assert.Contains("does not exist", resource.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantScoped_DryRun_CountsAnotherTenantsDependentsWithoutNamingThem()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await SeedAsync(dataDir);
        using (var db = SqliteDatabase.Open(dataDir))
        {
            var inventory = new SqliteRuntimeInventory(db);
            foreach (var (name, tenant) in new[] { ("acme-app", "acme"), ("globex-secret-app", "globex") })
            {
                await inventory.SaveRuntimeAsync(new Runtime
                {
                    Id = new IdGenerator(TimeProvider.System).New("rt"), Name = name, Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = tenant,
                    Labels = new Dictionary<string, string> { [RuntimeAI.Core.Governance.DryRunSimulator.DependsOnLabel] = seeded.AcmeRuntime },
                    Spec = new RuntimeSpec { Size = "small" }, CreatedAt = TimeProvider.System.GetUtcNow(),
                }, "seed", CancellationToken.None);
            }
        }

        CallToolResult scoped;
        await using (var acme = await StartAsync(dataDir, Scoped("key:acme-bot", [Role.Operator], "acme")))
        {
            scoped = await CallAsync(acme.Client, "stop_runtime", $$"""{"runtime_id": "{{seeded.AcmeRuntime}}", "dry_run": true}""");
        }

        await using var admin = await StartAsync(dataDir, Scoped("key:admin", [Role.Operator]) with { AllTenants = true });
        var unscoped = await CallAsync(admin.Client, "stop_runtime", $$"""{"runtime_id": "{{seeded.AcmeRuntime}}", "dry_run": true}""");

        var simulation = scoped.StructuredContent!.Value.GetProperty("simulations")[0];
        var named = simulation.GetProperty("blast_radius").GetProperty("dependents").EnumerateArray().Select(d => d.GetString()!).ToList();
        Assert.Contains("acme-app", Assert.Single(named), StringComparison.Ordinal);
        var notes = simulation.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToList();
        Assert.Contains("2 runtime(s) depend on it and may be interrupted", notes);
        Assert.Contains("1 runtime(s) that depend on it are in tenants you cannot see (counted, not named)", notes);
        Assert.DoesNotContain("globex", scoped.StructuredContent!.Value.GetRawText(), StringComparison.Ordinal);
        // A caller who sees every tenant gets both, named.
        var all = unscoped.StructuredContent!.Value.GetProperty("simulations")[0].GetProperty("blast_radius").GetProperty("dependents");
        Assert.Equal(2, all.GetArrayLength());
        Assert.Contains("globex-secret-app", all.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantScoped_CreateInAnotherTenant_IsForbiddenAndWithoutTenantLandsInItsOwn()
    {
        var dataDir = TestPaths.NewDataDir();
        var allow = TestPaths.NewDataDir();
        await File.WriteAllTextAsync(Path.Combine(allow, "allow.yaml"), "id: allow\nrules:\n  - id: allow-everything\n    kind: allow_action\n", TestContext.Current.CancellationToken);
        await using var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = allow,
            LocalPrincipal = Scoped("key:acme-bot", [Role.Operator], "acme"),
        }, CancellationToken.None);

        var foreign = await CallAsync(session.Client, "create_runtime", """{"name": "sneaky", "type": "vm", "tenant_id": "globex"}""");
        var own = await CallAsync(session.Client, "create_runtime", """{"name": "mine", "type": "vm"}""");

        Assert.True(foreign.IsError);
        Assert.Contains("'key:acme-bot' may not act in tenant 'globex'", Text(foreign), StringComparison.Ordinal);
        Assert.True(own.IsError != true, Text(own));
        var runtimeId = own.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
        var runtime = await CallAsync(session.Client, "get_runtime", $$"""{"runtime_id": "{{runtimeId}}"}""");
        Assert.Equal("acme", runtime.StructuredContent!.Value.GetProperty("tenant_id").GetString());
    }

    [Fact]
    public async Task TenantScoped_OtherTenantsProposals_AreNotFound()
    {
        var dataDir = TestPaths.NewDataDir();
        var seeded = await SeedAsync(dataDir);
        string proposalId;
        await using (var globex = await StartAsync(dataDir, Scoped("key:globex-bot", [Role.Operator], "globex"), AutonomyLevel.Copilot))
        {
            var pending = await CallAsync(globex.Client, "stop_runtime", $$"""{"runtime_id": "{{seeded.GlobexRuntime}}"}""");
            Assert.True(pending.IsError != true, Text(pending));
            proposalId = pending.StructuredContent!.Value.GetProperty("proposal_id").GetString()!;
            var own = await CallAsync(globex.Client, "get_proposal", $$"""{"proposal_id": "{{proposalId}}"}""");
            Assert.True(own.IsError != true, Text(own));
        }

        await using var acme = await StartAsync(dataDir, Scoped("key:acme-bot", [Role.Operator], "acme"), AutonomyLevel.Copilot);
        var other = await CallAsync(acme.Client, "get_proposal", $$"""{"proposal_id": "{{proposalId}}"}""");

        Assert.True(other.IsError);
        Assert.Contains("does not exist", Text(other), StringComparison.Ordinal);
    }
}
