using System.Text.Json.Nodes;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Tests.Lifecycle;

namespace RuntimeAI.Core.Tests.Governance;

/// <summary>The dry-run asks the runtime's driver what its backend knows (IRuntimeDriver.AssessAsync).</summary>
public sealed class DryRunAssessmentTests
{
    private static Runtime On(FlippableDriver driver, RuntimeState state = RuntimeState.Running) => new()
    {
        Id = "rt_1",
        Name = "web",
        Type = RuntimeType.Vm,
        State = state,
        Backend = new RuntimeBackendRef(BackendKind.VmBackend, driver.Name + "#web"),
        Spec = new RuntimeSpec { Size = "nano", Resources = new ResourceProfile { Cpu = 1, Memory = "512Mi" } },
        CreatedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public async Task SimulateAsync_DriverRefuses_BlockingReasonsNotesAndWorkloadsReachTheReport()
    {
        var driver = new FlippableDriver("fake:a")
        {
            Assess = _ => new ActionAssessment { BlockingReasons = ["PodDisruptionBudget ns/web allows 0 disruption(s)"], Notes = ["2 pods go"], Disrupted = ["pod ns/web-1"] },
        };

        var report = await new DryRunSimulator(new DriverRegistry([driver])).SimulateAsync(On(driver), new RuntimeAction { Type = ActionType.Stop }, [], TestContext.Current.CancellationToken);

        Assert.True(report.Blocked);
        Assert.Equal(["PodDisruptionBudget ns/web allows 0 disruption(s)"], report.BlockingReasons);
        Assert.Contains("2 pods go", report.Notes);
        Assert.Equal(["pod ns/web-1"], report.Disrupted);
        Assert.Equal(new PlannedAction(ActionType.Stop, "fake:a#web", null), Assert.Single(driver.Assessed));
    }

    [Fact]
    public async Task SimulateAsync_Scale_PassesTheTargetSize()
    {
        var driver = new FlippableDriver("fake:a");

        await new DryRunSimulator(new DriverRegistry([driver])).SimulateAsync(On(driver),
            new RuntimeAction { Type = ActionType.Scale, Params = new JsonObject { ["size"] = "large" } }, [], TestContext.Current.CancellationToken);

        Assert.Equal(new ScaleTarget(2, 8192), Assert.Single(driver.Assessed).Target);
    }

    [Fact]
    public async Task SimulateAsync_CreateNamingABackend_AsksThatBackendWithNameAndNamespace()
    {
        var first = new FlippableDriver("fake:a");
        var second = new FlippableDriver("fake:b");
        var action = new RuntimeAction
        {
            Type = ActionType.Create,
            Params = new JsonObject { ["name"] = "db", ["type"] = "vm", ["backend"] = "fake:b", ["namespace"] = "team", ["spec"] = new JsonObject { ["size"] = "small" } },
        };

        await new DryRunSimulator(new DriverRegistry([first, second])).SimulateAsync(null, action, [], TestContext.Current.CancellationToken);

        Assert.Empty(first.Assessed);
        Assert.Equal(new PlannedAction(ActionType.Create, null, new ScaleTarget(1, 2048), "db", "team"), Assert.Single(second.Assessed));
    }

    [Fact]
    public async Task SimulateAsync_AssessmentFails_IsANoteNotABlock()
    {
        var driver = new FlippableDriver("fake:a") { Assess = _ => throw new RuntimeDriverException("quota list refused (HTTP 403)") };

        var report = await new DryRunSimulator(new DriverRegistry([driver])).SimulateAsync(On(driver), new RuntimeAction { Type = ActionType.Restart }, [], TestContext.Current.CancellationToken);

        Assert.False(report.Blocked);
        Assert.Contains("the backend could not assess the action: quota list refused (HTTP 403)", report.Notes);
    }

    [Fact]
    public async Task SimulateAsync_InvalidTransition_DoesNotAskTheBackend()
    {
        var driver = new FlippableDriver("fake:a");

        var report = await new DryRunSimulator(new DriverRegistry([driver])).SimulateAsync(On(driver, RuntimeState.Stopped), new RuntimeAction { Type = ActionType.Stop }, [], TestContext.Current.CancellationToken);

        Assert.True(report.Blocked);
        Assert.Empty(driver.Assessed);
    }
}
