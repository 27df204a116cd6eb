using ModelContextProtocol.Protocol;
using Npgsql;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// <c>runtimeai store migrate</c> run as the real executable: an installation made by real tool
/// calls on SQLite is copied into an empty PostgreSQL schema; the copy verifies (same audit head),
/// a server on PostgreSQL sees its runtimes, proposals and policies, and a second copy into the
/// same database is refused.
/// </summary>
public sealed class StoreMigrateTests
{
    [Fact]
    public async Task Migrate_SqliteInstallation_ToEmptyPostgres_CopyVerifies_ServerOnPostgresSeesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var admin = Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip("RUNTIMEAI_TEST_POSTGRES is not set: no PostgreSQL to migrate into (scripts/test.sh sets it; by hand: export RUNTIMEAI_TEST_POSTGRES=\"$(scripts/postgres.sh start)\")");
        }

        var dataDir = TestPaths.NewDataDir();
        var policies = TestPolicies.AllowAll();
        string runtimeId;
        await using (var session = await InProcessSession.StartAsync(
            new RuntimeAiServerOptions { DataDir = dataDir, Sandbox = true, Autonomy = AutonomyLevel.Autonomous, PoliciesDir = policies }, ct))
        {
            var created = await session.Client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "moved", ["type"] = "vm" }, cancellationToken: ct);
            Assert.True(created.IsError != true);
            runtimeId = created.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
            var snap = await session.Client.CallToolAsync("execute_actions", new Dictionary<string, object?>
            {
                ["runtime_id"] = runtimeId, ["idempotency_key"] = "mv-1",
                ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "before-move" } } },
            }, cancellationToken: ct);
            Assert.True(snap.IsError != true);
        }

        using (var db = SqliteDatabase.Open(dataDir))
        {
            await new SqlitePolicyStore(db, TimeProvider.System).PutAsync("stored-1", "a stored policy", """{"id":"stored-1","name":"a stored policy","rules":[{"id":"r1","kind":"allow_action"}]}""", "admin:ann", ct);
            await new SqliteProposalStore(db).SaveAsync(new Proposal
            {
                ProposalId = "prp_moved", Status = ProposalStatus.Pending, Title = "stop_runtime moved", Digest = "d", ProposedBy = "agent:bot",
                RequiredApprovals = 1, CreatedAt = DateTimeOffset.UnixEpoch, RuntimeId = runtimeId,
            }, ct);
        }

        var (code, sourceVerify, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        Assert.True(code == 0, stderr);
        var schema = "mv_" + Guid.NewGuid().ToString("N");
        await PostgresServerTests.ExecuteAsync(admin, $"CREATE SCHEMA {schema}", ct);
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString;
            var connectionFile = Path.Combine(TestPaths.NewDataDir(), "pg.conn");
            File.WriteAllText(connectionFile, connection);

            (code, var stdout, stderr) = await ServerProcess.RunAsync("store", "migrate", "--from", "sqlite:" + dataDir, "--to", "postgres:" + connectionFile);

            Assert.True(code == 0, $"store migrate exited {code}: {stderr}");
            var head = sourceVerify.Split("head ")[1].Trim();
            Assert.Contains("1 policies", stdout, StringComparison.Ordinal);
            Assert.Contains("1 proposals", stdout, StringComparison.Ordinal);
            Assert.Contains($"audit chain intact on the target, head {head}", stdout, StringComparison.Ordinal);
            var config = Path.Combine(TestPaths.NewDataDir(), "runtimeai.json");
            File.WriteAllText(config, $$"""{ "store": "postgres", "postgres": { "connection_string_file": "{{connectionFile}}" } }""");
            (code, var targetVerify, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", config, "--expect-head", head);
            Assert.True(code == 0, stderr);
            Assert.Equal(sourceVerify, targetVerify);

            await using (var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions
            {
                DataDir = TestPaths.NewDataDir(), Store = "postgres", PostgresConnectionString = connection, Sandbox = true, Autonomy = AutonomyLevel.Autonomous, PoliciesDir = policies,
            }, ct))
            {
                var got = await session.Client.CallToolAsync("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = runtimeId }, cancellationToken: ct);
                Assert.True(got.IsError != true, string.Join(' ', got.Content.OfType<TextContentBlock>().Select(t => t.Text)));
                Assert.Equal("moved", got.StructuredContent!.Value.GetProperty("name").GetString());
            }

            var after = await PostgresServerTests.ReadAuditAsync(admin, schema, ct);
            Assert.True(AuditChain.Verify(after).Ok);
            Assert.Contains(after, r => r.Begin.Tool == "execute_actions" && r.End.RuntimeId == runtimeId);

            (code, _, stderr) = await ServerProcess.RunAsync("store", "migrate", "--from", "sqlite:" + dataDir, "--to", "postgres:" + connectionFile);
            Assert.Equal(2, code);
            Assert.Contains("the target database already holds RuntimeAI data", stderr, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresServerTests.ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE", CancellationToken.None);
        }
    }

    [Fact]
    public async Task Migrate_ConnectionStringOnTheCommandLine_IsRefused()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("store", "migrate", "--from", "sqlite:" + TestPaths.NewDataDir(), "--to", "postgres:Host=db;Password=hunter2");
        Assert.Equal(2, code);
        Assert.Contains("not the connection string itself", stderr, StringComparison.Ordinal);
    }
}
