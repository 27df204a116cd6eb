using RuntimeAI.Mcp.Pipeline;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>Where the approval-state key comes from, and single use through the store.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ApprovalKeyTests
{
    private static string KeyFile(int bytes, UnixFileMode mode)
    {
        var path = Path.Combine(TestPaths.NewDataDir(), "approval.key");
        File.WriteAllBytes(path, Enumerable.Range(0, bytes).Select(i => (byte)i).ToArray());
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void NamedKeyFile_WinsOverTheStoreAndTheDataDirKey()
    {
        var file = KeyFile(32, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var dataDir = TestPaths.NewDataDir();

        Assert.Equal(File.ReadAllBytes(file), RequestStateProtector.LoadFileKey(file, "postgres", dataDir));
        Assert.Equal(File.ReadAllBytes(file), RequestStateProtector.LoadFileKey(file, "sqlite", dataDir));
        Assert.False(File.Exists(Path.Combine(dataDir, "mrtr.key")));
        // Without one: the store's key on postgres (null here), mrtr.key on sqlite.
        Assert.Null(RequestStateProtector.LoadFileKey(null, "postgres", dataDir));
        Assert.Equal(32, RequestStateProtector.LoadFileKey(null, "sqlite", dataDir)!.Length);
        Assert.True(File.Exists(Path.Combine(dataDir, "mrtr.key")));
    }

    [Fact]
    public void NamedKeyFile_ReadableByOthers_OrTooShort_OrMissing_IsRefusedWithTheFix()
    {
        var open = KeyFile(32, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var shortKey = KeyFile(8, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var readable = Assert.Throws<InvalidOperationException>(() => RequestStateProtector.LoadFileKey(open, "postgres", TestPaths.NewDataDir()));
        Assert.Contains($"chmod 600 {open}", readable.Message, StringComparison.Ordinal);
        var tooShort = Assert.Throws<InvalidOperationException>(() => RequestStateProtector.LoadFileKey(shortKey, "postgres", TestPaths.NewDataDir()));
        Assert.Contains("holds 8 bytes; it needs at least 32", tooShort.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<InvalidOperationException>(() => RequestStateProtector.LoadFileKey("/nonexistent/approval.key", "sqlite", TestPaths.NewDataDir()));
        Assert.Contains("RUNTIMEAI_APPROVAL_KEY_FILE", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateRedeemedThroughTheStore_IsRefusedByAnotherProtector_AndAfterARestart()
    {
        var dataDir = TestPaths.NewDataDir();
        var key = RequestStateProtector.LoadFileKey(null, "sqlite", dataDir)!;
        using var first = SqliteDatabase.Open(dataDir);
        using var second = SqliteDatabase.Open(dataDir);
        var issuer = new RequestStateProtector(key, TimeProvider.System, new SqliteApprovalStateStore(first));
        var other = new RequestStateProtector(key, TimeProvider.System, new SqliteApprovalStateStore(second));
        var state = issuer.Issue("user:alice", "digest-1");

        Assert.True((await other.TryRedeemAsync(state, "user:alice", "digest-1", CancellationToken.None)).Ok);
        var again = await issuer.TryRedeemAsync(state, "user:alice", "digest-1", CancellationToken.None);
        Assert.Equal((false, "the approval was already used; an approval runs once"), again);
        using var reopened = SqliteDatabase.Open(dataDir);
        var restarted = new RequestStateProtector(RequestStateProtector.LoadFileKey(null, "sqlite", dataDir)!, TimeProvider.System, new SqliteApprovalStateStore(reopened));
        Assert.False((await restarted.TryRedeemAsync(state, "user:alice", "digest-1", CancellationToken.None)).Ok);
    }
}
