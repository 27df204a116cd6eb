using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Start-up recovery settles only sagas whose process is gone: a saga another live process (a
/// server, or a <c>runtimeai call</c>) is running on the same data directory is left alone, and so
/// is one run on another machine (whose processes cannot be seen from here).
/// </summary>
public sealed class SagaRecoveryTests
{
    private static JsonObject Owner(Process process) => new()
    {
        ["pid"] = process.Id,
        ["start"] = process.StartTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
    };

    private static async Task<string> SeedRunningSagaAsync(SqliteDatabase db, string runtimeId, JsonObject owner)
    {
        var ids = new IdGenerator(TimeProvider.System);
        var operationId = ids.New("op");
        var steps = SagaExecutor.Plan(operationId, SagaExecutor.ToCommands([new Core.Actions.RuntimeAction { Type = Core.Actions.ActionType.Start }]));
        await new SqliteSagaStore(db).SaveStepsAsync(operationId, steps, CancellationToken.None);
        await new SqliteRuntimeInventory(db).SaveOperationAsync(new Operation
        {
            OperationId = operationId, Status = OperationStatus.Running, RuntimeId = runtimeId, Action = SagaExecutor.ExecuteAction,
            CreatedAt = TimeProvider.System.GetUtcNow(), Result = new JsonObject { ["executor_process"] = owner },
        }, CancellationToken.None);
        return operationId;
    }

    [Fact]
    public async Task Start_SagasOfALiveProcess_ADeadProcess_AndAnotherHost_OnlyTheDeadOnesSagaIsSettled()
    {
        var dataDir = TestPaths.NewDataDir();
        var runtime = (await InventorySeed.AddRuntimesAsync(dataDir, 1))[0];
        using var live = Process.Start(new ProcessStartInfo("sleep", "120") { UseShellExecute = false })!;
        JsonObject deadOwner;
        using (var dead = Process.Start(new ProcessStartInfo("sleep", "120") { UseShellExecute = false })!)
        {
            deadOwner = Owner(dead);
            dead.Kill();
            await dead.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        // A saga another machine ran (a replica on a shared database), with a pid that is dead here.
        var foreignOwner = (JsonObject)deadOwner.DeepClone();
        foreignOwner["host"] = "replica-elsewhere";

        string liveOp, deadOp, foreignOp;
        using (var db = SqliteDatabase.Open(dataDir))
        {
            // Recovery goes through them in id order: by the time the dead one is settled, the
            // foreign one has been looked at.
            foreignOp = await SeedRunningSagaAsync(db, runtime.Id, foreignOwner);
            liveOp = await SeedRunningSagaAsync(db, runtime.Id, Owner(live));
            deadOp = await SeedRunningSagaAsync(db, runtime.Id, deadOwner);
        }

        try
        {
            await using var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions
            {
                DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, Sandbox = true,
            }, CancellationToken.None);
            System.Text.Json.JsonElement settled = default;
            for (var i = 0; i < 100; i++)
            {
                settled = await SagaToolTests.CallOkAsync(session.Client, "get_operation", new() { ["operation_id"] = deadOp });
                if (settled.GetProperty("status").GetString() != "running")
                {
                    break;
                }

                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            var untouched = await SagaToolTests.CallOkAsync(session.Client, "get_operation", new() { ["operation_id"] = liveOp });
            var foreign = await SagaToolTests.CallOkAsync(session.Client, "get_operation", new() { ["operation_id"] = foreignOp });
            Assert.Equal("running", foreign.GetProperty("status").GetString());
            Assert.Equal("failed", settled.GetProperty("status").GetString());
            Assert.Contains("no earlier step had changed anything", settled.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("running", untouched.GetProperty("status").GetString());
        }
        finally
        {
            live.Kill();
        }
    }
}
