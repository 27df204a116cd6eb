// A custom agent over MCP: discover, simulate, ask for approval, execute, follow the change, read
// the audit trail. Run it against `runtimeai serve --transport http --sandbox --api-keys`:
//
//   RUNTIMEAI_TOKEN=rtk_... dotnet run --project samples/agent-csharp -- \
//       --url http://127.0.0.1:7070/mcp --runtime dev --action stop --reasoning "free the nodes overnight"
//
// Exit codes: 0 done; 1 refused or failed; 2 bad usage; 3 the approval was rejected, expired or not given in time.
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

var options = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: runtimeai-agent-sample --url URL --runtime NAME --action start|stop|restart [--reasoning TEXT] [--approval-timeout SECONDS]  (token in RUNTIMEAI_TOKEN)");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var ct = cancel.Token;

HttpClientTransport Transport() => new(new HttpClientTransportOptions
{
    Endpoint = new Uri(options.Url),
    TransportMode = HttpTransportMode.StreamableHttp,
    AdditionalHeaders = options.Token is null ? null : new Dictionary<string, string> { ["Authorization"] = $"Bearer {options.Token}" },
});

// One client acts; a second one holds the subscription stream open while the first works.
await using var agent = await McpClient.CreateAsync(Transport(), cancellationToken: ct);
await using var watcher = await McpClient.CreateAsync(Transport(), cancellationToken: ct);

// 1. Discover: the tools this caller may use, and the runtime by name.
var tools = await agent.ListToolsAsync(cancellationToken: ct);
Say($"discovered {tools.Count} tools; execute tools: {string.Join(", ", tools.Where(t => t.ProtocolTool.Annotations?.ReadOnlyHint != true).Select(t => t.Name).Take(6))}, …");
var runtimes = await CallAsync("list_runtimes", new() { ["page_size"] = 200 });
var runtime = runtimes.GetProperty("items").EnumerateArray().FirstOrDefault(r => r.GetProperty("name").GetString() == options.Runtime);
if (runtime.ValueKind != JsonValueKind.Object)
{
    Say($"no runtime named '{options.Runtime}' is visible to this caller");
    return 1;
}

var runtimeId = runtime.GetProperty("id").GetString()!;
Say($"runtime {options.Runtime} = {runtimeId} ({runtime.GetProperty("state").GetString()})");

// 2. Simulate: what would happen, and what the governance would decide, before asking anyone.
var simulation = await CallAsync("simulate_action", new()
{
    ["runtime_id"] = runtimeId,
    ["action"] = new Dictionary<string, object?> { ["type"] = options.Action },
    ["reasoning"] = options.Reasoning,
});
Say($"simulation: {simulation.GetProperty("verdict").GetString()}");

// 3. Follow the runtime: subscriptions/listen is acknowledged first, then carries every update.
var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var updates = new List<string>();
await using var onAck = watcher.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (_, _) =>
{
    acknowledged.TrySetResult();
    return ValueTask.CompletedTask;
});
await using var onUpdate = watcher.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
{
    lock (updates)
    {
        updates.Add(n.Params?["uri"]?.GetValue<string>() ?? "?");
    }

    return ValueTask.CompletedTask;
});
using var stopListening = CancellationTokenSource.CreateLinkedTokenSource(ct);
var listen = watcher.SendRequestAsync(new JsonRpcRequest
{
    Method = RequestMethods.SubscriptionsListen,
    Params = new JsonObject { ["notifications"] = new JsonObject { ["resourceSubscriptions"] = new JsonArray($"runtime://{runtimeId}") } },
}, stopListening.Token);
await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
Say($"listening for changes of runtime://{runtimeId}");

// 4. Execute: a gated call either runs, is refused, or becomes a proposal a human must approve.
var tool = $"{options.Action}_runtime";
var arguments = new Dictionary<string, object?> { ["runtime_id"] = runtimeId, ["reasoning"] = options.Reasoning };
var result = await CallAsync(tool, arguments, allowError: true);
if (result.TryGetProperty("status", out var status) && status.GetString() == "pending_approval")
{
    var proposalId = result.GetProperty("proposal_id").GetString()!;
    Say($"pending approval: {proposalId} via {result.GetProperty("approval_channel").GetString()}; a human runs: runtimeai approve {proposalId}");
    var decided = await WaitForDecisionAsync(proposalId);
    if (decided != "approved")
    {
        Say($"proposal {proposalId} is {decided}; nothing was changed");
        return 3;
    }

    Say($"proposal {proposalId} approved; repeating the call with it");
    arguments["proposal_id"] = proposalId;
    result = await CallAsync(tool, arguments, allowError: true);
}

if (!result.TryGetProperty("operation_id", out var operationId))
{
    Say($"{tool} did not run: {result}");
    return 1;
}

var outcome = result.GetProperty("status").GetString();
Say($"operation {operationId.GetString()} {outcome}");

// 5. The subscription tells us the runtime changed; read it once (no polling).
for (var i = 0; i < 100 && Count() == 0; i++)
{
    await Task.Delay(100, ct);
}

await stopListening.CancelAsync();
try
{
    await listen;
}
catch (OperationCanceledException)
{
    // The listen request ends when we cancel it.
}

var read = await agent.ReadResourceAsync($"runtime://{runtimeId}", cancellationToken: ct);
var state = JsonDocument.Parse(((TextResourceContents)read.Contents[0]).Text).RootElement.GetProperty("state").GetString();
Say($"runtime {runtimeId} updated ({Count()} notification(s)); state now {state}");

// 6. The audit trail: every call of this session is on record, with the agent's reasoning.
var trail = await CallAsync("get_audit_trail", new() { ["runtime_id"] = runtimeId, ["page_size"] = 20 });
foreach (var record in trail.GetProperty("items").EnumerateArray())
{
    Say($"audit: {record.GetProperty("ts").GetString()} {record.GetProperty("tool").GetString()} {record.GetProperty("outcome").GetString()}");
}

return outcome == "succeeded" ? 0 : 1;

async Task<JsonElement> CallAsync(string name, Dictionary<string, object?> callArguments, bool allowError = false)
{
    var answer = await agent.CallToolAsync(name, callArguments, cancellationToken: ct);
    if (answer.IsError == true && !allowError)
    {
        throw new InvalidOperationException($"{name}: {string.Join(' ', answer.Content.OfType<TextContentBlock>().Select(t => t.Text))}");
    }

    return answer.StructuredContent
        ?? JsonSerializer.SerializeToElement(new JsonObject { ["error"] = string.Join(' ', answer.Content.OfType<TextContentBlock>().Select(t => t.Text)) });
}

async Task<string> WaitForDecisionAsync(string proposalId)
{
    var deadline = DateTimeOffset.UtcNow.AddSeconds(options.ApprovalTimeoutSeconds);
    while (DateTimeOffset.UtcNow < deadline)
    {
        var proposal = await CallAsync("get_proposal", new() { ["proposal_id"] = proposalId });
        if (proposal.GetProperty("status").GetString() is { } current && current != "pending")
        {
            return current;
        }

        await Task.Delay(TimeSpan.FromSeconds(1), ct);
    }

    return "not decided in time";
}

int Count()
{
    lock (updates)
    {
        return updates.Count;
    }
}

static void Say(string line) => Console.WriteLine(line);

internal sealed record Options(string Url, string? Token, string Runtime, string Action, string Reasoning, int ApprovalTimeoutSeconds)
{
    public static Options? Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var url = Value("--url") ?? Environment.GetEnvironmentVariable("RUNTIMEAI_URL");
        var runtime = Value("--runtime");
        var action = Value("--action");
        if (url is null || runtime is null || action is not ("start" or "stop" or "restart"))
        {
            return null;
        }

        return new Options(url, Environment.GetEnvironmentVariable("RUNTIMEAI_TOKEN"), runtime, action,
            Value("--reasoning") ?? $"{action} {runtime} (agent sample)",
            int.TryParse(Value("--approval-timeout"), out var seconds) ? seconds : 300);
    }
}
