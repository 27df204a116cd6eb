using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Operations;
using static RuntimeAI.Host.Tests.QemuSagaTests;
using static RuntimeAI.Host.Tests.ReplicaTakeoverTests;
using static RuntimeAI.Host.Tests.SagaToolTests;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// The replica takeover on a real hypervisor: three <c>runtimeai serve</c> replicas on one PostgreSQL
/// schema, each connected to the libvirtd that scripts/qemu-tier.sh starts (qemu:///system). Replica A
/// kills itself with SIGKILL right after a saga's forced stop of a qemu VM is recorded; B or C (neither
/// restarted) takes the saga over and compensates it, and virsh — the real client — sees the VM where
/// the inventory says. Skipped with the reason without RUNTIMEAI_QEMU_URI, RUNTIMEAI_TEST_POSTGRES or
/// failpoints in the build.
/// </summary>
[Trait("Category", "Qemu")]
public sealed class QemuReplicaTakeoverTests(ITestOutputHelper output)
{
    /// <summary>Kill → operation settled: detection every 2 s, then a snapshot deletion and a qemu start.</summary>
    private static readonly TimeSpan s_takeoverBound = TimeSpan.FromSeconds(45);

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    [Fact]
    public async Task ReplicaKilledAfterStoppingAQemuVm_RunningReplicaTakesOver_VirshAgreesWithTheInventory()
    {
        var uri = Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_URI");
        if (string.IsNullOrEmpty(uri))
        {
            Assert.Skip("RUNTIMEAI_QEMU_URI is not set. Run scripts/qemu-tier.sh (with RUNTIMEAI_TEST_POSTGRES set) to exercise replicas on a real qemu/KVM hypervisor.");
        }

        Assert.SkipUnless(Failpoints.Compiled, "this build has no failpoints; build with -p:RuntimeAiFailpoints=true (Debug builds have them)");
        var ct = TestContext.Current.CancellationToken;
        var failpoint = Failpoints.StepDurable + ":2";
        await using var cluster = await ClusterAsync(ct, libvirtUri: uri, dataRoot: Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_DATADIR") ?? Path.GetTempPath());
        await using var b = await cluster.StartReplicaAsync("b", null);
        await using var clientB = await ConnectAsync(b);
        var name = "rtq-rep-" + Guid.NewGuid().ToString("N")[..6];
        var id = (await CallOkAsync(clientB, "create_runtime", new() { ["name"] = name, ["type"] = "vm" })).GetProperty("runtime_id").GetString()!;
        try
        {
            Assert.Equal("running", Virsh(uri, "domstate", name));
            await using var c = await cluster.StartReplicaAsync("c", null);
            await using var clientC = await ConnectAsync(c);
            await using var a = await cluster.StartReplicaAsync("a", failpoint);
            var arguments = new Dictionary<string, object?>
            {
                ["runtime_id"] = id,
                ["idempotency_key"] = "qemu-takeover-" + name,
                ["actions"] = new[]
                {
                    Action("snapshot", new() { ["name"] = "s1" }),
                    Action("stop", new() { ["force"] = true }),
                    Action("snapshot", new() { ["name"] = "s2" }),
                },
            };

            // The saga goes to A, which dies once the stop (step 2) is recorded: the VM is off and s1 exists.
            // The client's retry goes to B.
            var (operationId, operation, takeover) = await KillMidSagaAsync(a, clientB, arguments, failpoint, s_takeoverBound, ct);
            var status = operation.GetProperty("status").GetString();
            var summary = $"operation {status} after {takeover.TotalMilliseconds:F0} ms: {operation}";
            output.WriteLine($"takeover on qemu at {failpoint}: {takeover.TotalMilliseconds:F0} ms from the kill to the operation settled");

            // Settled by B or C, compensated (the stop by a start, s1 by its deletion), not resumed.
            Assert.True(status == "failed", summary);
            Assert.True(takeover < s_takeoverBound, summary);
            var executor = operation.GetProperty("result").GetProperty("executor_process").GetProperty("replica").GetString();
            var settler = operation.GetProperty("result").GetProperty("settled_by").GetProperty("replica").GetString();
            Assert.False(string.IsNullOrEmpty(executor), summary);
            Assert.NotEqual(executor, settler);
            Assert.Contains(settler, (string?[])[await ReplicaIdAsync(cluster, b.Id, ct), await ReplicaIdAsync(cluster, c.Id, ct)]);

            // One recovery; no step and no compensation ran twice; step 3 never ran.
            var events = (await SagaEventsAsync(clientC, id))
                .Where(e => e.GetProperty("data").TryGetProperty("operation_id", out var o) && o.GetString() == operationId).ToList();
            Assert.Single(events, e => e.GetProperty("type").GetString() == "saga.recovery_started");
            static List<int> Steps(List<System.Text.Json.JsonElement> all, string type) => all.Where(e => e.GetProperty("type").GetString() == type).Select(e => e.GetProperty("data").GetProperty("step").GetInt32()).ToList();
            Assert.Equal([1, 2], Steps(events, "saga.step_succeeded").Order());
            Assert.Equal([1, 2], Steps(events, "saga.compensated").Order());

            // The inventory, read through C, and virsh say the same: running again, no snapshot of the saga.
            var state = await WaitForStateAsync(clientC, id, "running", ct);
            var record = await CallOkAsync(clientC, "get_runtime", new() { ["runtime_id"] = id });
            var inventorySnapshots = (await CallOkAsync(clientC, "list_snapshots", new() { ["runtime_id"] = id })).GetProperty("items")
                .EnumerateArray().Select(x => x.GetProperty("name").GetString()!).Order().ToList();
            var virshSnapshots = Virsh(uri, "snapshot-list", name, "--name");
            Assert.DoesNotContain("(virsh exit", virshSnapshots, StringComparison.Ordinal);
            Assert.Equal("running", state);
            Assert.Equal("running", record.GetProperty("state").GetString());
            Assert.Equal("running", Virsh(uri, "domstate", name));
            Assert.Equal(virshSnapshots.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order().ToList(), inventorySnapshots);
            Assert.DoesNotContain("s1", inventorySnapshots);
            Assert.DoesNotContain("s2", inventorySnapshots);

            var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", cluster.Config);
            Assert.True(code == 0, $"audit verify after the takeover: {stdout}{stderr}");
        }
        finally
        {
            var deleted = await clientB.CallToolAsync("delete_runtime", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: ct);
            output.WriteLine(Text(deleted));
        }

        Assert.StartsWith("(virsh exit", Virsh(uri, "domstate", name), StringComparison.Ordinal);
    }
}
