using RuntimeAI.Core.Governance;

namespace RuntimeAI.Storage.Sqlite.Tests;

/// <summary>Decisions on a proposal are compare-and-set: two approvers never overwrite each other.</summary>
public sealed class SqliteProposalStoreTests : IDisposable
{
    private static readonly DateTimeOffset s_t0 = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("runtimeai-proposals-").FullName;
    private readonly SqliteDatabase _db;
    private readonly SqliteProposalStore _store;

    public SqliteProposalStoreTests()
    {
        _db = SqliteDatabase.Open(_dir);
        _store = new SqliteProposalStore(_db);
    }

    public void Dispose() => _db.Dispose();

    private static ProposalApproval Approval(string by) => new() { By = by, Channel = ApprovalChannels.Approver, At = s_t0 };

    [Fact]
    public async Task TwoApproversFromTheSameRead_SecondIsRefused_FirstApprovalKept()
    {
        var pending = new Proposal
        {
            ProposalId = "prp_01KBXQ3M5N7P9R1T3V5X7Z9B1D", Status = ProposalStatus.Pending, Title = "stop_runtime rt_1", Digest = "d",
            ProposedBy = "agent:bot", RequiredApprovals = 3, CreatedAt = s_t0,
        };
        await _store.SaveAsync(pending, CancellationToken.None);
        var read = (await _store.GetAsync(pending.ProposalId, CancellationToken.None))!;

        var alice = await _store.TransitionAsync(read with { Approvals = [Approval("human:alice")] }, ProposalStatus.Pending, CancellationToken.None, approvalsBefore: read.Approvals.Count);
        var bob = await _store.TransitionAsync(read with { Approvals = [Approval("human:bob")] }, ProposalStatus.Pending, CancellationToken.None, approvalsBefore: read.Approvals.Count);

        Assert.True(alice);
        Assert.False(bob);
        var stored = (await _store.GetAsync(pending.ProposalId, CancellationToken.None))!;
        Assert.Equal(["human:alice"], stored.Approvals.Select(a => a.By));

        var bobAgain = await _store.TransitionAsync(stored with { Approvals = [.. stored.Approvals, Approval("human:bob")] }, ProposalStatus.Pending, CancellationToken.None, approvalsBefore: stored.Approvals.Count);
        Assert.True(bobAgain);
        Assert.Equal(["human:alice", "human:bob"], (await _store.GetAsync(pending.ProposalId, CancellationToken.None))!.Approvals.Select(a => a.By));
    }
}
