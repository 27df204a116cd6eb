using RuntimeAI.Core.Operations;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>The saga and idempotency stores on a real SQLite file (schema v2 tables, no migration).</summary>
public sealed class SagaStoreTests
{
    private static IdempotencyRecord Record(string principal, string key, string digest, string op) => new()
    {
        Key = key, Principal = principal, Tool = "execute_actions", PayloadDigest = digest, OperationId = op,
        CreatedAt = TimeProvider.System.GetUtcNow(),
    };

    [Fact]
    public async Task Claim_SameKeyTwoPrincipals_EachKeepsItsOwnFirstRequest()
    {
        using var database = SqliteDatabase.Open(TestPaths.NewDataDir());
        var store = new SqliteIdempotencyStore(database);

        var alice = await store.ClaimAsync(Record("alice", "k", "d1", "op_A"), CancellationToken.None);
        var bob = await store.ClaimAsync(Record("bob", "k", "d2", "op_B"), CancellationToken.None);
        var aliceAgain = await store.ClaimAsync(Record("alice", "k", "d3", "op_C"), CancellationToken.None);

        Assert.Equal("op_A", alice.OperationId);
        Assert.Equal("op_B", bob.OperationId);
        Assert.Equal(("op_A", "d1"), (aliceAgain.OperationId, aliceAgain.PayloadDigest));
    }

    [Fact]
    public async Task SaveSteps_ThenUpdateOne_ReadBackInOrderWithCompensation()
    {
        using var database = SqliteDatabase.Open(TestPaths.NewDataDir());
        var store = new SqliteSagaStore(database);
        var steps = SagaExecutor.Plan("op_X", SagaExecutor.ToCommands(
        [
            new Core.Actions.RuntimeAction { Type = Core.Actions.ActionType.Snapshot, Params = new() { ["name"] = "s" } },
            new Core.Actions.RuntimeAction { Type = Core.Actions.ActionType.Restore, Params = new() { ["snapshot"] = "s" } },
        ]));

        await store.SaveStepsAsync("op_X", steps, CancellationToken.None);
        await store.SaveStepAsync("op_X", steps[0] with { Status = SagaStepStatus.Succeeded }, CancellationToken.None);
        var read = await store.GetStepsAsync("op_X", CancellationToken.None);

        Assert.Equal([SagaStepStatus.Succeeded, SagaStepStatus.Pending, SagaStepStatus.Pending], read.Select(s => s.Status));
        Assert.Equal(["action", "auto_snapshot", "action"], read.Select(s => s.Kind));
        Assert.Equal(new SagaCommand { Type = SagaCommandType.Restore, Snapshot = "auto-before-op_X-2" }, read[2].Compensation);
        Assert.Equal(new SagaCommand { Type = SagaCommandType.DeleteSnapshot, Snapshot = "s" }, read[0].Compensation);
    }

    [Fact]
    public void ToCommands_SeveralBadActions_ReportsEveryProblem()
    {
        var ex = Assert.Throws<SagaException>(() => SagaExecutor.ToCommands(
        [
            new Core.Actions.RuntimeAction { Type = Core.Actions.ActionType.Scale },
            new Core.Actions.RuntimeAction { Type = Core.Actions.ActionType.Snapshot, Params = new() { ["name"] = "auto-before-x" } },
            new Core.Actions.RuntimeAction { Type = Core.Actions.ActionType.Delete },
        ]));

        Assert.Equal("invalid_action", ex.Code);
        Assert.Contains("actions[0] (scale)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("reserved", ex.Message, StringComparison.Ordinal);
        Assert.Contains("actions[2] (delete)", ex.Message, StringComparison.Ordinal);
    }
}
