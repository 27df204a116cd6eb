using System.Text.Json.Nodes;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Operations;

namespace RuntimeAI.Core.Tests.Operations;

/// <summary>Planning a saga over several runtimes: each step, its automatic snapshot and its compensation carry the step's runtime.</summary>
public sealed class SagaPlanningTests
{
    private static RuntimeAction On(string? runtimeId, ActionType type, JsonObject? parameters = null) => new()
    {
        Type = type, Params = parameters, Target = runtimeId is null ? null : new JsonObject { ["runtime_id"] = runtimeId },
    };

    [Fact]
    public void Plan_StepOnAnotherRuntime_AutoSnapshotAndCompensationsRunThere()
    {
        var commands = SagaExecutor.ToCommands(
            [On("rt_vm", ActionType.Start), On("rt_vc", ActionType.Restore, new JsonObject { ["snapshot"] = "s" })], "rt_vm");

        var steps = SagaExecutor.Plan("op_1", commands);

        Assert.Equal([null, "rt_vc", "rt_vc"], steps.Select(s => s.Command.RuntimeId));
        Assert.Equal([null, "rt_vc", "rt_vc"], steps.Select(s => s.Compensation!.RuntimeId));
        Assert.Equal(["rt_vm", "rt_vc"], SagaExecutor.RuntimesOf("rt_vm", steps));
    }

    [Fact]
    public void PayloadDigest_SameActionsOnAnotherRuntime_Differs_AndNamingTheDefaultRuntimeChangesNothing()
    {
        var plain = SagaExecutor.ToCommands([On(null, ActionType.Start), On(null, ActionType.Stop)], "rt_vm");
        var explicitDefault = SagaExecutor.ToCommands([On("rt_vm", ActionType.Start), On("rt_vm", ActionType.Stop)], "rt_vm");
        var moved = SagaExecutor.ToCommands([On(null, ActionType.Start), On("rt_vc", ActionType.Stop)], "rt_vm");

        Assert.Equal(SagaExecutor.PayloadDigest("rt_vm", plain), SagaExecutor.PayloadDigest("rt_vm", explicitDefault));
        Assert.NotEqual(SagaExecutor.PayloadDigest("rt_vm", plain), SagaExecutor.PayloadDigest("rt_vm", moved));
    }

    [Fact]
    public void Deserialize_StepStoredBeforeStepsHadARuntime_RunsOnTheOperationsRuntime()
    {
        var old = SagaJson.Deserialize("""{"step":1,"action_index":1,"kind":"action","command":{"type":"start"},"compensation":{"type":"stop","force":true},"status":"succeeded"}""");

        Assert.Null(old.Command.RuntimeId);
        Assert.Equal(["rt_op"], SagaExecutor.RuntimesOf("rt_op", [old]));
    }
}
