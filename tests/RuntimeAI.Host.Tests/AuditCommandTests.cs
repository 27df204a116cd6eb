using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// <c>runtimeai audit verify|export</c> run as the real executable over a trail written by real
/// calls through the MCP boundary, then tampered with directly in the SQLite file.
/// </summary>
public sealed class AuditCommandTests
{
    /// <summary>Makes <paramref name="calls"/> tool calls through the real pipeline, each with its own reasoning.</summary>
    private static async Task<string> TrailAsync(int calls = 4)
    {
        var dataDir = TestPaths.NewDataDir();
        await using var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = dataDir }, CancellationToken.None);
        for (var i = 1; i <= calls; i++)
        {
            await session.Client.CallToolAsync(new CallToolRequestParams
            {
                Name = i % 2 == 0 ? "get_events" : "list_runtimes",
                Arguments = new Dictionary<string, JsonElement>(),
                Meta = new JsonObject { ["io.runtimeai/reasoning"] = $"step {i}, with \"quotes\", commas" },
            });
        }

        return dataDir;
    }

    private static void Sql(string dataDir, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDir, SqliteDatabase.FileName),
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }

    private static async Task<IReadOnlyList<AuditRecord>> RecordsAsync(string dataDir)
    {
        using var db = SqliteDatabase.Open(dataDir);
        return await new SqliteAuditLog(db, new CanonicalAuditHasher()).QueryAsync(new AuditQuery { PageSize = 1000 }, CancellationToken.None);
    }

    private static void AssertOneCleanLine(string stderr)
    {
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_UntouchedTrail_IntactWithCountAndHead()
    {
        var dataDir = await TrailAsync();
        var head = (await RecordsAsync(dataDir))[^1].Hash;

        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.True(code == 0, stderr);
        Assert.Equal($"audit chain intact: 4 records, head {head}", stdout.Trim());
    }

    [Fact]
    public async Task Verify_EditedRecord_NamesItAndExitsOne()
    {
        var dataDir = await TrailAsync();
        Sql(dataDir, "UPDATE audit_log SET doc = json_set(doc, '$.begin.reasoning', 'nothing to see here') WHERE seq = 2");

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.Equal(1, code);
        Assert.Contains("audit chain broken at record 2: record 2 was modified", stderr, StringComparison.Ordinal);
        AssertOneCleanLine(stderr);
    }

    [Fact]
    public async Task Verify_EditedAndRehashedRecord_BreaksTheLinkToTheNext()
    {
        var dataDir = await TrailAsync();
        var original = (await RecordsAsync(dataDir))[1];
        var forged = original with { End = original.End with { Outcome = "refused" } };
        forged = forged with { Hash = AuditChain.ComputeHash(forged) };
        Sql(dataDir, "UPDATE audit_log SET doc = $doc, hash = $hash WHERE seq = 2",
            ("$doc", JsonSerializer.Serialize(forged, CoreJsonContext.Default.AuditRecord)), ("$hash", forged.Hash));

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.Equal(1, code);
        Assert.Contains("audit chain broken at record 3: record 3 does not chain to record 2", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DeletedRecord_NamesTheGap()
    {
        var dataDir = await TrailAsync();
        Sql(dataDir, "DELETE FROM audit_log WHERE seq = 3");

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.Equal(1, code);
        Assert.Contains("audit chain broken at record 4: record 4 follows record 2: record 3 is missing (deleted)", stderr, StringComparison.Ordinal);
        AssertOneCleanLine(stderr);
    }

    [Fact]
    public async Task Verify_SwappedRecords_ReportsTheReordering()
    {
        var dataDir = await TrailAsync();
        Sql(dataDir, "UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1;");

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.Equal(1, code);
        Assert.Contains("audit chain broken at record 2: the row stored as record 2 holds record 3: records were reordered", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_SwappedRecordsWithRenumberedDocuments_StillDetected()
    {
        var dataDir = await TrailAsync();
        Sql(dataDir, """
            UPDATE audit_log SET seq = -1 WHERE seq = 2;
            UPDATE audit_log SET seq = 2, doc = json_set(doc, '$.seq', 2) WHERE seq = 3;
            UPDATE audit_log SET seq = 3, doc = json_set(doc, '$.seq', 3) WHERE seq = -1;
            """);

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.Equal(1, code);
        Assert.Contains("audit chain broken at record 2: record 2 was modified", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_PrincipalColumnEdited_DetectedThoughTheDocumentIsIntact()
    {
        var dataDir = await TrailAsync();
        Sql(dataDir, "UPDATE audit_log SET principal = 'someone-else' WHERE seq = 3");

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.Equal(1, code);
        Assert.Contains("audit chain broken at record 3: record 3's principal column disagrees with its hashed document", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_TailRemoved_DetectedOnlyWithTheRecordedHead()
    {
        var dataDir = await TrailAsync();
        var head = (await RecordsAsync(dataDir))[^1].Hash;
        Sql(dataDir, "DELETE FROM audit_log WHERE seq = 4");

        var (plain, _, _) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir, "--expect-head", head);

        Assert.Equal(0, plain);
        Assert.Equal(1, code);
        Assert.Contains("the trail ends at record 3", stderr, StringComparison.Ordinal);
        Assert.Contains("records after 3 were removed", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_NoStore_ExitsTwoNamingTheFlag()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", Path.Combine(TestPaths.NewDataDir(), "nothing-here"));

        Assert.Equal(2, code);
        Assert.Contains("no RuntimeAI store at", stderr, StringComparison.Ordinal);
        Assert.Contains("--data-dir", stderr, StringComparison.Ordinal);
        AssertOneCleanLine(stderr);
    }

    [Fact]
    public async Task Export_Csv_OneRowPerCallWithQuotedReasoning()
    {
        var dataDir = await TrailAsync();
        var records = await RecordsAsync(dataDir);
        var file = Path.Combine(dataDir, "report.csv");

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "export", "--since", "24h", "--format", "csv", "--out", file, "--data-dir", dataDir);

        Assert.True(code == 0, stderr);
        var lines = (await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            "seq,ts,principal,client,transport,tool,tier,outcome,runtime_id,operation_id,autonomy,decision,rule_ids,proposal_id,approver,idempotency_key,detail,reasoning,hash",
            lines[0]);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("2,", lines[2], StringComparison.Ordinal);
        Assert.Contains(",get_events,observe,ok,", lines[2], StringComparison.Ordinal);
        Assert.Contains(",advisor,", lines[2], StringComparison.Ordinal);
        Assert.EndsWith($",\"step 2, with \"\"quotes\"\", commas\",{records[1].Hash}", lines[2], StringComparison.Ordinal);
        Assert.Contains("exported 4 audit record(s) (seq 1..4", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_JsonSinceATime_OnlyLaterRecordsAndTheyReverifyAsASegment()
    {
        var dataDir = await TrailAsync();
        var records = await RecordsAsync(dataDir);
        var since = records[2].Begin.Ts.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "export", "--since", since, "--data-dir", dataDir);

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var exported = root.GetProperty("records").EnumerateArray()
            .Select(r => r.Deserialize(CoreJsonContext.Default.AuditRecord)!).ToList();
        Assert.Equal([3L, 4L], exported.Select(r => r.Seq));
        Assert.Equal(2, root.GetProperty("count").GetInt64());
        Assert.Equal(records[1].Hash, root.GetProperty("prev_hash").GetString());
        Assert.Equal(records[3].Hash, root.GetProperty("head_hash").GetString());
        var verification = AuditChain.VerifySegment(exported, 3, root.GetProperty("prev_hash").GetString()!, root.GetProperty("head_hash").GetString());
        Assert.True(verification.Ok, verification.Reason);
    }

    [Fact]
    public async Task Export_BadSince_ExitsTwoWithTheAcceptedForms()
    {
        var dataDir = await TrailAsync(1);

        var (code, _, stderr) = await ServerProcess.RunAsync("audit", "export", "--since", "yesterday", "--data-dir", dataDir);

        Assert.Equal(2, code);
        Assert.Contains("--since 'yesterday' is neither an RFC 3339 time", stderr, StringComparison.Ordinal);
        AssertOneCleanLine(stderr);
    }

    [Theory]
    [InlineData("=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\"")]
    [InlineData("plain", "\"plain\"")]
    [InlineData("a,b", "\"a,b\"")]
    public void CsvCell_UntrustedText_QuotedAndFormulaNeutralized(string value, string expected)
    {
        Assert.Equal(expected, AuditCommand.CsvCell(value, alwaysQuote: true));
    }

    [Fact]
    public void ParseSince_DurationsAndTimes()
    {
        var now = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(now.AddHours(-24), AuditCommand.ParseSince("24h", now));
        Assert.Equal(now.AddDays(-7), AuditCommand.ParseSince("1w", now));
        Assert.Equal(now.AddMinutes(-90), AuditCommand.ParseSince("90m", now));
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), AuditCommand.ParseSince("2026-11-01T10:00:00+02:00", now));
        Assert.Null(AuditCommand.ParseSince(null, now));
    }
}
