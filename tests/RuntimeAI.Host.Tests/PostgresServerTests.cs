using ModelContextProtocol.Client;
using Npgsql;
using RuntimeAI.Core.Audit;
using RuntimeAI.Storage.Postgres;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// The real <c>runtimeai serve</c> on PostgreSQL (<c>store: postgres</c>, the connection string in a
/// file named by the config file): tool calls over Streamable HTTP with the SDK client, the audit
/// chain verified by <c>runtimeai audit verify</c>, and a second server on the same database
/// (a replacement replica) that sees the state and continues the same chain. Skipped with the
/// reason when RUNTIMEAI_TEST_POSTGRES is not set (scripts/test.sh sets it).
/// </summary>
public sealed class PostgresServerTests
{
    [Fact]
    public async Task Serve_OnPostgres_ToolCallsAudited_ChainVerifies_SecondServerContinuesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var admin = Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip("RUNTIMEAI_TEST_POSTGRES is not set: no PostgreSQL to run the server on (scripts/test.sh sets it; by hand: export RUNTIMEAI_TEST_POSTGRES=\"$(scripts/postgres.sh start)\")");
        }

        var schema = "e2e_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(admin, $"CREATE SCHEMA {schema}", ct);
        try
        {
            var dir = TestPaths.NewDataDir();
            var connectionFile = Path.Combine(dir, "postgres.conn");
            File.WriteAllText(connectionFile, new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString + "\n");
            var config = Path.Combine(dir, "runtimeai.json");
            File.WriteAllText(config, $$"""{ "store": "postgres", "postgres": { "connection_string_file": "{{connectionFile}}" } }""");
            var policies = TestPolicies.AllowAll();
            string runtimeId;

            await using (var server = await ServerProcess.StartHttpAsync(Path.Combine(dir, "data-a"), "--config", config, "--sandbox", "--autonomy", "autonomous", "--policies", policies))
            {
                Assert.Contains("store postgres", server.Stderr, StringComparison.Ordinal);
                await using var client = await McpClient.CreateAsync(
                    new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }), cancellationToken: ct);
                var created = await client.CallToolAsync("create_runtime", new Dictionary<string, object?>
                {
                    ["name"] = "pg-e2e", ["type"] = "vm", ["reasoning"] = "pg-e2e-create",
                }, cancellationToken: ct);
                Assert.True(created.IsError != true, Text(created));
                runtimeId = created.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
                var snap = await client.CallToolAsync("execute_actions", new Dictionary<string, object?>
                {
                    ["runtime_id"] = runtimeId, ["idempotency_key"] = "pg-e2e-1", ["reasoning"] = "pg-e2e-snapshot",
                    ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "s1" } } },
                }, cancellationToken: ct);
                Assert.True(snap.IsError != true, Text(snap));
            }

            // The records are in PostgreSQL, not in the data directory's SQLite file.
            Assert.False(File.Exists(Path.Combine(dir, "data-a", RuntimeAI.Storage.Sqlite.SqliteDatabase.FileName)));
            var records = await ReadAuditAsync(admin, schema, ct);
            Assert.Contains(records, r => r.Begin.Tool == "create_runtime" && r.Begin.Reasoning == "pg-e2e-create" && r.End.Outcome == "ok");
            Assert.Contains(records, r => r.Begin.Tool == "execute_actions" && r.End.RuntimeId == runtimeId && r.End.Outcome == "ok");

            var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", config);
            Assert.True(code == 0, $"audit verify exited {code}: {stderr}");
            Assert.Contains($"audit chain intact: {records.Count} records, head {records[^1].Hash}", stdout, StringComparison.Ordinal);

            // A second server (another replica's place) sees the runtime and appends to the same chain.
            await using (var server = await ServerProcess.StartHttpAsync(Path.Combine(dir, "data-b"), "--config", config, "--sandbox", "--autonomy", "autonomous", "--policies", policies))
            {
                await using var client = await McpClient.CreateAsync(
                    new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }), cancellationToken: ct);
                var got = await client.CallToolAsync("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = runtimeId }, cancellationToken: ct);
                Assert.True(got.IsError != true, Text(got));
                Assert.Equal("pg-e2e", got.StructuredContent!.Value.GetProperty("name").GetString());
            }

            var after = await ReadAuditAsync(admin, schema, ct);
            Assert.True(after.Count > records.Count);
            Assert.True(AuditChain.Verify(after).Ok, AuditChain.Verify(after).Reason);
            (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", config, "--expect-head", after[^1].Hash);
            Assert.True(code == 0, $"audit verify exited {code}: {stderr}");

            // An edit in the database is found the same way as in the SQLite file.
            var forged = after.First(r => r.Begin.Reasoning == "pg-e2e-create").Seq;
            await ExecuteAsync(admin, $"UPDATE {schema}.audit_log SET doc = replace(doc, 'pg-e2e-create', 'pg-e2e-forged') WHERE seq = {forged}", ct);
            (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", config);
            Assert.Equal(1, code);
            Assert.Contains($"audit chain broken at record {forged}", stderr, StringComparison.Ordinal);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE", CancellationToken.None);
        }
    }

    [Fact]
    public async Task ApiKeys_OnPostgres_CreatedAuthenticatedAndAudited_InTheDatabase()
    {
        var ct = TestContext.Current.CancellationToken;
        var admin = Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip("RUNTIMEAI_TEST_POSTGRES is not set: no PostgreSQL for the key store (scripts/test.sh sets it)");
        }

        var schema = "keys_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(admin, $"CREATE SCHEMA {schema}", ct);
        try
        {
            var options = new RuntimeAI.Mcp.Hosting.RuntimeAiServerOptions
            {
                DataDir = TestPaths.NewDataDir(), Store = "postgres",
                PostgresConnectionString = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString,
            };
            var (id, secret) = RuntimeAI.Core.Identity.ApiKeySecret.New();
            RuntimeAI.Core.Identity.ApiKeySecret.TryParse(secret, out _, out var hash);
            using (var store = await ConfiguredStore.OpenAsync(options, ct))
            {
                Assert.True(await store.ApiKeys.AddAsync(new RuntimeAI.Core.Identity.ApiKey
                {
                    Id = id, Name = "ci-bot", SecretHash = hash, Kind = RuntimeAI.Core.Identity.PrincipalKind.Agent,
                    Roles = [RuntimeAI.Core.Identity.Role.Viewer], CreatedBy = "human:test", CreatedAt = DateTimeOffset.UtcNow,
                }, ct));
            }

            options.LocalPrincipal = await KeysCommand.AuthenticateAsync(options, secret, ct);
            await using (var session = await InProcessSession.StartAsync(options, ct))
            {
                var listed = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: ct);
                Assert.True(listed.IsError != true, Text(listed));
            }

            var records = await ReadAuditAsync(admin, schema, ct);
            Assert.Equal(["key:ci-bot"], records.Select(r => r.Begin.Principal).Distinct());
            Assert.False(File.Exists(Path.Combine(options.DataDir, RuntimeAI.Storage.Sqlite.SqliteDatabase.FileName)));
            var refused = await Assert.ThrowsAsync<CliException>(() => KeysCommand.AuthenticateAsync(options, secret + "x", ct));
            Assert.Contains("--api-key refused", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE", CancellationToken.None);
        }
    }

    [Fact]
    public async Task Proposal_OnPostgres_IsDecidedByTheApproveCommand_ForAnotherPrincipalsKey()
    {
        var ct = TestContext.Current.CancellationToken;
        var admin = Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip("RUNTIMEAI_TEST_POSTGRES is not set: no PostgreSQL for the proposal store (scripts/test.sh sets it)");
        }

        var schema = "prp_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(admin, $"CREATE SCHEMA {schema}", ct);
        try
        {
            var options = new RuntimeAI.Mcp.Hosting.RuntimeAiServerOptions
            {
                DataDir = TestPaths.NewDataDir(), Store = "postgres", Sandbox = true, Autonomy = RuntimeAI.Core.Policies.AutonomyLevel.Copilot,
                PoliciesDir = TestPolicies.AllowAll(),
                PostgresConnectionString = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString,
            };
            string proposalId;
            await using (var session = await InProcessSession.StartAsync(options, ct))
            {
                var vms = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vm" }, cancellationToken: ct);
                var vm = vms.StructuredContent!.Value.GetProperty("items")[0].GetProperty("id").GetString();
                var stop = await session.Client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, cancellationToken: ct);
                proposalId = stop.StructuredContent!.Value.GetProperty("proposal_id").GetString()!;
            }

            var (id, secret) = RuntimeAI.Core.Identity.ApiKeySecret.New();
            RuntimeAI.Core.Identity.ApiKeySecret.TryParse(secret, out _, out var hash);
            using (var store = await ConfiguredStore.OpenAsync(options, ct))
            {
                Assert.True(await store.ApiKeys.AddAsync(new RuntimeAI.Core.Identity.ApiKey
                {
                    Id = id, Name = "oncall", SecretHash = hash, Kind = RuntimeAI.Core.Identity.PrincipalKind.Human,
                    Roles = [RuntimeAI.Core.Identity.Role.Approver], CreatedBy = "human:test", CreatedAt = DateTimeOffset.UtcNow,
                }, ct));
            }

            // The requester (the local person who ran the session) may not approve its own proposal.
            var own = await Assert.ThrowsAsync<CliException>(() => ProposalCommand.DecideAsync(options, proposalId, RuntimeAI.Core.Governance.ProposalStatus.Approved, null, null, ct));
            Assert.Contains("cannot also decide it", own.Message, StringComparison.Ordinal);
            Assert.Equal(0, await ProposalCommand.DecideAsync(options, proposalId, RuntimeAI.Core.Governance.ProposalStatus.Approved, "on call", secret, ct));

            using var stores = await ConfiguredStore.OpenAsync(options, ct);
            var decided = await stores.Proposals.GetAsync(proposalId, ct);
            Assert.Equal(RuntimeAI.Core.Governance.ProposalStatus.Approved, decided!.Status);
            Assert.Equal("key:oncall", decided.Approvals.Single().By);
            Assert.Equal("the PostgreSQL store", stores.Where);
            Assert.False(File.Exists(Path.Combine(options.DataDir, RuntimeAI.Storage.Sqlite.SqliteDatabase.FileName)));
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE", CancellationToken.None);
        }
    }

    [Fact]
    public async Task Serve_StorePostgresWithoutConnection_RefusesToStart_NamingTheFix()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--transport", "http", "--urls", "http://127.0.0.1:0", "--data-dir", TestPaths.NewDataDir(),
            "--config", WriteConfig("""{ "store": "postgres" }"""));
        Assert.Equal(2, code);
        Assert.Contains("store 'postgres' needs a connection string; set RUNTIMEAI_POSTGRES_CONNECTION", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PostgresUnreachable_RefusesToStart_WithoutPrintingThePassword()
    {
        var dir = TestPaths.NewDataDir();
        var connectionFile = Path.Combine(dir, "postgres.conn");
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        File.WriteAllText(connectionFile, "Host=127.0.0.1;Port=1;Username=runtimeai;Password=hunter2-secret;Database=runtimeai;Timeout=3");
        var config = WriteConfig($$"""{ "store": "postgres", "postgres": { "connection_string_file": "{{connectionFile}}" } }""");

        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--transport", "http", "--urls", "http://127.0.0.1:0", "--data-dir", dir, "--config", config);

        Assert.NotEqual(0, code);
        Assert.Contains("PostgreSQL at postgres://runtimeai@127.0.0.1:1/runtimeai cannot be used", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_ConnectionStringInline_IsRefused_SecretsBelongInAFileOrTheEnvironment()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--transport", "http", "--urls", "http://127.0.0.1:0", "--data-dir", TestPaths.NewDataDir(),
            "--config", WriteConfig("""{ "store": "postgres", "postgres": { "connection_string": "Host=x;Password=p" } }"""));
        Assert.Equal(2, code);
        Assert.Contains(".connection_string is not read: a connection string holds a password; put it in a file named by postgres.connection_string_file", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Password=p", stderr, StringComparison.Ordinal);
    }

    private static string WriteConfig(string json)
    {
        var path = Path.Combine(TestPaths.NewDataDir(), "runtimeai.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Text(ModelContextProtocol.Protocol.CallToolResult result) =>
        string.Join(' ', result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(t => t.Text));

    internal static async Task ExecuteAsync(string connectionString, string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    internal static async Task<List<AuditRecord>> ReadAuditAsync(string admin, string schema, CancellationToken ct)
    {
        using var database = await PostgresDatabase.OpenExistingAsync(new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString, ct);
        return [.. await new PostgresAuditLog(database, new CanonicalAuditHasher()).QueryAsync(new AuditQuery { PageSize = 10_000 }, ct)];
    }
}
