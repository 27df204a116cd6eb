using ModelContextProtocol.Client;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Crash safety of execute_actions with the real executable over stdio: the process is killed
/// (Environment.FailFast, test hook) right after a step is durable, then restarted on the same
/// --data-dir. The sandbox backend (test:///default) lives inside the process, so the VM itself
/// is gone after the restart: what this proves is that the interrupted operation is settled and
/// recorded, never left "running" — here as stuck, with instructions, because the runtime's
/// backend no longer has it.
/// </summary>
public sealed class SagaCrashTests
{
    private static async Task<McpClient> ConnectAsync(string dataDir, string policies, Dictionary<string, string?> env)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", dataDir, "--sandbox", "--autonomy", "autonomous", "--policies", policies],
            Name = "runtimeai",
            EnvironmentVariables = env,
            StandardErrorLines = _ => { },
        });
        return await McpClient.CreateAsync(transport);
    }

    [Fact]
    public async Task Crash_AfterStep2IsDurable_RestartSettlesTheOperationAsStuckAndRecordsItInEvents()
    {
        // The executable is built with the same configuration and properties as this test assembly.
        Assert.SkipUnless(RuntimeAI.Core.Operations.Failpoints.Compiled,
            "this build has no failpoints; build with -p:RuntimeAiFailpoints=true (Debug builds have them)");
        var dataDir = TestPaths.NewDataDir();
        var policies = SagaToolTests.AllowAllPolicies();
        string runtimeId;
        var crashing = await ConnectAsync(dataDir, policies, new()
        {
            ["RUNTIMEAI_TEST_HOOKS"] = "1", ["RUNTIMEAI_TEST_CRASH_AFTER_STEP"] = "2", ["RUNTIMEAI_CONFIG"] = null,
        });
        await using (crashing)
        {
            var created = await SagaToolTests.CallOkAsync(crashing, "create_runtime", new() { ["name"] = SagaToolTests.UniqueName(), ["type"] = "vm" });
            runtimeId = created.GetProperty("runtime_id").GetString()!;
            var call = crashing.CallToolAsync("execute_actions", new Dictionary<string, object?>
            {
                ["runtime_id"] = runtimeId,
                ["actions"] = new[]
                {
                    SagaToolTests.Action("snapshot", new() { ["name"] = "c1" }),
                    SagaToolTests.Action("scale", new() { ["size"] = "micro" }),
                    SagaToolTests.Action("snapshot", new() { ["name"] = "c2" }),
                },
            }, cancellationToken: TestContext.Current.CancellationToken).AsTask();
            await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        }

        await using var restarted = await ConnectAsync(dataDir, policies, new() { ["RUNTIMEAI_TEST_HOOKS"] = null, ["RUNTIMEAI_CONFIG"] = null });
        List<System.Text.Json.JsonElement> events = [];
        for (var i = 0; i < 120 && !events.Any(e => e.GetProperty("type").GetString() is "saga.stuck" or "saga.failed"); i++)
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
            events = await SagaToolTests.SagaEventsAsync(restarted, runtimeId);
        }

        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        var operationId = events[0].GetProperty("data").GetProperty("operation_id").GetString()!;
        var operation = await SagaToolTests.CallOkAsync(restarted, "get_operation", new() { ["operation_id"] = operationId });
        Assert.Equal(["saga.started", "saga.step_succeeded", "saga.step_succeeded", "saga.recovery_started"], types.Take(4));
        Assert.Equal("saga.stuck", types[^1]);
        Assert.Equal("stuck", operation.GetProperty("status").GetString());
        var message = operation.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("the server stopped after step 2 of 3 had finished", message, StringComparison.Ordinal);
        Assert.Contains("a human must act", message, StringComparison.Ordinal);
        var steps = operation.GetProperty("result").GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("status").GetString()).ToList();
        Assert.Equal(["succeeded", "compensation_failed", "not_run"], steps);
    }
}
