using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Audit;

namespace RuntimeAI.Storage.Sqlite.Tests;

/// <summary>Group commit of audit records: chain, order, failure and durability as a caller sees them.</summary>
public sealed class SqliteAuditLogGroupCommitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("runtimeai-audit-").FullName;
    private readonly SqliteDatabase _db;
    private readonly SqliteAuditLog _log;

    public SqliteAuditLogGroupCommitTests()
    {
        _db = SqliteDatabase.Open(_dir);
        _log = new SqliteAuditLog(_db, new CanonicalAuditHasher());
    }

    public void Dispose() => _db.Dispose();

    private static readonly DateTimeOffset s_t0 = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

    private static AuditBegin Begin(string id) => new() { CallId = id, Ts = s_t0, Tool = "start_runtime", Principal = "alice" };

    private static AuditEnd End(string id) => new() { CallId = id, Ts = s_t0.AddMilliseconds(5), Outcome = "ok" };

    private async Task<List<AuditRecord>> AllAsync() =>
        [.. await _log.QueryAsync(new AuditQuery { PageSize = 10_000 }, CancellationToken.None)];

    [Fact]
    public async Task ConcurrentCalls_EveryRecordStored_ChainVerifies()
    {
        var ids = Enumerable.Range(0, 200).Select(i => $"call-{i:D3}").ToArray();

        var records = await Task.WhenAll(ids.Select(id => Task.Run(async () =>
        {
            await _log.BeginAsync(Begin(id), CancellationToken.None);
            return await _log.EndAsync(End(id), CancellationToken.None);
        })));

        var stored = await AllAsync();
        Assert.True(AuditChain.Verify(stored).Ok, AuditChain.Verify(stored).Reason);
        Assert.Equal(ids.Order(), stored.Select(r => r.Begin.CallId).Order());
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), records.Select(r => r.Seq).Order());
        Assert.Empty(await _log.ListInFlightAsync(CancellationToken.None));
    }

    [Fact]
    public async Task WritesQueuedTogether_OneCommit_SeqFollowsQueueOrder()
    {
        var ids = Enumerable.Range(0, 50).Select(i => $"call-{i:D2}").ToArray();
        foreach (var id in ids)
        {
            await _log.BeginAsync(Begin(id), CancellationToken.None);
        }

        var batchesBefore = _log.BatchesCommitted;
        await _db.WriteLock.WaitAsync(TestContext.Current.CancellationToken);
        Task<AuditRecord>[] ends;
        try
        {
            ends = [.. ids.Select(id => _log.EndAsync(End(id), CancellationToken.None))];
            Assert.DoesNotContain(ends, t => t.IsCompleted); // nothing answers before its commit
        }
        finally
        {
            _db.WriteLock.Release();
        }

        var records = await Task.WhenAll(ends);

        // The writer may have taken the first write alone before it waited for the lock; the rest share one commit.
        Assert.InRange(_log.BatchesCommitted - batchesBefore, 1, 2);
        Assert.Equal(ids, records.OrderBy(r => r.Seq).Select(r => r.Begin.CallId));
        Assert.Equal(ids, (await AllAsync()).Select(r => r.Begin.CallId));
    }

    [Fact]
    public async Task FailedBatch_FailsEveryCallInIt_StoresNoneOfIt_NextBatchChains()
    {
        foreach (var id in new[] { "first", "ok-1", "bad", "ok-2", "after" })
        {
            await _log.BeginAsync(Begin(id), CancellationToken.None);
        }

        using (var connection = new SqliteConnection($"Data Source={_db.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TRIGGER fail_bad BEFORE INSERT ON audit_log WHEN NEW.call_id = 'bad' BEGIN SELECT RAISE(ABORT, 'disk says no'); END;";
            command.ExecuteNonQuery();
        }

        await _db.WriteLock.WaitAsync(TestContext.Current.CancellationToken);
        Task<AuditRecord> first, ok1, bad, ok2;
        try
        {
            first = _log.EndAsync(End("first"), CancellationToken.None);
            while (_log.PendingCount > 0)
            {
                await Task.Delay(5, TestContext.Current.CancellationToken); // the writer has taken "first" and waits for the lock
            }

            ok1 = _log.EndAsync(End("ok-1"), CancellationToken.None);
            bad = _log.EndAsync(End("bad"), CancellationToken.None);
            ok2 = _log.EndAsync(End("ok-2"), CancellationToken.None);
        }
        finally
        {
            _db.WriteLock.Release();
        }

        await first;
        foreach (var failed in new[] { ok1, bad, ok2 })
        {
            var ex = await Assert.ThrowsAsync<StoreException>(() => failed);
            Assert.Contains("disk says no", ex.Message, StringComparison.Ordinal);
            Assert.Contains("nothing goes unaudited", ex.Message, StringComparison.Ordinal);
        }

        var after = await _log.EndAsync(End("after"), CancellationToken.None);

        var stored = await AllAsync();
        Assert.Equal(["first", "after"], stored.Select(r => r.Begin.CallId));
        Assert.Equal(2, after.Seq);
        Assert.True(AuditChain.Verify(stored).Ok, AuditChain.Verify(stored).Reason);
        // The calls whose end was lost still have their durable start on record.
        Assert.Equal(["bad", "ok-1", "ok-2"], (await _log.ListInFlightAsync(CancellationToken.None)).Select(b => b.CallId));
    }

    [Fact]
    public async Task FailedBatch_LeavesNoWriteTransactionOpen_OtherWritersGoOn()
    {
        // The batch writer keeps its connection and statements between batches: a failed batch must
        // not leave that connection inside its transaction, holding the file's write lock.
        await _log.BeginAsync(Begin("bad"), CancellationToken.None);
        using var other = new SqliteConnection($"Data Source={_db.Path};Pooling=False");
        other.Open();
        using (var trigger = other.CreateCommand())
        {
            trigger.CommandText = "CREATE TRIGGER fail_bad BEFORE INSERT ON audit_log WHEN NEW.call_id = 'bad' BEGIN SELECT RAISE(ABORT, 'disk says no'); END;";
            trigger.ExecuteNonQuery();
        }

        await Assert.ThrowsAsync<StoreException>(() => _log.EndAsync(End("bad"), CancellationToken.None));

        // Another connection that does not wait gets the write lock at once...
        using (var write = other.CreateCommand())
        {
            write.CommandText = "PRAGMA busy_timeout=0; BEGIN IMMEDIATE; DELETE FROM audit_inflight WHERE call_id = 'nobody'; COMMIT;";
            write.ExecuteNonQuery();
        }

        // ...and the next writers of this process (another store on the same connection, then the audit) go on.
        var idempotency = new SqliteIdempotencyStore(_db);
        var claimed = await idempotency.ClaimAsync(new RuntimeAI.Core.Operations.IdempotencyRecord
        {
            Key = "k1", Principal = "alice", Tool = "start_runtime", PayloadDigest = "d1", OperationId = "op_1", CreatedAt = s_t0,
        }, CancellationToken.None);
        await _log.BeginAsync(Begin("next"), CancellationToken.None);
        var next = await _log.EndAsync(End("next"), CancellationToken.None);

        Assert.Equal("op_1", claimed.OperationId);
        Assert.Equal("op_1", (await idempotency.FindAsync("alice", "k1", CancellationToken.None))!.OperationId);
        Assert.Equal(1, next.Seq);
        Assert.Equal(["next"], (await AllAsync()).Select(r => r.Begin.CallId));
    }

    [Fact]
    public async Task EndReturned_RecordReadableFromAFreshConnection()
    {
        await _log.BeginReadOnlyAsync(Begin("read") with { Tool = "list_runtimes" }, CancellationToken.None);
        Assert.Empty(await _log.ListInFlightAsync(CancellationToken.None)); // a read is recorded once, at its end

        var record = await _log.EndAsync(End("read"), CancellationToken.None);

        using var connection = new SqliteConnection($"Data Source={_db.Path};Pooling=False;Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT call_id, tool, hash FROM audit_log WHERE seq = $seq";
        command.Parameters.AddWithValue("$seq", record.Seq);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("read", reader.GetString(0));
        Assert.Equal("list_runtimes", reader.GetString(1));
        Assert.Equal(record.Hash, reader.GetString(2));
    }

    [Fact]
    public async Task EndWithoutBegin_FailsThatCallOnly()
    {
        await _log.BeginAsync(Begin("known"), CancellationToken.None);
        await _db.WriteLock.WaitAsync(TestContext.Current.CancellationToken);
        Task<AuditRecord> unknown, known;
        try
        {
            unknown = _log.EndAsync(End("never-begun"), CancellationToken.None);
            known = _log.EndAsync(End("known"), CancellationToken.None);
        }
        finally
        {
            _db.WriteLock.Release();
        }

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => unknown);
        Assert.Contains("never-begun ended without a begin record", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await known).Seq);
    }
}
