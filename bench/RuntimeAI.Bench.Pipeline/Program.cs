// What the governance pipeline adds to a call, without a hypervisor or a cluster behind it: the
// server in process (the same MCP server, filters and pipeline as `runtimeai call`), libvirt's
// in-process test driver (test:///default, ~0.1 ms per operation, docs/libvirt.md), the store on
// tmpfs so an fsync costs nothing (the audit's durability wait is a property of the disk; see the
// audited throughput section of docs/performance.md). Timed per call, sequentially:
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Pipeline
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Pipeline -- --smoke   (20 calls per case; CI)
//   ... -- --tool snapshot_runtime   (one case only)
using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol.Client;
using RuntimeAI.Core.Policies;
using RuntimeAI.Host;
using RuntimeAI.Mcp.Hosting;

var smoke = args.Contains("--smoke");
var calls = smoke ? 20 : 1_000;
var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
var dir = Directory.CreateDirectory(Path.Combine(root, "runtimeai-bench-pipeline-" + Guid.NewGuid().ToString("n"))).FullName;
var policies = Directory.CreateDirectory(Path.Combine(dir, "policies")).FullName;
await File.WriteAllTextAsync(Path.Combine(policies, "allow.yaml"), """
    id: bench-allow
    rules:
      - id: allow-all
        kind: allow_action
    """);
var options = new RuntimeAiServerOptions { DataDir = Path.Combine(dir, "data"), Autonomy = AutonomyLevel.Autonomous, PoliciesDir = policies, LogLevel = "warning" };
options.Libvirt.Add("test:///default");
try
{
    await using var session = await InProcessSession.StartAsync(options, CancellationToken.None);
    var client = session.Client;
    var listed = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?>());
    var id = listed.StructuredContent!.Value.GetProperty("items").EnumerateArray().First(r => r.GetProperty("name").GetString() == "test").GetProperty("id").GetString();

    var cases = new (string Name, string Tool, Func<int, Dictionary<string, object?>> Args)[]
    {
        ("get_runtime (observe: firewall, scope, redaction, one audit record)", "get_runtime", _ => new() { ["runtime_id"] = id }),
        ("restart_runtime with dry_run (the gate: firewall, autonomy, policy, dry-run simulation, audit)", "restart_runtime", i => new() { ["runtime_id"] = id, ["dry_run"] = true, ["reasoning"] = "bench" }),
        ("snapshot_runtime (gated execute: the gate, then the saga, the operation and its events, the test driver's snapshot)", "snapshot_runtime", i => new() { ["runtime_id"] = id, ["name"] = $"bench-{i}", ["reasoning"] = "bench", ["idempotency_key"] = $"bench-{i}" }),
        // Back to back, each restart's late libvirt events arrive while the next call runs (docs/libvirt.md: events).
        ("restart_runtime (gated execute, and the backend's events of the previous restart recorded meanwhile)", "restart_runtime", i => new() { ["runtime_id"] = id, ["reasoning"] = "bench" }),
    };

    Console.WriteLine($"governance pipeline per call, in process, libvirt test driver, store on {root}: {calls:N0} sequential calls per case after as many warm-up ones (µs)");
    Console.WriteLine("| call | p50 | p90 | p99 | max |");
    Console.WriteLine("|---|---|---|---|---|");
    var n = 0;
    var only = args.SkipWhile(a => a != "--tool").Skip(1).FirstOrDefault();
    foreach (var (name, tool, arguments) in cases.Where(c => only is null || c.Tool == only))
    {
        for (var i = 0; i < calls; i++)
        {
            await CallAsync(tool, arguments(n++));
        }

        var samples = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var args2 = arguments(n++);
            var start = Stopwatch.GetTimestamp();
            await CallAsync(tool, args2);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)(q * samples.Length))];
        Console.WriteLine($"| {name} | {P(0.5):F0} | {P(0.9):F0} | {P(0.99):F0} | {samples[^1]:F0} |");
    }

    async Task CallAsync(string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments);
        if (result.IsError == true)
        {
            throw new InvalidOperationException($"{tool} failed: {JsonSerializer.Serialize(result.StructuredContent)}");
        }

        if (tool is "snapshot_runtime" or "restart_runtime" && !arguments.ContainsKey("dry_run")
            && result.StructuredContent?.GetProperty("status").GetString() != "succeeded")
        {
            throw new InvalidOperationException($"{tool} did not succeed: {JsonSerializer.Serialize(result.StructuredContent)}");
        }
    }

    return 0;
}
finally
{
    Directory.Delete(dir, recursive: true);
}
