using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using YamlDotNet.RepresentationModel;

namespace RuntimeAI.Host.Tests.Samples;

/// <summary>
/// samples/kubectl-ai: the MCP server entries of kubectl-ai's mcp.yaml format, connected as
/// kubectl-ai's MCP client would (stdio with the entry's command and args; Streamable HTTP with a
/// bearer token), and the scripted session that looks inside a sandbox vcluster with runtimeai call.
/// </summary>
public sealed class KubectlAiSampleTests
{
    private static readonly string s_sample = Path.Combine(TestPaths.RepoRoot, "samples", "kubectl-ai");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The one server entry of a kubectl-ai mcp.yaml, as YAML nodes.</summary>
    private static YamlMappingNode ReadServer(string file)
    {
        var yaml = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(Path.Combine(s_sample, file))))
        {
            yaml.Load(reader);
        }

        var servers = (YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["servers"];
        var server = (YamlMappingNode)Assert.Single(servers.Children);
        Assert.Equal("runtimeai", ((YamlScalarNode)server["name"]).Value);
        return server;
    }

    private static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: Ct);
        Assert.True(result.IsError != true, $"{tool}: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text))}");
        return result.StructuredContent!.Value;
    }

    /// <summary>What the assistant does first: find the vcluster, then list its pods until web runs.</summary>
    private static async Task<string> FindRunningWebPodAsync(McpClient client)
    {
        var vclusters = await CallAsync(client, "list_runtimes", new() { ["type"] = "vcluster" });
        var dev = vclusters.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString()!;
        for (var i = 0; i < 100; i++)
        {
            var pods = await CallAsync(client, "list_resources", new() { ["runtime_id"] = dev, ["kind"] = "pods", ["namespace"] = "apps" });
            var row = pods.GetProperty("rows").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetString()).ToList()).SingleOrDefault(r => r[0] == "web");
            if (row is [_, "1/1", "Running", ..])
            {
                return dev;
            }

            await Task.Delay(100, Ct);
        }

        throw new InvalidOperationException("pod apps/web in vcluster dev never ran");
    }

    [Fact]
    public async Task McpYaml_StdioEntryAsKubectlAiLaunchesIt_ListsOnlyReadToolsAndLooksInsideTheVcluster()
    {
        var server = ReadServer("mcp.yaml");
        Assert.Equal("/opt/runtimeai/runtimeai", ((YamlScalarNode)server["command"]).Value);
        var args = ((YamlSequenceNode)server["args"]).Children.Select(a => ((YamlScalarNode)a).Value!).ToList();
        var binary = Environment.GetEnvironmentVariable("RUNTIMEAI_AOT_BINARY") is { Length: > 0 } aot ? aot : TestPaths.Executable;

        await using var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = binary,
            Arguments = args,
            EnvironmentVariables = new Dictionary<string, string?> { ["RUNTIMEAI_DATA_DIR"] = TestPaths.NewDataDir(), ["RUNTIMEAI_CONFIG"] = null },
            Name = "runtimeai",
            StandardErrorLines = _ => { },
        }), new McpClientOptions { ClientInfo = new Implementation { Name = "kubectl-ai", Version = "0.0.20" } }, cancellationToken: Ct);

        var tools = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.ProtocolTool).ToList();
        foreach (var name in new[] { "list_resources", "get_resource", "get_logs", "get_events", "find_root_cause" })
        {
            Assert.Contains(tools, t => t.Name == name);
        }

        // observe,analyse at the default level (advisor): nothing in the list can change anything.
        Assert.All(tools, t => Assert.True(t.Annotations?.ReadOnlyHint, $"{t.Name} is not read-only"));

        var dev = await FindRunningWebPodAsync(client);
        var pod = await CallAsync(client, "get_resource", new() { ["runtime_id"] = dev, ["kind"] = "pod", ["name"] = "web", ["namespace"] = "apps" });
        Assert.Contains("image: nginx:1.27", pod.GetProperty("yaml").GetString(), StringComparison.Ordinal);
        var logs = await CallAsync(client, "get_logs", new() { ["runtime_id"] = dev, ["pod"] = "web", ["namespace"] = "apps", ["grep"] = "nginx/" });
        Assert.Contains(logs.GetProperty("lines").EnumerateArray(), l => l.GetString()!.Contains("[notice] 1#1: nginx/1.27", StringComparison.Ordinal));
        var events = await CallAsync(client, "get_events", new() { ["runtime_id"] = "cluster:kubesim", ["related_resource"] = "pod/vcluster-dev/web-x-apps-x-dev" });
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("reason").GetString() == "Started");

        // Changing something is not on offer: the tool does not exist for this server.
        var stop = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() =>
            client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = dev }, cancellationToken: Ct).AsTask());
        Assert.Contains("stop_runtime", stop.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpHttpYaml_BearerTokenAsKubectlAiSendsIt_ReadsTheVclusterAsTheKeysPrincipal()
    {
        var server = ReadServer("mcp.http.yaml");
        Assert.Equal("bearer", ((YamlScalarNode)((YamlMappingNode)server["auth"])["type"]).Value);
        Assert.Equal("true", ((YamlScalarNode)server["use_streaming"]).Value);
        var url = new Uri(((YamlScalarNode)server["url"]).Value!);
        Assert.Equal("/mcp", url.AbsolutePath);

        var dataDir = TestPaths.NewDataDir();
        var (keyCode, key, keyErr) = await ServerProcess.RunAsync("keys", "create", "--name", "kubectl-ai", "--role", "viewer", "--data-dir", dataDir);
        Assert.True(keyCode == 0, keyErr);
        await using var process = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--api-keys");

        // The config's path on the port the test server got; the token as MCP_RUNTIMEAI_TOKEN would set it.
        var endpoint = new UriBuilder(process.McpEndpoint!) { Path = url.AbsolutePath }.Uri;
        HttpClientTransport Transport(string? token) => new(new HttpClientTransportOptions
        {
            Endpoint = endpoint,
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = token is null ? null : new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
        });

        await using (var client = await McpClient.CreateAsync(Transport(key.Trim()), cancellationToken: Ct))
        {
            await FindRunningWebPodAsync(client);
        }

        // Without the token the server refuses to talk at all.
        await Assert.ThrowsAnyAsync<Exception>(() => McpClient.CreateAsync(Transport(null), cancellationToken: Ct));
        var (auditCode, audit, auditErr) = await ServerProcess.RunAsync("audit", "export", "--data-dir", dataDir);
        Assert.True(auditCode == 0, auditErr);
        Assert.Contains("key:kubectl-ai", audit, StringComparison.Ordinal);
        Assert.Contains("list_resources", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionScript_SandboxVcluster_AnswersEachQuestionFromInsideIt()
    {
        Assert.SkipWhen(!File.Exists("/usr/bin/jq") && !File.Exists("/usr/local/bin/jq"), "jq is not installed; samples/kubectl-ai/session.sh needs it (scripts/deps.sh installs it)");
        var dataDir = TestPaths.NewDataDir();
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(s_sample, "session.sh"));
        info.Environment["RUNTIMEAI"] = TestPaths.Executable;
        info.Environment["RUNTIMEAI_DATA_DIR"] = dataDir;
        info.Environment.Remove("RUNTIMEAI_CONFIG");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(3), Ct);
        var text = await stdout;
        Assert.True(process.ExitCode == 0, $"session.sh exited {process.ExitCode}\n{text}\n{await stderr}");

        Assert.Matches(@"A: vcluster dev \(rt_\w{26}\) is \w+", text);
        Assert.Matches(@"A: vcluster staging \(rt_\w{26}\) is \w+", text);
        Assert.Matches(@"A: pod Name=web Ready=[01]/1 Status=\w+ Restarts=0", text);
        Assert.Contains("A: image nginx:1.27", text, StringComparison.Ordinal);
        Assert.Matches(@"A: [1-9]\d* matching line\(s\)", text);
        Assert.Matches(@"A: log .*\[notice\] 1#1: nginx/1\.27", text);
        Assert.Contains("event(s) of pod/vcluster-dev/web-x-apps-x-dev on cluster:kubesim", text, StringComparison.Ordinal);
        Assert.Matches(@"A: event Normal Scheduled: Successfully assigned vcluster-dev/web-x-apps-x-dev", text);
        Assert.Contains("A: event Normal Started: Started container nginx", text, StringComparison.Ordinal);

        // Every question is on the audit trail, with the session's reasoning.
        var (auditCode, audit, auditErr) = await ServerProcess.RunAsync("audit", "export", "--data-dir", dataDir);
        Assert.True(auditCode == 0, auditErr);
        foreach (var tool in new[] { "list_runtimes", "list_resources", "get_resource", "get_logs", "get_events" })
        {
            Assert.Contains(tool, audit, StringComparison.Ordinal);
        }

        Assert.Contains("kubectl-ai session", audit, StringComparison.Ordinal);
    }
}
