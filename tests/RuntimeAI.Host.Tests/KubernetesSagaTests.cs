using System.Text.Json;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;
using static RuntimeAI.Host.Tests.SagaToolTests;

namespace RuntimeAI.Host.Tests;

/// <summary>Transactional execution on a vcluster of the sandbox (KubeSim): the saga's compensation works on the Kubernetes backend too.</summary>
public sealed class KubernetesSagaTests
{
    [Fact]
    public async Task ExecuteActions_VclusterLastStepFails_SnapshotAndScaleCompensatedInReverse()
    {
        await using var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions
        {
            DataDir = TestPaths.NewDataDir(), Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = AllowAllPolicies(),
        }, CancellationToken.None);
        var client = session.Client;
        var list = await CallOkAsync(client, "list_runtimes", new() { ["type"] = "vcluster", ["page_size"] = 10 });
        var dev = list.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString()!;
        for (var i = 0; i < 100 && (await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = dev })).GetProperty("state").GetString() != "running"; i++)
        {
            await Task.Delay(100, cancellationToken: TestContext.Current.CancellationToken);
        }

        var before = await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = dev });

        var error = await CallErrorAsync(client, "execute_actions", new()
        {
            ["runtime_id"] = dev,
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "keep-me" }),
                Action("scale", new() { ["size"] = "small" }),
                Action("restore", new() { ["snapshot"] = "never-taken" }),
            },
        });

        Assert.True(error.Contains("no snapshot 'never-taken'", StringComparison.Ordinal), error);
        Assert.Contains("compensated in reverse order", error, StringComparison.Ordinal);
        var events = await SagaEventsAsync(client, dev);
        // Steps: 1 snapshot, 2 scale, 3 auto-snapshot, 4 restore (failed).
        Assert.Equal([3, 2, 1], events.Where(e => e.GetProperty("type").GetString() == "saga.compensated").Select(e => e.GetProperty("data").GetProperty("step").GetInt32()));
        var snapshots = await CallOkAsync(client, "list_snapshots", new() { ["runtime_id"] = dev });
        Assert.Empty(snapshots.GetProperty("items").EnumerateArray());
        var status = await CallOkAsync(client, "get_runtime_status", new() { ["runtime_id"] = dev });
        Assert.Equal("running", status.GetProperty("state").GetString());
        var after = await CallOkAsync(client, "get_runtime", new() { ["runtime_id"] = dev });
        Assert.Equal(before.GetProperty("spec").GetProperty("resources").GetProperty("memory").GetString(), after.GetProperty("spec").GetProperty("resources").GetProperty("memory").GetString());
        Assert.Equal(256, status.GetProperty("signals").GetProperty("memory").GetProperty("value").GetInt64());
    }
}
