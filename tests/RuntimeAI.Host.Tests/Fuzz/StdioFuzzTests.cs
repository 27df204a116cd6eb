using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using CsCheck;

namespace RuntimeAI.Host.Tests.Fuzz;

/// <summary>
/// The real executable over stdio, fed generated JSON-RPC lines (<see cref="JsonRpcFuzz"/>) in
/// batches: the process never dies, every request gets one well-formed answer with the right
/// code, a line that is not JSON gets a parse error with id null, nothing leaks, and the audit
/// chain verifies afterwards. At least 12,000 lines in CI; RUNTIMEAI_FUZZ_SCALE multiplies the budget.
/// </summary>
public sealed partial class StdioFuzzTests
{
    internal const int CiCases = 12_000;

    [Fact]
    public async Task Stdio_GeneratedLines_EveryRequestAnsweredRightlyAndTheAuditChainVerifies()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var server = await StdioServer.StartAsync(dataDir);
        var secrets = JsonRpcFuzz.SecretsOf(dataDir);
        var sent = 0;
        var budget = CiCases * JsonRpcFuzz.Scale;
        // The server's state carries over from batch to batch, so shrinking a failing batch on its
        // own means nothing: the first failure stops the run and is reported with its batch.
        string? failure = null;
        await JsonRpcFuzz.Case.Array[10, 50].SampleAsync(async cases =>
        {
            if (failure is not null)
            {
                return;
            }

            var batch = cases.Select(c => (Case: c, Id: server.NextId())).ToList();
            try
            {
                var answers = await server.SendBatchAsync(batch.Select(b => JsonRpcFuzz.Fill(b.Case, b.Id, server.RuntimeId())).ToList(),
                    batch.Count(b => b.Case.Expect != Expect.None), secrets);
                sent += batch.Count;
                Assert.False(server.HasExited, $"the server died; stderr: {JsonRpcFuzz.Tail(server.Stderr)}");
                JsonRpcFuzz.CheckBatch(batch, answers);
            }
            catch (Exception ex) when (ex is Xunit.Sdk.IAssertionException)
            {
                failure = $"{ex.Message}\nafter {sent} lines, in the batch:\n{string.Join("\n", batch.Select(b => $"{b.Id}: {b.Case}"))}";
            }
        }, iter: budget / 25, threads: 1);

        Assert.True(failure is null, failure);
        Assert.True(sent >= budget, $"only {sent} lines were sent");
        Assert.False(server.HasExited, $"the server died; stderr: {JsonRpcFuzz.Tail(server.Stderr)}");
        await server.StopAsync();
        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        Assert.True(code == 0, $"audit verify failed after {sent} fuzzed lines: {JsonRpcFuzz.Tail(stdout + stderr)}");
        TestContext.Current.SendDiagnosticMessage($"stdio fuzz: {sent} lines, audit chain verified");
    }

    [Fact]
    public async Task Stdio_ThousandBadActions_ProblemsAreCappedAndCounted()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var server = await StdioServer.StartAsync(dataDir);
        var actions = string.Join(",", Enumerable.Repeat("{\"type\":\"explode\",\"params\":{\"x\":1}}", 1_000));
        var id = server.NextId();
        var answers = await server.SendBatchAsync(
            [$"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"execute_actions\",\"arguments\":{{\"runtime_id\":\"{server.RuntimeId()}\",\"actions\":[{actions}]}}}}}}"],
            1, []);

        var message = answers.Single()["error"]!["message"]!.GetValue<string>();
        Assert.Matches(@"\(\d{3,} problems\)", message);
        Assert.Matches(@"and \d{3,} more problems not listed", message);
        Assert.True(message.Length < 8_000, $"the answer is {message.Length} characters long");
    }

    [Fact]
    public async Task Stdio_NulInARuntimeId_IsRefusedAndTheAuditChainStillVerifies()
    {
        // Found by the fuzzer: SQLite cut the audit's runtime_id (and tool) column at the NUL while the
        // hashed document kept the whole string, so 'audit verify' reported the record as edited.
        var dataDir = TestPaths.NewDataDir();
        await using (var server = await StdioServer.StartAsync(dataDir))
        {
            var id = server.NextId();
            var answers = await server.SendBatchAsync(
                [$"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"get_runtime_status\",\"arguments\":{{\"runtime_id\":\"rt_\\u0000x\"}}}}}}"], 1, []);
            var error = answers.Single()["error"]!;
            Assert.Equal(JsonRpcFuzz.InvalidParams, error["code"]!.GetValue<int>());
            Assert.Contains("/runtime_id: the string contains a NUL character", error["message"]!.GetValue<string>(), StringComparison.Ordinal);

            // The same for the audit's tool column: an unknown tool whose name holds a NUL is still recorded.
            id = server.NextId();
            answers = await server.SendBatchAsync(
                [$"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"list_\\u0000runtimes\",\"arguments\":{{}}}}}}"], 1, []);
            Assert.Equal(JsonRpcFuzz.InvalidParams, answers.Single()["error"]!["code"]!.GetValue<int>());
            await server.StopAsync();
        }

        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        Assert.True(code == 0, JsonRpcFuzz.Tail(stdout + stderr));
    }

    [Fact]
    public async Task Stdio_LineThatIsNotJson_GetsParseErrorWithIdNull()
    {
        await using var server = await StdioServer.StartAsync(TestPaths.NewDataDir());
        var answers = await server.SendBatchAsync(["this is not json"], 1, []);
        var answer = answers.Single();
        Assert.Null(answer["id"]);
        Assert.Equal(JsonRpcFuzz.ParseError, answer["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Stdio_ArgumentsAString_IsInvalidParamsNamingTheProblem()
    {
        await using var server = await StdioServer.StartAsync(TestPaths.NewDataDir());
        var id = server.NextId();
        var answers = await server.SendBatchAsync(
            [$"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"list_runtimes\",\"arguments\":\"x\"}}}}"], 1, []);
        var error = answers.Single()["error"]!;
        Assert.Equal(JsonRpcFuzz.InvalidParams, error["code"]!.GetValue<int>());
        Assert.Contains("arguments must be a JSON object", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

/// <summary>The real executable over stdio, spoken to line by line (no SDK client in between).</summary>
internal sealed partial class StdioServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _runtimeIds = [];
    private long _nextId;
    private int _nextRuntime;

    private StdioServer(Process process)
    {
        _process = process;
    }

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts the server on the sandbox at the autonomous level with an allow-all policy, so execute tools run.</summary>
    public static async Task<StdioServer> StartAsync(string dataDir)
    {
        var info = new ProcessStartInfo(TestPaths.Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        foreach (var a in (string[])["serve", "--data-dir", dataDir, "--sandbox", "--autonomy", "autonomous", "--policies", TestPolicies.AllowAll()])
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Remove("RUNTIMEAI_CONFIG");
        var server = new StdioServer(new Process { StartInfo = info });
        server._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (server._stderr)
                {
                    server._stderr.AppendLine(e.Data);
                }
            }
        };
        server._process.Start();
        server._process.BeginErrorReadLine();
        _ = Task.Run(async () =>
        {
            while (await server._process.StandardOutput.ReadLineAsync() is { } line)
            {
                await server._lines.Writer.WriteAsync(line);
            }

            server._lines.Writer.TryComplete();
        });

        var init = await server.SendBatchAsync(
            ["{\"jsonrpc\":\"2.0\",\"id\":\"init\",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}",
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"], 1, []);
        Assert.NotNull(init.Single()["result"]);
        var listed = await server.SendBatchAsync(["{\"jsonrpc\":\"2.0\",\"id\":\"rts\",\"method\":\"tools/call\",\"params\":{\"name\":\"list_runtimes\",\"arguments\":{}}}"], 1, []);
        server._runtimeIds.AddRange(RuntimeIdRegex().Matches(listed.Single().ToJsonString()).Select(m => m.Value).Distinct());
        Assert.NotEmpty(server._runtimeIds);
        return server;
    }

    /// <summary>A fresh request id as JSON text: alternately a number and a string.</summary>
    public string NextId()
    {
        var n = Interlocked.Increment(ref _nextId);
        return n % 2 == 0 ? (1_000_000 + n).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"\"s-{n}\"";
    }

    /// <summary>One of the sandbox's runtime ids, in turn.</summary>
    public string RuntimeId() => _runtimeIds[Interlocked.Increment(ref _nextRuntime) % _runtimeIds.Count];

    /// <summary>
    /// Writes the lines, then a ping as a sentinel, and collects answers until the sentinel's
    /// answer and <paramref name="expected"/> others have arrived (or 60 s pass); every answer is
    /// checked with <see cref="JsonRpcFuzz.CheckAnswer"/>.
    /// </summary>
    public async Task<List<JsonObject>> SendBatchAsync(IReadOnlyList<string> lines, int expected, IReadOnlyCollection<string> secrets)
    {
        var sentinel = $"\"sentinel-{Interlocked.Increment(ref _nextId)}\"";
        var input = _process.StandardInput;
        foreach (var line in lines)
        {
            await input.WriteAsync(line);
            await input.WriteAsync('\n');
        }

        await input.WriteAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{sentinel},\"method\":\"ping\"}}\n");
        await input.FlushAsync();

        var answers = new List<JsonObject>();
        var sentinelSeen = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (!sentinelSeen || answers.Count < expected)
            {
                var line = await _lines.Reader.ReadAsync(timeout.Token);
                var answer = JsonRpcFuzz.CheckAnswer(line, secrets);
                if (answer["id"]?.ToJsonString() == sentinel)
                {
                    sentinelSeen = true;
                }
                else
                {
                    answers.Add(answer);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Missing answers are reported by the caller's checks.
        }
        catch (ChannelClosedException)
        {
            Assert.Fail($"the server closed stdout (it exited: {_process.HasExited}); stderr: {JsonRpcFuzz.Tail(Stderr)}");
        }

        return answers;
    }

    /// <summary>Closes stdin (the server's signal to stop) and waits for a clean exit.</summary>
    public async Task StopAsync()
    {
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex("rt_[0-9A-Za-z]{10,}")]
    private static partial Regex RuntimeIdRegex();
}
