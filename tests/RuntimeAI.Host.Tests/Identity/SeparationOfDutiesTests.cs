using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using Role = RuntimeAI.Core.Identity.Role;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// Approvals a requester cannot give itself, on every channel, with the real <c>runtimeai approve</c>:
/// the OS user behind a stdio agent, the requester's own key, a key without the approver role;
/// N of M distinct approvers; the approver's identity and channel recorded; a proposal becomes
/// executed only when its run succeeds, failed when it does not.
/// </summary>
public sealed class SeparationOfDutiesTests
{
    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static Principal Agent(string name, params string[] identities) => new()
    {
        Name = name,
        Kind = PrincipalKind.Agent,
        Roles = new HashSet<Role> { Role.Operator },
        AllTenants = true,
        AuthenticatedBy = "test",
        Identities = [name, .. identities],
    };

    private static Task<InProcessSession> StartAsync(string dataDir, AutonomyLevel autonomy, Principal principal, McpClientHandlers? handlers = null) =>
        InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = autonomy, Sandbox = true, PoliciesDir = TestPolicies.AllowAll(), LocalPrincipal = principal,
        }, handlers, CancellationToken.None);

    private static async Task<string> CreateAsync(McpClient client)
    {
        var result = await client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "s-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm" });
        Assert.True(result.IsError != true, Text(result));
        return result.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
    }

    private static async Task<string> ProposeAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var pending = await client.CallToolAsync(tool, args);
        Assert.True(pending.IsError != true, Text(pending));
        Assert.Equal("pending_approval", pending.StructuredContent!.Value.GetProperty("status").GetString());
        return pending.StructuredContent!.Value.GetProperty("proposal_id").GetString()!;
    }

    private static async Task<string> KeyAsync(string dataDir, string name, params string[] roles)
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync(["keys", "create", "--name", name, "--data-dir", dataDir, .. roles.SelectMany(r => new[] { "--role", r })]);
        Assert.True(code == 0, stderr);
        return stdout.Trim();
    }

    private static async Task<JsonElement> ProposalAsync(McpClient client, string id) =>
        (await client.CallToolAsync("get_proposal", new Dictionary<string, object?> { ["proposal_id"] = id })).StructuredContent!.Value;

    [Fact]
    public async Task CliApprove_ByTheOsUserBehindTheRequestingStdioAgent_IsRefused()
    {
        var dataDir = TestPaths.NewDataDir();
        // The agent runs on stdio as this OS user: its human at the keyboard is the same party.
        var stdioAgent = Principal.Local("stdio:" + Environment.UserName, PrincipalKind.Agent, Environment.UserName, [Role.Operator]);
        await using var creator = await StartAsync(dataDir, AutonomyLevel.Autonomous, TestPrincipals.Agent);
        var id = await CreateAsync(creator.Client);
        await using var agent = await StartAsync(dataDir, AutonomyLevel.Copilot, stdioAgent);
        var proposalId = await ProposeAsync(agent.Client, "stop_runtime", new() { ["runtime_id"] = id, ["force"] = true });

        var (code, _, stderr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir);
        var (rejectCode, _, rejectErr) = await ServerProcess.RunAsync("reject", proposalId, "--data-dir", dataDir);

        Assert.Equal(1, code);
        Assert.Contains($"'human:{Environment.UserName}' is the requester of '{proposalId}'", stderr, StringComparison.Ordinal);
        Assert.Equal(1, rejectCode);
        Assert.Contains("is the requester", rejectErr, StringComparison.Ordinal);
        Assert.Equal("pending", (await ProposalAsync(agent.Client, proposalId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task CliApprove_WithTheRequestersOwnKey_OrWithoutApproverRole_IsRefused_AnApproverKeyApproves()
    {
        var dataDir = TestPaths.NewDataDir();
        var botKey = await KeyAsync(dataDir, "bot", "operator");
        var viewerKey = await KeyAsync(dataDir, "watcher", "viewer");
        var approverKey = await KeyAsync(dataDir, "carol", "approver");
        var bot = await KeysCommand.AuthenticateAsync(new RuntimeAI.Mcp.Hosting.RuntimeAiServerOptions { DataDir = dataDir }, botKey, CancellationToken.None);
        await using var creator = await StartAsync(dataDir, AutonomyLevel.Autonomous, TestPrincipals.Agent);
        var id = await CreateAsync(creator.Client);
        await using var agent = await StartAsync(dataDir, AutonomyLevel.Copilot, bot);
        var proposalId = await ProposeAsync(agent.Client, "stop_runtime", new() { ["runtime_id"] = id, ["force"] = true });

        var self = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", botKey);
        var viewer = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", viewerKey);
        var approver = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", approverKey, "--reason", "window");

        Assert.Equal(1, self.ExitCode);
        Assert.Contains("'key:bot' is the requester", self.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, viewer.ExitCode);
        Assert.Contains("'key:watcher' does not have the approver role", viewer.Stderr, StringComparison.Ordinal);
        Assert.True(approver.ExitCode == 0, approver.Stderr);
        var approved = await ProposalAsync(agent.Client, proposalId);
        Assert.Equal("approved", approved.GetProperty("status").GetString());
        var record = Assert.Single(approved.GetProperty("approvals").EnumerateArray());
        Assert.Equal("key:carol", record.GetProperty("by").GetString());
        Assert.Equal("approver", record.GetProperty("channel").GetString());
        Assert.Equal("api_key", record.GetProperty("authenticated_by").GetString());

        var run = await agent.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(run.IsError != true, Text(run));
        Assert.Equal("executed", (await ProposalAsync(agent.Client, proposalId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task TenantScopedApprover_DoesNotSeeOrDecideAnotherTenantsProposal()
    {
        var dataDir = TestPaths.NewDataDir();
        var acmeApprover = await KeyAsync(dataDir, "acme-carol", "approver");
        var (code, _, stderr) = await ServerProcess.RunAsync("keys", "revoke", "acme-carol", "--data-dir", dataDir);
        Assert.True(code == 0, stderr);
        var (created, scopedKey, createErr) = await ServerProcess.RunAsync("keys", "create", "--name", "acme-carol", "--role", "approver", "--tenant", "acme", "--data-dir", dataDir);
        Assert.True(created == 0, createErr);
        await using var creator = await StartAsync(dataDir, AutonomyLevel.Autonomous, TestPrincipals.Agent);
        var id = await CreateAsync(creator.Client);
        await using var agent = await StartAsync(dataDir, AutonomyLevel.Copilot, TestPrincipals.Agent);
        var proposalId = await ProposeAsync(agent.Client, "stop_runtime", new() { ["runtime_id"] = id, ["force"] = true });

        var listed = await ServerProcess.RunAsync("proposals", "--data-dir", dataDir, "--api-key", scopedKey.Trim());
        var approve = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", scopedKey.Trim());
        var revoked = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", acmeApprover);

        Assert.DoesNotContain(proposalId, listed.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, approve.ExitCode);
        Assert.Contains($"proposal '{proposalId}' does not exist", approve.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, revoked.ExitCode);
        Assert.Contains("was revoked", revoked.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SharedIdentity_AUserTokenThroughTheRequestingClient_CannotApprove()
    {
        var requester = new Core.Governance.Proposal
        {
            ProposalId = "prp_x", Status = Core.Governance.ProposalStatus.Pending, Title = "t", Digest = "d",
            ProposedBy = "client:agent-7", RequesterIdentities = ["client:agent-7"], CreatedAt = TimeProvider.System.GetUtcNow(),
        };
        var userThroughSameClient = new Principal
        {
            Name = "user:alice", Kind = PrincipalKind.Human, Roles = new HashSet<Role> { Role.Approver }, AllTenants = true,
            AuthenticatedBy = "jwt", Identities = ["user:alice", "client:agent-7"],
        };
        var otherUser = userThroughSameClient with { Name = "user:bob", Identities = ["user:bob", "client:console"] };

        Assert.Contains("is the requester", Core.Governance.ApprovalDecider.Refusal(requester, userThroughSameClient, [null]), StringComparison.Ordinal);
        Assert.Null(Core.Governance.ApprovalDecider.Refusal(requester, otherUser, [null]));
    }

    [Fact]
    public async Task SagaAcrossTenants_IsHiddenFromAnApproverOfOneTenant_DecidedByOneWhoSeesBoth_AuditedUnderEachRuntime()
    {
        var dataDir = TestPaths.NewDataDir();
        var (code, acmeOnly, stderr) = await ServerProcess.RunAsync("keys", "create", "--name", "acme-carol", "--role", "approver", "--tenant", "acme", "--data-dir", dataDir);
        Assert.True(code == 0, stderr);
        (code, var both, stderr) = await ServerProcess.RunAsync("keys", "create", "--name", "dave", "--role", "approver", "--tenant", "acme", "--tenant", "globex", "--data-dir", dataDir);
        Assert.True(code == 0, stderr);
        await using var creator = await StartAsync(dataDir, AutonomyLevel.Autonomous, TestPrincipals.Agent);
        async Task<string> CreateInAsync(string tenant)
        {
            var result = await creator.Client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "t-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm", ["tenant_id"] = tenant });
            Assert.True(result.IsError != true, Text(result));
            return result.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
        }

        var (acme, globex) = (await CreateInAsync("acme"), await CreateInAsync("globex"));
        await using var agent = await StartAsync(dataDir, AutonomyLevel.Copilot, TestPrincipals.Agent);
        // The saga's first step is on acme's runtime; its second changes globex's.
        var proposalId = await ProposeAsync(agent.Client, "execute_actions", new()
        {
            ["runtime_id"] = acme,
            ["actions"] = new object[]
            {
                new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "a" } },
                new Dictionary<string, object?> { ["type"] = "stop", ["runtime_id"] = globex, ["params"] = new Dictionary<string, object?> { ["force"] = true } },
            },
        });

        var listed = await ServerProcess.RunAsync("proposals", "--data-dir", dataDir, "--api-key", acmeOnly.Trim());
        var refused = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", acmeOnly.Trim());
        var approved = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", both.Trim());
        var underGlobex = (await agent.Client.CallToolAsync("get_audit_trail", new Dictionary<string, object?> { ["runtime_id"] = globex, ["tool"] = "execute_actions" }, cancellationToken: TestContext.Current.CancellationToken)).StructuredContent!.Value;

        Assert.DoesNotContain(proposalId, listed.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"proposal '{proposalId}' does not exist", refused.Stderr, StringComparison.Ordinal);
        Assert.True(approved.ExitCode == 0, approved.Stderr);
        Assert.Equal("pending_approval", Assert.Single(underGlobex.GetProperty("items").EnumerateArray()).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task TwoOfM_NeedsTwoDistinctApprovers()
    {
        var dataDir = TestPaths.NewDataDir();
        var carol = await KeyAsync(dataDir, "carol", "approver");
        var dave = await KeyAsync(dataDir, "dave", "approver");
        await using var creator = await StartAsync(dataDir, AutonomyLevel.Autonomous, TestPrincipals.Agent);
        var id = await CreateAsync(creator.Client);
        await using var agent = await InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = AutonomyLevel.Copilot, Sandbox = true, PoliciesDir = TestPolicies.AllowAll(),
            LocalPrincipal = TestPrincipals.Agent, ApprovalsRequired = 2,
        }, CancellationToken.None);
        var proposalId = await ProposeAsync(agent.Client, "restart_runtime", new() { ["runtime_id"] = id });

        var first = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", carol);
        var afterFirst = (await ProposalAsync(agent.Client, proposalId)).GetProperty("status").GetString();
        var again = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", carol);
        var early = await agent.Client.CallToolAsync("restart_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        var second = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", dave);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("1 of 2 approvals", first.Stderr, StringComparison.Ordinal);
        Assert.Equal("pending", afterFirst);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("'key:carol' already approved", again.Stderr, StringComparison.Ordinal);
        Assert.True(early.IsError);
        Assert.True(second.ExitCode == 0, second.Stderr);
        var approved = await ProposalAsync(agent.Client, proposalId);
        Assert.Equal("approved", approved.GetProperty("status").GetString());
        Assert.Equal(["key:carol", "key:dave"], approved.GetProperty("approvals").EnumerateArray().Select(a => a.GetProperty("by").GetString()!).ToArray());
    }

    [Fact]
    public async Task ApprovedRunThatFails_MarksTheProposalFailed_NotExecuted()
    {
        var dataDir = TestPaths.NewDataDir();
        var approverKey = await KeyAsync(dataDir, "carol", "approver");
        await using var creator = await StartAsync(dataDir, AutonomyLevel.Autonomous, TestPrincipals.Agent);
        var id = await CreateAsync(creator.Client);
        await using var agent = await StartAsync(dataDir, AutonomyLevel.Copilot, TestPrincipals.Agent);
        var args = new Dictionary<string, object?> { ["runtime_id"] = id, ["snapshot"] = "never-taken" };
        var proposalId = await ProposeAsync(agent.Client, "restore_snapshot", args);
        var approve = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", approverKey);
        Assert.True(approve.ExitCode == 0, approve.Stderr);

        var run = await agent.Client.CallToolAsync("restore_snapshot", new Dictionary<string, object?>(args) { ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);
        var retry = await agent.Client.CallToolAsync("restore_snapshot", new Dictionary<string, object?>(args) { ["proposal_id"] = proposalId }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(run.IsError, Text(run));
        var proposal = await ProposalAsync(agent.Client, proposalId);
        Assert.Equal("failed", proposal.GetProperty("status").GetString());
        Assert.Contains("never-taken", proposal.GetProperty("execution_error").GetString(), StringComparison.Ordinal);
        Assert.True(retry.IsError);
        Assert.Contains("failed", Text(retry), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DestructiveChange_WithAnElicitingClient_GoesToTheApproverChannel_NotTheClient()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var creator = await StartAsync(dataDir, AutonomyLevel.Autonomous, TestPrincipals.Agent);
        var id = await CreateAsync(creator.Client);
        var prompts = 0;
        var autoAccept = new McpClientHandlers
        {
            ElicitationHandler = (_, _) =>
            {
                Interlocked.Increment(ref prompts);
                return ValueTask.FromResult(new ElicitResult
                {
                    Action = "accept",
                    Content = new Dictionary<string, JsonElement> { ["approve"] = JsonSerializer.SerializeToElement(true) },
                });
            },
        };
        await using var agent = await StartAsync(dataDir, AutonomyLevel.Copilot, TestPrincipals.Agent, autoAccept);

        var result = await agent.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["force"] = true }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, prompts);
        Assert.Equal("pending_approval", result.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Equal("approver", result.StructuredContent!.Value.GetProperty("approval_channel").GetString());
    }
}
