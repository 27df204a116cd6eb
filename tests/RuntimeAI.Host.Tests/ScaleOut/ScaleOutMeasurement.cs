using System.Diagnostics;
using System.Globalization;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static RuntimeAI.Host.Tests.ScaleOut.ReplicaSet;

namespace RuntimeAI.Host.Tests.ScaleOut;

/// <summary>
/// Calls/s through the proxy with 1, 2 and 3 replicas on one PostgreSQL database: concurrent SDK
/// agents (2026-07-28, stateless) each looping list_runtimes, get_runtime, get_runtime_status,
/// list_snapshots and one execute_actions saga (a snapshot of a vcluster, an audited mutation that
/// goes through KubeSim) — four observe calls per execute ("mixed"), or the observe calls only.
/// Each agent has a vcluster of its own. Every answered call counts; the chain must verify afterwards. A measurement, not a check: opt-in with RUNTIMEAI_SCALEOUT_MEASURE=1
/// (RUNTIMEAI_SCALEOUT_SECONDS, default 20; RUNTIMEAI_SCALEOUT_AGENTS, default 16); prints the
/// table of docs/scale-out.md.
/// </summary>
public sealed class ScaleOutMeasurement(ITestOutputHelper output)
{
    [Fact]
    public async Task CallsPerSecond_With1_2_3Replicas()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("RUNTIMEAI_SCALEOUT_MEASURE") != "1",
            "a measurement, not a check: set RUNTIMEAI_SCALEOUT_MEASURE=1 (and RUNTIMEAI_TEST_POSTGRES) to print the calls/s of docs/scale-out.md");
        var ct = TestContext.Current.CancellationToken;
        var admin = RequirePostgres();
        var seconds = double.Parse(Environment.GetEnvironmentVariable("RUNTIMEAI_SCALEOUT_SECONDS") ?? "20", CultureInfo.InvariantCulture);
        var agents = int.Parse(Environment.GetEnvironmentVariable("RUNTIMEAI_SCALEOUT_AGENTS") ?? "16", CultureInfo.InvariantCulture);
        var lines = new List<string> { $"{agents} agents, {seconds} s per run after a 5 s warm-up, {Environment.ProcessorCount} cores, load average {LoadAverage()} at start" };
        lines.Add("| replicas | workload | calls/s | executes/s | p50 ms | p99 ms | errors | load average after |");
        lines.Add("|---|---|---|---|---|---|---|---|");
        foreach (var replicas in new[] { 1, 2, 3 })
        {
            // One vcluster per agent: the sagas of different agents do not wait for each other's runtime lock.
            await using var set = await StartAsync(admin, replicas, pinSessions: false, together: false, ct, extraVclusters: agents);
            foreach (var mixed in new[] { false, true })
            {
                await RunAsync(set, agents, 5, mixed, ct);
                var (calls, executes, errors, p50, p99) = await RunAsync(set, agents, seconds, mixed, ct);
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"| {replicas} | {(mixed ? "mixed 4:1" : "observe")} | {calls:F0} | {executes:F1} | {p50:F0} | {p99:F0} | {errors} | {LoadAverage()} |");
                lines.Add(line);
                output.WriteLine(line);
            }

            var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", set.Config);
            Assert.True(code == 0, $"audit verify: {stdout}{stderr}");
        }

        var report = Path.Combine(Path.GetTempPath(), "runtimeai-scaleout-measure.txt");
        await File.WriteAllLinesAsync(report, lines, ct);
        output.WriteLine(string.Join('\n', lines));
    }

    private static async Task<(double Calls, double Executes, long Errors, double P50, double P99)> RunAsync(ReplicaSet set, int agents, double seconds, bool mixed, CancellationToken ct)
    {
        string[] vclusters;
        await using (var setup = await set.ConnectAsync("setup", null, ct))
        {
            vclusters = [.. Structured(await setup.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vcluster", ["page_size"] = 100 }, cancellationToken: ct))
                .GetProperty("items").EnumerateArray().Where(r => r.GetProperty("name").GetString()!.StartsWith("load-", StringComparison.Ordinal))
                .Select(r => r.GetProperty("id").GetString()!)];
        }

        long calls = 0, executes = 0, errors = 0;
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var until = Stopwatch.StartNew();
        var run = Guid.NewGuid().ToString("N")[..8];
        await Task.WhenAll(Enumerable.Range(0, agents).Select(async agent =>
        {
            await using var client = await set.ConnectAsync($"load-{agent}", null, ct);
            var target = vclusters[agent % vclusters.Length];
            for (var i = 0; until.Elapsed.TotalSeconds < seconds; i++)
            {
                var (tool, arguments) = (mixed ? i % 5 : i % 4) switch
                {
                    0 => ("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 10 }),
                    1 => ("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = target }),
                    2 => ("get_runtime_status", new Dictionary<string, object?> { ["runtime_id"] = target }),
                    3 => ("list_snapshots", new Dictionary<string, object?> { ["runtime_id"] = target }),
                    _ => ("execute_actions", new Dictionary<string, object?>
                    {
                        ["runtime_id"] = target, ["idempotency_key"] = $"m-{run}-{agent}-{i}",
                        ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = $"m{run}a{agent}i{i}" } } },
                    }),
                };
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var result = await client.CallToolAsync(tool, arguments, cancellationToken: ct);
                    if (result.IsError == true)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (McpException)
                {
                    Interlocked.Increment(ref errors);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref calls);
                if (tool == "execute_actions")
                {
                    Interlocked.Increment(ref executes);
                }
            }
        }));

        var elapsed = until.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return (calls / elapsed, executes / elapsed, errors, sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)]);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
