// What the governance pipeline adds to a call, without a hypervisor or a cluster behind it: the
// server in process (the same MCP server, filters and pipeline as `runtimeai call`), libvirt's
// in-process test driver (test:///default, ~0.1 ms per operation, docs/libvirt.md), the store on
// tmpfs so an fsync costs nothing (the audit's durability wait is a property of the disk; see the
// audited throughput section of docs/performance.md). Timed per call, sequentially:
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Pipeline
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Pipeline -- --smoke   (20 calls per case; CI)
//   ... -- --tool snapshot_runtime   (one case only; "gate" is the pipeline alone)
//   ... -- --warmup 5000 --calls 1000  (the defaults)
//   ... -- --runtimes 10000  (that many other runtimes in the inventory first)
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using RuntimeAI.Core.Policies;
using RuntimeAI.Host;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Identity;
using RuntimeAI.Mcp.Pipeline;
using RuntimeAI.Mcp.Tools;

var smoke = args.Contains("--smoke");
// The JIT build tiers its code for several thousand calls (the shipped NativeAOT binary does not):
// the timed calls come after enough warm-up ones to measure the steady state.
var calls = smoke ? 20 : Option("--calls", 1_000);
var warmup = smoke ? 20 : Option("--warmup", 5_000);
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

    // Other runtimes in the inventory (--runtimes N): what a gated call costs when the fleet is large.
    var extra = Option("--runtimes", 0);
    var inventory = session.Services.GetRequiredService<RuntimeAI.Core.Inventory.IRuntimeInventory>();
    for (var i = 0; i < extra; i++)
    {
        await inventory.SaveRuntimeAsync(new RuntimeAI.Core.Runtimes.Runtime
        {
            Id = $"rt_bench_{i:D8}",
            Name = $"bench-{i}",
            Type = RuntimeAI.Core.Runtimes.RuntimeType.Vm,
            State = RuntimeAI.Core.Runtimes.RuntimeState.Running,
            Spec = new RuntimeAI.Core.Runtimes.RuntimeSpec { Size = "small" },
            CreatedAt = DateTimeOffset.UnixEpoch.AddSeconds(i),
        }, "created", CancellationToken.None);
    }

    // The gate alone: the pipeline object every transport calls, with a tool that does nothing (no
    // backend, no saga): audit start and record, authorization, firewall, plan, autonomy, policy,
    // approval check, idempotency claim, budget. No JSON-RPC, no MCP client.
    var services = session.Services;
    var pipeline = services.GetRequiredService<ToolCallPipeline>();
    var principal = services.GetRequiredService<PrincipalResolver>().Resolve(null);
    var restart = ToolCatalog.Find("restart_runtime")!;
    var noBackend = ToolResultMapper.ToCallToolResult(ToolResult.Ok(new JsonObject { ["status"] = "succeeded" }, "done (no backend)"));

    var cases = new (string Name, string Tool, Func<int, Task> Call)[]
    {
        ("get_runtime (observe: firewall, scope, redaction, one audit record)", "get_runtime",
            _ => CallAsync("get_runtime", new() { ["runtime_id"] = id })),
        ("restart_runtime with dry_run (the gate: firewall, autonomy, policy, dry-run simulation, audit)", "restart_runtime",
            _ => CallAsync("restart_runtime", new() { ["runtime_id"] = id, ["dry_run"] = true, ["reasoning"] = "bench" })),
        ("restart_runtime through the pipeline alone, no backend (the gate of an execute: audit start and record, firewall, plan, autonomy, policy, approval check, idempotency claim; no transport, a tool that does nothing)", "gate",
            i => GateAsync(i)),
        ("snapshot_runtime (gated execute: the gate, then the saga, the operation and its events, the test driver's snapshot)", "snapshot_runtime",
            i => CallAsync("snapshot_runtime", new() { ["runtime_id"] = id, ["name"] = $"bench-{i}", ["reasoning"] = "bench", ["idempotency_key"] = $"bench-{i}" })),
        // Back to back, each restart's late libvirt events arrive while the next call runs (docs/libvirt.md: events).
        ("restart_runtime (gated execute, and the backend's events of the previous restart recorded meanwhile)", "restart_runtime",
            _ => CallAsync("restart_runtime", new() { ["runtime_id"] = id, ["reasoning"] = "bench" })),
    };

    var n = 0;
    var only = args.SkipWhile(a => a != "--tool").Skip(1).FirstOrDefault();
    if (only is not null && cases.All(c => c.Tool != only))
    {
        Console.Error.WriteLine($"--tool {only}: no such case; use one of {string.Join(", ", cases.Select(c => c.Tool).Distinct())}");
        return 2;
    }

    Console.WriteLine($"governance pipeline per call, in process, libvirt test driver, store on {root}: {calls:N0} sequential calls per case after {warmup:N0} warm-up ones (µs)");
    Console.WriteLine("| call | p50 | p90 | p99 | max | CPU per call (whole process) | allocated per call | garbage collections while timed |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|");
    foreach (var (name, tool, call) in cases.Where(c => only is null || c.Tool == only))
    {
        for (var i = 0; i < warmup; i++)
        {
            await call(n++);
        }

        var samples = new double[calls];
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var pausedBefore = GC.GetTotalPauseDuration();
        var gcsBefore = GC.CollectionCount(0);
        for (var i = 0; i < calls; i++)
        {
            var index = n++;
            var start = Stopwatch.GetTimestamp();
            await call(index);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var cpuPerCall = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / calls;
        var allocatedPerCall = (GC.GetTotalAllocatedBytes() - allocatedBefore) / calls / 1024.0;
        var paused = GC.GetTotalPauseDuration() - pausedBefore;
        var gcs = GC.CollectionCount(0) - gcsBefore;
        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)(q * samples.Length))];
        Console.WriteLine($"| {name} | {P(0.5):F0} | {P(0.9):F0} | {P(0.99):F0} | {samples[^1]:F0} | {cpuPerCall:F0} | {allocatedPerCall:F0} KiB | {gcs} GCs, {paused.TotalMilliseconds:F0} ms paused |");
    }

    async Task CallAsync(string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments);
        if (result.IsError == true)
        {
            throw new InvalidOperationException($"{tool} failed: {result.StructuredContent?.GetRawText()}");
        }

        if (tool is "snapshot_runtime" or "restart_runtime" && !arguments.ContainsKey("dry_run")
            && result.StructuredContent?.GetProperty("status").GetString() != "succeeded")
        {
            throw new InvalidOperationException($"{tool} did not succeed: {result.StructuredContent?.GetRawText()}");
        }
    }

    async Task GateAsync(int i)
    {
        var context = new ToolCallContext
        {
            CallId = $"call_bench_{i}",
            ToolName = restart.Name,
            Tool = restart,
            Arguments = new JsonObject { ["runtime_id"] = id, ["reasoning"] = "bench", ["idempotency_key"] = $"gate-{i}" },
            Principal = principal,
            Transport = "bench",
            Autonomy = options.Autonomy,
            Reasoning = "bench",
            Services = services,
        };
        var ran = false;
        var result = await pipeline.InvokeAsync(context, _ => { ran = true; return ValueTask.FromResult(noBackend); }, CancellationToken.None);
        if (!ran || result.IsError == true)
        {
            throw new InvalidOperationException($"the gate did not let the call through: {result.StructuredContent?.GetRawText()}");
        }
    }

    return 0;
}
finally
{
    Directory.Delete(dir, recursive: true);
}

int Option(string name, int fallback) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;
