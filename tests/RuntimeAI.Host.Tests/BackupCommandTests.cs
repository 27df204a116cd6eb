using System.Text.Json;
using ModelContextProtocol.Client;

namespace RuntimeAI.Host.Tests;

/// <summary><c>runtimeai backup</c>: a verified copy of a running server's store that serves as a data directory.</summary>
public sealed class BackupCommandTests
{
    [Fact]
    public async Task Backup_WhileTheServerWrites_IsAVerifiedDataDirectoryWithTheSameOperations()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDir = TestPaths.NewDataDir();
        var backupDir = Path.Combine(TestPaths.NewDataDir(), "backup-1");
        string operationId;
        int code;
        string stdout, stderr;
        await using (var server = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--autonomy", "autonomous", "--policies", TestPolicies.AllowAll()))
        {
            await using var client = await McpClient.CreateAsync(
                new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }),
                cancellationToken: ct);
            var vms = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vm" }, cancellationToken: ct);
            var vm = vms.StructuredContent!.Value.GetProperty("items")[0].GetProperty("id").GetString()!;
            var snapshot = await client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm, ["name"] = "before-backup" }, cancellationToken: ct);
            Assert.True(snapshot.IsError != true, JsonSerializer.Serialize(snapshot.StructuredContent));
            operationId = snapshot.StructuredContent!.Value.GetProperty("operation_id").GetString()!;

            // Audited calls keep landing while the backup reads the store.
            using var stop = new CancellationTokenSource();
            var writes = 0;
            var writer = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await client.CallToolAsync("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, cancellationToken: CancellationToken.None);
                    Interlocked.Increment(ref writes);
                }
            }, CancellationToken.None);
            while (Volatile.Read(ref writes) < 5)
            {
                await Task.Delay(20, ct);
            }

            (code, stdout, stderr) = await ServerProcess.RunAsync("backup", "--data-dir", dataDir, "--to", backupDir);
            await stop.CancelAsync();
            await writer;
        }

        Assert.True(code == 0, stderr);
        Assert.Contains($"backup written to {backupDir}", stdout, StringComparison.Ordinal);
        Assert.Contains("audit chain intact:", stdout, StringComparison.Ordinal);
        Assert.Contains("restore: stop the server", stderr, StringComparison.Ordinal);
        Assert.Equal(["mrtr.key", "runtimeai.db"], Directory.GetFiles(backupDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(backupDir, "runtimeai.db")));
        }

        // Restored: the copy is a data directory; the operation made before the backup is there.
        var (callCode, operation, callErr) = await ServerProcess.RunAsync(
            "call", "get_operation", "--data-dir", backupDir, "--args", $$"""{"operation_id":"{{operationId}}"}""");
        Assert.True(callCode == 0, callErr);
        using var doc = JsonDocument.Parse(operation);
        Assert.Equal("snapshot", doc.RootElement.GetProperty("action").GetString());
        Assert.Equal("succeeded", doc.RootElement.GetProperty("status").GetString());
        var (verifyCode, verify, verifyErr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", backupDir);
        Assert.True(verifyCode == 0, verifyErr);
        Assert.Contains("audit chain intact:", verify, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_NeverOverwritesAStore_AndNamesAMissingSource()
    {
        var dataDir = TestPaths.NewDataDir();
        var (seedCode, _, seedErr) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", dataDir);
        Assert.True(seedCode == 0, seedErr);
        var existing = TestPaths.NewDataDir();
        File.WriteAllText(Path.Combine(existing, "runtimeai.db"), "keep me");

        var (overwriteCode, _, overwriteErr) = await ServerProcess.RunAsync("backup", "--data-dir", dataDir, "--to", existing);
        var (selfCode, _, selfErr) = await ServerProcess.RunAsync("backup", "--data-dir", dataDir, "--to", dataDir);
        var (missingCode, _, missingErr) = await ServerProcess.RunAsync("backup", "--data-dir", TestPaths.NewDataDir(), "--to", Path.Combine(existing, "x"));

        Assert.Equal(2, overwriteCode);
        Assert.Contains("already exists; a backup never overwrites a store", overwriteErr, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(existing, "runtimeai.db")));
        Assert.Equal(2, selfCode);
        Assert.Contains("is the data directory itself", selfErr, StringComparison.Ordinal);
        Assert.Equal(2, missingCode);
        Assert.Contains("no RuntimeAI store at", missingErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(existing, "x")));
    }

    [Fact]
    public async Task Backup_NamesOperationsThatWereRunning_WhichAServerOnTheCopyWouldCompensate()
    {
        var dataDir = TestPaths.NewDataDir();
        var (seedCode, _, seedErr) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", dataDir);
        Assert.True(seedCode == 0, seedErr);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "runtimeai.db")};Pooling=False"))
        {
            connection.Open();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO operations (id, runtime_id, status, created_at, doc) VALUES ('op_inflight', NULL, 'running', '2026-12-07T00:00:00Z', '{}')";
            insert.ExecuteNonQuery();
        }

        var (code, _, stderr) = await ServerProcess.RunAsync("backup", "--data-dir", dataDir, "--to", Path.Combine(TestPaths.NewDataDir(), "b"));

        Assert.True(code == 0, stderr);
        Assert.Contains("warning: 1 operation(s) were running when the copy was taken (op_inflight)", stderr, StringComparison.Ordinal);
    }
}
