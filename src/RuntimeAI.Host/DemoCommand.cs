using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Signals;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai demo</c>: walks one intent from goal to audited execution on the sandbox (libvirt's
/// in-process test driver and KubeSim, a Kubernetes API simulator), printing each stage. Every
/// stage is a real MCP tool call through the same pipeline an agent's call passes.
/// </summary>
internal static class DemoCommand
{
    public const string Goal = "reduce cost while keeping latency < 50ms";

    public static Command Create()
    {
        var dataDir = Cli.DataDirOption();
        dataDir.Description = "Store to use (default: a new temporary directory, so your own store is not touched).";
        var command = new Command("demo", "Walk an intent from goal to audited execution in the sandbox, printing each stage.") { dataDir };
        command.SetAction(async (parse, ct) => await RunAsync(parse.GetValue(dataDir), Console.Out, ct));
        return command;
    }

    internal static async Task<int> RunAsync(string? dataDir, TextWriter output, CancellationToken cancellationToken)
    {
        dataDir ??= Directory.CreateTempSubdirectory("runtimeai-demo-").FullName;
        var policies = Path.Combine(dataDir, "demo-policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, "demo.yaml"), """
            id: demo
            name: Demo - agents may create, shrink, snapshot and stop sandbox runtimes
            rules:
              - id: demo-allow
                kind: allow_action
                selector: {action_types: [create, scale, snapshot, stop]}
            """, cancellationToken);
        var options = new RuntimeAiServerOptions
        {
            DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, Sandbox = true, PoliciesDir = policies, SignalInterval = TimeSpan.Zero,
        };
        await output.WriteLineAsync($"RuntimeAI demo — data {dataDir}; autonomy autonomous; policy 'demo' allows create, scale, snapshot, stop.");
        await output.WriteLineAsync("Backends: SANDBOX — libvirt test:///default (simulated hypervisor) and KubeSim (a Kubernetes API simulator, not a cluster).");
        await using (var session = await InProcessSession.StartAsync(options, cancellationToken))
        {
            var client = session.Client;
            await Stage(output, 1, "a runtime");
            var created = await CallAsync(client, "create_runtime", new() { ["name"] = "demo-idle-vm", ["type"] = "vm", ["spec"] = new Dictionary<string, object?> { ["size"] = "large" } }, cancellationToken);
            var id = created.GetProperty("runtime_id").GetString()!;
            await output.WriteLineAsync($"  created demo-idle-vm ({id}), size large (2 vCPU, 8 GiB), running");

            await Stage(output, 2, "signals the server keeps");
            // The sandbox hypervisor burns no CPU, so an hour of an idle VM's samples is written into
            // the store the collector writes to — synthetic, and said so.
            using (var db = SqliteDatabase.Open(dataDir))
            {
                var now = TimeProvider.System.GetUtcNow();
                await new SqliteSignalStore(db).AppendAsync(
                    [.. Enumerable.Range(0, 60).Select(i => new SignalSample(id, SignalNames.CpuUsage, now.AddMinutes(i - 60), 1 + i % 4 * 0.5))], cancellationToken);
            }

            var metrics = await CallAsync(client, "get_metrics", new() { ["runtime_id"] = id, ["window"] = "1h", ["metrics"] = new[] { "cpu_usage" } }, cancellationToken);
            var cpu = metrics.GetProperty("metrics").GetProperty("cpu_usage");
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  get_metrics: cpu_usage {cpu.GetProperty("count").GetInt32()} points over 1h (seeded, synthetic), avg {cpu.GetProperty("avg").GetDouble():0.##} %, max {cpu.GetProperty("max").GetDouble():0.##} %"));

            await Stage(output, 3, $"goal: \"{Goal}\" → plan_actions (no side effects)");
            var plan = await CallAsync(client, "plan_actions", new() { ["runtime_id"] = id, ["goal"] = Goal, ["policy_mode"] = "balanced" }, cancellationToken);
            foreach (var t in plan.GetProperty("explanation_trace").EnumerateArray())
            {
                await output.WriteLineAsync($"  [{t.GetProperty("step").GetString()}] {t.GetProperty("detail").GetString()}");
                foreach (var e in t.GetProperty("evidence").EnumerateArray().Take(3))
                {
                    await output.WriteLineAsync($"      evidence: {e.GetString()}");
                }
            }

            var effect = plan.GetProperty("expected_effect");
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  expected effect: {effect.GetProperty("vcpus_freed").GetDouble():0.#} vCPU, {effect.GetProperty("memory_mib_freed").GetDouble():0} MiB freed, {effect.GetProperty("cost_delta_monthly").GetDouble():+0.##;-0.##;0} {effect.GetProperty("currency").GetString()}/month"));

            await Stage(output, 4, "submit_intent → the plan runs as one execute_actions call through the pipeline");
            var intent = await CallAsync(client, "submit_intent", new() { ["runtime_id"] = id, ["goal"] = Goal, ["policy_mode"] = "balanced" }, cancellationToken);
            var intentId = intent.GetProperty("intent_id").GetString()!;
            await output.WriteLineAsync($"  intent {intentId}: {intent.GetProperty("status").GetString()}");
            foreach (var a in intent.GetProperty("planned_actions").EnumerateArray())
            {
                await output.WriteLineAsync($"  action: {a.GetRawText()}");
            }

            await Stage(output, 5, "the operation (a saga with compensations)");
            if (intent.TryGetProperty("operation_id", out var op) && op.GetString() is { } operationId)
            {
                var operation = await CallAsync(client, "get_operation", new() { ["operation_id"] = operationId }, cancellationToken);
                await output.WriteLineAsync($"  {operationId}: {operation.GetProperty("action").GetString()} {operation.GetProperty("status").GetString()}");
            }

            var runtime = await CallAsync(client, "get_runtime", new() { ["runtime_id"] = id }, cancellationToken);
            await output.WriteLineAsync($"  demo-idle-vm is now size {runtime.GetProperty("spec").GetProperty("size").GetString()}, {runtime.GetProperty("state").GetString()}");

            await Stage(output, 6, "the audit trail");
            var record = await CallAsync(client, "get_intent", new() { ["intent_id"] = intentId }, cancellationToken);
            await output.WriteLineAsync($"  get_intent: {record.GetProperty("status").GetString()} — {record.GetProperty("result").GetProperty("summary").GetString()}");
            var audit = await CallAsync(client, "get_audit_trail", new() { ["page_size"] = 20 }, cancellationToken);
            foreach (var r in audit.GetProperty("items").EnumerateArray().Where(r => r.GetProperty("tool").GetString() is "plan_actions" or "submit_intent" or "execute_actions"))
            {
                await output.WriteLineAsync($"  audit #{r.GetProperty("seq").GetInt64()}: {r.GetProperty("tool").GetString()} → {r.GetProperty("outcome").GetString()}" +
                    (r.TryGetProperty("operation_id", out var o) && o.ValueKind == JsonValueKind.String ? $" ({o.GetString()})" : string.Empty));
            }
        }

        await output.WriteAsync("  ");
        return await AuditCommand.VerifyAsync(dataDir, null, cancellationToken);
    }

    private static Task Stage(TextWriter output, int n, string title) => output.WriteLineAsync($"\n== {n}. {title}");

    private static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> args, CancellationToken cancellationToken)
    {
        var result = await client.CallToolAsync(tool, args, cancellationToken: cancellationToken);
        if (result.IsError == true)
        {
            throw new CliException($"demo: {tool} failed: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text))}", 1);
        }

        return result.StructuredContent!.Value;
    }
}
