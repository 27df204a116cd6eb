using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Host.Tests.Samples;

/// <summary>
/// samples/claude-desktop as Claude Desktop runs it: the server entry of the sample config launched
/// with exactly its command and arguments (only the install path swapped for the built binary),
/// spoken to over stdio by the SDK's client, which answers the approval prompt as the human would.
/// </summary>
public sealed class ClaudeDesktopSampleTests
{
    private static readonly string s_sample = Path.Combine(TestPaths.RepoRoot, "samples", "claude-desktop");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The runtimeai entry of a sample config: command, arguments and environment.</summary>
    private sealed record ServerEntry(string Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment);

    private static ServerEntry ReadEntry(string file)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(s_sample, file)))!;
        var entry = root["mcpServers"]!["runtimeai"]!;
        var env = entry["env"] is JsonObject e
            ? e.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>())
            : new Dictionary<string, string>();
        return new ServerEntry(entry["command"]!.GetValue<string>(), entry["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList(), env);
    }

    /// <summary>The AOT config's command is the published binary; CI builds the JIT apphost, which takes the same arguments.</summary>
    private static ServerEntry AotEntry()
    {
        var entry = ReadEntry("claude_desktop_config.json");
        Assert.Equal("/opt/runtimeai/runtimeai", entry.Command);
        var aot = System.Environment.GetEnvironmentVariable("RUNTIMEAI_AOT_BINARY");
        return entry with { Command = string.IsNullOrEmpty(aot) ? TestPaths.Executable : aot };
    }

    private static StdioClientTransport Launch(ServerEntry entry, string dataDir, List<string> stderr)
    {
        // Claude Desktop passes the config's env on top of its own; the data dir keeps the test apart from ~/.local/share.
        var environment = entry.Environment.ToDictionary(p => p.Key, p => (string?)p.Value);
        environment["RUNTIMEAI_DATA_DIR"] = dataDir;
        environment["RUNTIMEAI_CONFIG"] = null;
        return new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = entry.Command,
            Arguments = [.. entry.Arguments],
            EnvironmentVariables = environment,
            Name = "runtimeai",
            StandardErrorLines = line =>
            {
                lock (stderr)
                {
                    stderr.Add(line);
                }
            },
        });
    }

    private static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: Ct);
        Assert.True(result.IsError != true, $"{tool}: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text))}");
        return result.StructuredContent!.Value;
    }

    [Fact]
    public async Task AotConfig_AsClaudeDesktopLaunchesIt_AsksTheHumanInTheClientForASnapshotAndSendsAStopToAnApprover()
    {
        var dataDir = TestPaths.NewDataDir();
        var stderr = new List<string>();
        var prompts = new List<ElicitRequestParams>();
        var answers = new Queue<bool>([true, false]);
        await using var client = await McpClient.CreateAsync(Launch(AotEntry(), dataDir, stderr), new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "claude-ai", Version = "0.14.10" },
            Handlers = new McpClientHandlers
            {
                // What Claude Desktop shows the human: the message and an Approve checkbox; the human ticks it, then declines the next one.
                ElicitationHandler = (request, _) =>
                {
                    bool approve;
                    lock (prompts)
                    {
                        prompts.Add(request!);
                        approve = answers.Dequeue();
                    }

                    return ValueTask.FromResult(approve
                        ? new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["approve"] = JsonSerializer.SerializeToElement(true) } }
                        : new ElicitResult { Action = "decline" });
                },
            },
        }, cancellationToken: Ct);

        Assert.Equal("runtimeai", client.ServerInfo?.Name);
        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        var names = tools.Select(t => t.Name).ToHashSet();
        Assert.Contains("list_runtimes", names);
        Assert.Contains("snapshot_runtime", names); // copilot shows the execute tier; every mutation asks first
        Assert.Contains("stop_runtime", names);
        // Absent hints mean the MCP defaults (destructive): what Claude Desktop labels as such.
        Assert.True(tools.Single(t => t.Name == "stop_runtime").ProtocolTool.Annotations?.DestructiveHint ?? true);
        Assert.False(tools.Single(t => t.Name == "snapshot_runtime").ProtocolTool.Annotations?.DestructiveHint ?? true);

        var runtimes = await CallAsync(client, "list_runtimes", new() { ["type"] = "vm" });
        var test = runtimes.GetProperty("items").EnumerateArray().First(r => r.GetProperty("name").GetString() == "test");
        var id = test.GetProperty("id").GetString()!;

        // A snapshot is not destructive: the human at Claude Desktop is asked, approves, and it runs.
        var snapshot = await CallAsync(client, "snapshot_runtime", new() { ["runtime_id"] = id, ["name"] = "before-upgrade", ["reasoning"] = "checkpoint before the upgrade" });
        Assert.Equal("succeeded", snapshot.GetProperty("status").GetString());
        Assert.Equal("human-in-client:claude-ai/0.14.10", snapshot.GetProperty("actor").GetProperty("approver").GetString());
        var prompt = Assert.Single(prompts);
        TestContext.Current.TestOutputHelper?.WriteLine("elicitation message:\n" + prompt.Message);
        TestContext.Current.TestOutputHelper?.WriteLine("elicitation schema: " + JsonSerializer.Serialize(prompt.RequestedSchema, ModelContextProtocol.McpJsonUtilities.DefaultOptions));
        Assert.StartsWith("RuntimeAI: an agent asks to run snapshot_runtime.", prompt.Message, StringComparison.Ordinal);
        Assert.Contains("Why approval is needed:", prompt.Message, StringComparison.Ordinal);
        Assert.Contains("Dry run:", prompt.Message, StringComparison.Ordinal);
        Assert.Contains("Agent's reasoning (unverified): checkpoint before the upgrade", prompt.Message, StringComparison.Ordinal);
        Assert.EndsWith("Approve this change?", prompt.Message, StringComparison.Ordinal);
        Assert.Equal(["approve"], prompt.RequestedSchema?.Required);

        // The human declines the next one: nothing changes and the agent is told so.
        var declined = await client.CallToolAsync("snapshot_runtime", new Dictionary<string, object?> { ["runtime_id"] = id, ["name"] = "another", ["reasoning"] = "another one" }, cancellationToken: Ct);
        Assert.True(declined.IsError);
        var declinedText = string.Join(' ', declined.Content.OfType<TextContentBlock>().Select(t => t.Text));
        TestContext.Current.TestOutputHelper?.WriteLine("declined: " + declinedText);
        Assert.Contains("did not approve snapshot_runtime; nothing was changed", declinedText, StringComparison.Ordinal);
        Assert.Single((await CallAsync(client, "list_snapshots", new() { ["runtime_id"] = id })).GetProperty("items").EnumerateArray());

        // A stop is destructive: never approved in the client; it becomes a proposal for another person.
        var stop = await CallAsync(client, "stop_runtime", new() { ["runtime_id"] = id, ["reasoning"] = "free the host" });
        TestContext.Current.TestOutputHelper?.WriteLine("stop_runtime: " + stop);
        Assert.Equal("pending_approval", stop.GetProperty("status").GetString());
        Assert.Equal("approver", stop.GetProperty("approval_channel").GetString());
        Assert.Equal(2, prompts.Count);
        var proposalId = stop.GetProperty("proposal_id").GetString()!;
        Assert.Equal("running", (await CallAsync(client, "get_runtime_status", new() { ["runtime_id"] = id })).GetProperty("state").GetString());

        // What the other person sees and does on the server's machine.
        var (listCode, listed, listErr) = await ServerProcess.RunAsync("proposals", "--data-dir", dataDir);
        TestContext.Current.TestOutputHelper?.WriteLine("runtimeai proposals:\n" + listed);
        Assert.True(listCode == 0, listErr);
        Assert.Contains(proposalId, listed, StringComparison.Ordinal);
        Assert.Contains("free the host", listed, StringComparison.Ordinal);
        var (keyCode, approverKey, keyErr) = await ServerProcess.RunAsync("keys", "create", "--name", "ops-lead", "--role", "approver", "--human", "--data-dir", dataDir);
        Assert.True(keyCode == 0, keyErr);
        var (approveCode, approved, approveErr) = await ServerProcess.RunAsync("approve", proposalId, "--data-dir", dataDir, "--api-key", approverKey.Trim());
        TestContext.Current.TestOutputHelper?.WriteLine("runtimeai approve: " + approved + approveErr);
        Assert.True(approveCode == 0, approveErr);
        var stopped = await CallAsync(client, "stop_runtime", new() { ["runtime_id"] = id, ["reasoning"] = "free the host", ["proposal_id"] = proposalId });
        Assert.Equal("succeeded", stopped.GetProperty("status").GetString());
        Assert.Equal("key:ops-lead", stopped.GetProperty("actor").GetProperty("approver").GetString());

        // Logs went to stderr (Claude Desktop keeps them in its per-server log), never into the protocol stream.
        lock (stderr)
        {
            Assert.NotEmpty(stderr);
        }
    }

    [Fact]
    public async Task JitConfig_AsClaudeDesktopLaunchesIt_InitializesAndListsTheSameTools()
    {
        var entry = ReadEntry("claude_desktop_config.jit.json");
        Assert.Equal("dotnet", entry.Command);
        Assert.EndsWith("/src/RuntimeAI.Host/bin/Release/net10.0/runtimeai.dll", entry.Arguments[0], StringComparison.Ordinal);
        var dll = TestPaths.Executable + ".dll";
        Assert.True(File.Exists(dll), $"{dll} is missing");
        entry = entry with { Arguments = [dll, .. entry.Arguments.Skip(1)] };
        Assert.Equal(AotEntry().Arguments, entry.Arguments.Skip(1));

        await using var client = await McpClient.CreateAsync(Launch(entry, TestPaths.NewDataDir(), []), cancellationToken: Ct);
        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        Assert.Contains(tools, t => t.Name == "snapshot_runtime");

        // This client declares no elicitation: the snapshot the human would approve in the dialog becomes a proposal.
        var runtimes = await CallAsync(client, "list_runtimes", new() { ["type"] = "vm" });
        var id = runtimes.GetProperty("items").EnumerateArray().First(r => r.GetProperty("name").GetString() == "test").GetProperty("id").GetString()!;
        var snapshot = await CallAsync(client, "snapshot_runtime", new() { ["runtime_id"] = id, ["name"] = "before-upgrade", ["reasoning"] = "checkpoint before the upgrade" });
        TestContext.Current.TestOutputHelper?.WriteLine("snapshot_runtime without elicitation: " + snapshot);
        Assert.Equal("pending_approval", snapshot.GetProperty("status").GetString());
        Assert.Contains("runtimeai approve", snapshot.GetProperty("how_to_approve").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AotConfig_WithLogFile_StdoutCarriesOnlyJsonRpcAndLogsGoToStderrAndTheFile()
    {
        var entry = AotEntry();
        var dataDir = TestPaths.NewDataDir();
        var logFile = Path.Combine(dataDir, "runtimeai.log");
        var info = new ProcessStartInfo(entry.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in entry.Arguments.Concat(["--log-file", logFile, "--data-dir", dataDir]))
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Remove("RUNTIMEAI_CONFIG");
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            // Every line on stdout must be one JSON-RPC message: anything else breaks Claude Desktop's connection.
            async Task<JsonElement> ResponseAsync(int wanted)
            {
                while (await process.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct) is { } line)
                {
                    using var message = JsonDocument.Parse(line);
                    Assert.Equal("2.0", message.RootElement.GetProperty("jsonrpc").GetString());
                    if (message.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt32() == wanted)
                    {
                        return message.RootElement.GetProperty("result").Clone();
                    }
                }

                throw new InvalidOperationException($"stdout ended before the response to request {wanted}");
            }

            await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"claude-ai","version":"0.14.10"}}}""");
            await process.StandardInput.FlushAsync(Ct);
            Assert.Equal("runtimeai", (await ResponseAsync(1)).GetProperty("serverInfo").GetProperty("name").GetString());
            await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
            await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
            await process.StandardInput.FlushAsync(Ct);
            Assert.True((await ResponseAsync(2)).GetProperty("tools").GetArrayLength() > 10);
        }
        finally
        {
            process.StandardInput.Close();
            if (!await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default))
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var logged = await stderr;
        Assert.Contains("sandbox", logged, StringComparison.OrdinalIgnoreCase);
        Assert.True(File.Exists(logFile), "--log-file was not written");
        Assert.NotEqual(string.Empty, (await File.ReadAllTextAsync(logFile, Ct)).Trim());
    }
}
