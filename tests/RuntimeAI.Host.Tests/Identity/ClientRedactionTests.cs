using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// Secrets never reach a client: driver messages in operation errors and event data, the reasoning
/// echoed in an approval prompt; and the files that guard the server are the owner's alone.
/// </summary>
public sealed class ClientRedactionTests
{
    private const string GitHubToken = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    private const string UrlPassword = "hunter2-swordfish";

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    [Fact]
    public async Task OperationErrorsAndEventData_AreRedactedInWhatTheClientSees()
    {
        var dataDir = TestPaths.NewDataDir();
        var ids = new IdGenerator(TimeProvider.System);
        var now = TimeProvider.System.GetUtcNow();
        var runtimeId = ids.New("rt");
        var operationId = ids.New("op");
        using (var db = SqliteDatabase.Open(dataDir))
        {
            var inventory = new SqliteRuntimeInventory(db);
            await inventory.SaveRuntimeAsync(new Runtime
            {
                Id = runtimeId, Name = "leaky", Type = RuntimeType.Vm, State = RuntimeState.Error, Spec = new RuntimeSpec { Size = "nano" }, CreatedAt = now,
            }, "seed", CancellationToken.None);
            var driverMessage = $"backend said: cannot reach https://admin:{UrlPassword}@db.example.com (token {GitHubToken})";
            await inventory.SaveOperationAsync(new Operation
            {
                OperationId = operationId, Status = OperationStatus.Failed, RuntimeId = runtimeId, Action = "start", CreatedAt = now,
                Error = new OperationError("backend_error", driverMessage),
            }, CancellationToken.None);
            await inventory.AppendEventAsync(new RuntimeEvent
            {
                Id = ids.New("ev"), RuntimeId = runtimeId, Type = "lifecycle.start_failed", Ts = now, Data = new JsonObject { ["error"] = driverMessage },
            }, CancellationToken.None);
        }

        await using var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = dataDir }, CancellationToken.None);
        var operation = await session.Client.CallToolAsync("get_operation", new Dictionary<string, object?> { ["operation_id"] = operationId }, cancellationToken: TestContext.Current.CancellationToken);
        var events = await session.Client.CallToolAsync("get_events", new Dictionary<string, object?> { ["runtime_id"] = runtimeId }, cancellationToken: TestContext.Current.CancellationToken);

        foreach (var result in new[] { operation, events })
        {
            var seen = Text(result) + JsonSerializer.Serialize(result.StructuredContent);
            Assert.DoesNotContain(GitHubToken, seen, StringComparison.Ordinal);
            Assert.DoesNotContain(UrlPassword, seen, StringComparison.Ordinal);
            Assert.Contains("[REDACTED]", seen, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ApprovalPrompt_RedactsTheAgentsReasoning()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var creator = await InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = TestPolicies.AllowAll(), LocalPrincipal = TestPrincipals.Agent,
        }, CancellationToken.None);
        var created = await creator.Client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "r-" + Guid.NewGuid().ToString("N")[..10], ["type"] = "vm" }, cancellationToken: TestContext.Current.CancellationToken);
        var id = created.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
        var prompts = new List<string>();
        await using var session = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = AutonomyLevel.Copilot, Sandbox = true, PoliciesDir = TestPolicies.AllowAll(), LocalPrincipal = TestPrincipals.Agent },
            new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    prompts.Add(request!.Message);
                    return ValueTask.FromResult(new ElicitResult { Action = "decline" });
                },
            }, CancellationToken.None);

        await session.Client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?>
        {
            ["runtime_id"] = id, ["name"] = "s1", ["reasoning"] = $"use token {GitHubToken} to log in",
        }, cancellationToken: TestContext.Current.CancellationToken);

        var prompt = Assert.Single(prompts);
        Assert.DoesNotContain(GitHubToken, prompt, StringComparison.Ordinal);
        Assert.Contains("use token [REDACTED]", prompt, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ApprovalKeyReadableByOthers_RefusesTheStart()
    {
        var dataDir = TestPaths.NewDataDir();
        var key = Path.Combine(dataDir, "mrtr.key");
        await File.WriteAllBytesAsync(key, new byte[32], TestContext.Current.CancellationToken);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = dataDir }, CancellationToken.None));

        Assert.Contains($"the approval key {key} is readable or writable by other users", error.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void NewDataDirAndDatabase_AreOwnerOnly()
    {
        var dataDir = Path.Combine(TestPaths.NewDataDir(), "fresh");

        using (SqliteDatabase.Open(dataDir))
        {
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDir, SqliteDatabase.FileName)));
    }
}
