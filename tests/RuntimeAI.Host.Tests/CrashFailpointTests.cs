using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Operations;
using RuntimeAI.KubeSim;
using static RuntimeAI.Host.Tests.SagaToolTests;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Crash and restart at every named failpoint (<see cref="Failpoints"/>): the real executable
/// runs an execute_actions saga on the vcluster 'dev' of a KubeSim (Kubernetes API simulator)
/// that lives in this test process, so the world outlives the server as a real cluster would.
/// The server kills itself with SIGKILL at the armed failpoint; a new server on the same
/// --data-dir then gets the client's retry (same idempotency key) and must report the saga
/// succeeded, fully compensated, or stuck with a reason; no step may have run twice; the audit
/// chain must verify; and the inventory must match the world (snapshots and memory).
/// </summary>
public sealed class CrashFailpointTests
{
    /// <summary>Failpoint (with the hit that kills), and whether the saga's last action fails (so compensation runs).</summary>
    public static TheoryData<string, bool> Points => new()
    {
        { Failpoints.IdempotencyWriteBefore + ":1", false },
        { Failpoints.IdempotencyWriteAfter + ":1", false },
        { Failpoints.AuditAppendBefore + ":1", false },
        { Failpoints.AuditAppendAfter + ":1", false },
        { Failpoints.AuditAppendAfter + ":2", false },
        { Failpoints.StepBefore + ":2", false },
        { Failpoints.StepAfter + ":2", false },
        { Failpoints.StepDurable + ":2", false },
        { Failpoints.StepDurable + ":3", false },
        { Failpoints.CompensationBefore + ":1", true },
        { Failpoints.CompensationAfter + ":1", true },
        { Failpoints.CompensationAfter + ":2", true },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public async Task Crash_AtFailpoint_RestartSettlesTheSagaWithoutRunningAStepTwice(string failpoint, bool lastActionFails)
    {
        Assert.SkipUnless(Failpoints.Compiled, "this build has no failpoints; build with -p:RuntimeAiFailpoints=true (Debug builds have them)");
        var ct = TestContext.Current.CancellationToken;
        await using var world = await KubeSimServer.StartAsync(new KubeSimOptions
        {
            Port = 0, SeedYaml = SandboxWorld.Seed, PodStartDelay = TimeSpan.FromMilliseconds(100),
            VirtualMachineStartDelay = TimeSpan.FromMilliseconds(200), VirtualMachineStopDelay = TimeSpan.FromMilliseconds(100),
        }, ct);
        var dataDir = TestPaths.NewDataDir();
        var kubeconfig = Path.Combine(dataDir, "kubesim.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, world.CreateKubeconfigYaml(), ct);
        var policies = AllowAllPolicies();

        // Before: the runtime's id and size, from a server that is then stopped cleanly.
        string dev;
        string memoryBefore;
        await using (var first = await ConnectAsync(dataDir, kubeconfig, policies, null, _ => { }))
        {
            var list = await CallOkAsync(first, "list_runtimes", new() { ["type"] = "vcluster", ["page_size"] = 10 });
            dev = list.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString()!;
            for (var i = 0; i < 100 && (await CallOkAsync(first, "get_runtime_status", new() { ["runtime_id"] = dev })).GetProperty("state").GetString() != "running"; i++)
            {
                await Task.Delay(100, ct);
            }

            memoryBefore = MemoryOf(await CallOkAsync(first, "get_runtime", new() { ["runtime_id"] = dev }));
        }

        var arguments = new Dictionary<string, object?>
        {
            ["runtime_id"] = dev,
            ["idempotency_key"] = "crash-" + failpoint.Replace(':', '-'),
            ["actions"] = new[]
            {
                Action("snapshot", new() { ["name"] = "c1" }),
                Action("scale", new() { ["size"] = "small" }),
                lastActionFails ? Action("restore", new() { ["snapshot"] = "never-taken" }) : Action("snapshot", new() { ["name"] = "c2" }),
            },
        };

        // The crash: the first tool call of this server reaches the armed failpoint and the process dies.
        var stderr = new List<string>();
        await using (var crashing = await ConnectAsync(dataDir, kubeconfig, policies, failpoint, line =>
        {
            lock (stderr)
            {
                stderr.Add(line);
            }
        }))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => crashing.CallToolAsync("execute_actions", arguments, cancellationToken: ct).AsTask().WaitAsync(TimeSpan.FromSeconds(90), ct));
        }

        lock (stderr)
        {
            Assert.True(stderr.Any(l => l.Contains($"test failpoint {failpoint} reached", StringComparison.Ordinal)),
                $"the server did not die at {failpoint}; stderr:\n{string.Join('\n', stderr.TakeLast(20))}");
        }

        // The restart, and the client's retry with the same idempotency key.
        JsonElement operation;
        await using (var restarted = await ConnectAsync(dataDir, kubeconfig, policies, null, _ => { }))
        {
            var retry = await restarted.CallToolAsync("execute_actions", arguments, cancellationToken: ct);
            var retryText = string.Join(' ', retry.Content.OfType<TextContentBlock>().Select(t => t.Text));
            if (retry.IsError == true && retryText.Contains("never started", StringComparison.Ordinal))
            {
                // The key was claimed but the saga never began: the server says so and asks for a new
                // key. Nothing may have happened to the world; the retry with a new key then runs once.
                var untouched = (await CallOkAsync(restarted, "list_snapshots", new() { ["runtime_id"] = dev })).GetProperty("items").EnumerateArray();
                Assert.DoesNotContain(untouched, x => x.GetProperty("name").GetString() == "c1");
                Assert.Equal(memoryBefore, MemoryOf(await CallOkAsync(restarted, "get_runtime", new() { ["runtime_id"] = dev })));
                arguments["idempotency_key"] = arguments["idempotency_key"] + "-new";
                retry = await restarted.CallToolAsync("execute_actions", arguments, cancellationToken: ct);
            }

            var operationId = retry.StructuredContent is { } s && s.TryGetProperty("operation_id", out var id)
                ? id.GetString()!
                : OperationIdIn(string.Join(' ', retry.Content.OfType<TextContentBlock>().Select(t => t.Text)));
            operation = await CallOkAsync(restarted, "get_operation", new() { ["operation_id"] = operationId });
            for (var i = 0; i < 300 && operation.GetProperty("status").GetString() is "running" or "pending"; i++)
            {
                await Task.Delay(200, ct);
                operation = await CallOkAsync(restarted, "get_operation", new() { ["operation_id"] = operationId });
            }

            var status = operation.GetProperty("status").GetString();
            var steps = operation.GetProperty("result").GetProperty("steps").EnumerateArray()
                .Select(st => st.GetProperty("status").GetString()).ToList();
            var summary = $"{failpoint}: operation {status}, steps [{string.Join(", ", steps)}]: {operation}";

            // Settled: succeeded, fully compensated, or stuck with a reason.
            Assert.True(status is "succeeded" or "failed" or "stuck", summary);
            if (status == "succeeded")
            {
                Assert.False(lastActionFails, summary);
                Assert.All(steps, st => Assert.Equal("succeeded", st));
            }
            else if (status == "failed")
            {
                Assert.All(steps, st => Assert.Contains(st, (string?[])["compensated", "failed", "not_run", "succeeded_then_compensated"]));
                Assert.DoesNotContain("succeeded", steps);
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("error").GetProperty("message").GetString()), summary);
            }

            // No step ran twice: one success event per step of this operation at most.
            var events = await SagaEventsAsync(restarted, dev);
            var succeeded = events.Where(e => e.GetProperty("type").GetString() == "saga.step_succeeded"
                                              && e.GetProperty("data").GetProperty("operation_id").GetString() == operationId)
                .Select(e => e.GetProperty("data").GetProperty("step").GetInt32()).ToList();
            Assert.True(succeeded.Count == succeeded.Distinct().Count(), $"a step ran twice ({string.Join(",", succeeded)}): {summary}");

            // The world matches the inventory and the outcome.
            var snapshots = (await CallOkAsync(restarted, "list_snapshots", new() { ["runtime_id"] = dev })).GetProperty("items")
                .EnumerateArray().Select(x => x.GetProperty("name").GetString()).ToList();
            var memoryAfter = MemoryOf(await CallOkAsync(restarted, "get_runtime", new() { ["runtime_id"] = dev }));
            var observed = await CallOkAsync(restarted, "get_runtime_status", new() { ["runtime_id"] = dev });
            if (status == "succeeded")
            {
                Assert.Contains("c1", snapshots);
                Assert.Contains("c2", snapshots);
                Assert.NotEqual(memoryBefore, memoryAfter);
            }
            else if (status == "failed")
            {
                Assert.True(!snapshots.Contains("c1") && !snapshots.Contains("c2"), $"snapshots left behind [{string.Join(",", snapshots)}]: {summary}");
                Assert.Equal(memoryBefore, memoryAfter);
            }

            Assert.True(MiB(memoryAfter) == observed.GetProperty("signals").GetProperty("memory").GetProperty("value").GetInt64(),
                $"the inventory says {memoryAfter}, the world {observed.GetProperty("signals").GetProperty("memory")}: {summary}");
        }

        var (code, stdout, verifyErr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        Assert.True(code == 0, $"audit verify after the crash at {failpoint}: {stdout}{verifyErr}");
    }

    internal static string MemoryOf(JsonElement runtime) => runtime.GetProperty("spec").GetProperty("resources").GetProperty("memory").GetString()!;

    internal static long MiB(string memory) => memory.EndsWith("Gi", StringComparison.Ordinal)
        ? long.Parse(memory[..^2], System.Globalization.CultureInfo.InvariantCulture) * 1024
        : long.Parse(memory.Replace("Mi", string.Empty, StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<McpClient> ConnectAsync(string dataDir, string kubeconfig, string policies, string? failpoint, Action<string> stderr)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", dataDir, "--kubeconfig", kubeconfig, "--autonomy", "autonomous", "--policies", policies],
            Name = "runtimeai",
            EnvironmentVariables = new Dictionary<string, string?>
            {
                ["RUNTIMEAI_TEST_HOOKS"] = failpoint is null ? null : "1",
                ["RUNTIMEAI_TEST_CRASH_AT"] = failpoint,
                ["RUNTIMEAI_CONFIG"] = null,
            },
            StandardErrorLines = stderr,
        });
        return await McpClient.CreateAsync(transport);
    }
}
