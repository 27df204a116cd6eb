// Audited throughput: N concurrent MCP SDK clients (Streamable HTTP, loopback only) calling
// list_runtimes and get_runtime, alternating, against the real server (`runtimeai serve
// --transport http --sandbox`, started as a child process on an ephemeral 127.0.0.1 port with a
// fresh data directory). Every call passes the whole pipeline and is audited. Bounded: a warm-up,
// then a fixed time (or a fixed number of calls); reports calls/s, p50, p99, errors and the
// server's peak working set (VmHWM), then checks the audit trail: every answered call has its
// record and the hash chain verifies.
//   dotnet build src/RuntimeAI.Host -c Release
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Load -- [--clients 16] [--seconds 10] [--calls N] [--warmup 20] [--exe path/to/runtimeai]
//   ... -- --smoke   (4 s, 16 clients: zero errors, every call audited, chain verified; CI)
using System.Diagnostics;
using System.Globalization;
using ModelContextProtocol.Client;
using RuntimeAI.Core.Audit;
using RuntimeAI.Storage.Sqlite;

var clients = 16;
var seconds = 10.0;
var warmup = 20.0; // the server JIT-compiles (tiered PGO) for the first ~15 s under load
long? callLimit = null;
string? exe = null;
var smoke = args.Contains("--smoke");
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--clients": clients = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--warmup": warmup = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--calls": callLimit = long.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--exe": exe = args[i + 1]; break;
    }
}

if (smoke)
{
    seconds = 4;
    warmup = 1;
}

if (clients < 1 || seconds <= 0 || warmup < 0 || callLimit is <= 0)
{
    Console.Error.WriteLine("--clients must be ≥ 1, --seconds > 0, --warmup ≥ 0, --calls > 0");
    return 2;
}

exe ??= Path.Combine(FindRoot(), "src", "RuntimeAI.Host", "bin", "Release", "net10.0", "runtimeai");
if (!File.Exists(exe))
{
    Console.Error.WriteLine($"build the server first: dotnet build src/RuntimeAI.Host -c Release ({exe} is missing)");
    return 2;
}

var dataDir = Directory.CreateTempSubdirectory("runtimeai-bench-load-").FullName;
var info = new ProcessStartInfo(exe)
{
    RedirectStandardError = true,
    RedirectStandardOutput = true,
    RedirectStandardInput = true,
    UseShellExecute = false,
};
foreach (var a in new[] { "serve", "--transport", "http", "--urls", "http://127.0.0.1:0", "--sandbox", "--data-dir", dataDir })
{
    info.ArgumentList.Add(a);
}

info.Environment.Remove("RUNTIMEAI_CONFIG");
using var server = new Process { StartInfo = info, EnableRaisingEvents = true };
var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
var stderr = new System.Text.StringBuilder();
server.ErrorDataReceived += (_, e) =>
{
    if (e.Data is null) return;
    lock (stderr) stderr.AppendLine(e.Data);
    var at = e.Data.IndexOf("listening on ", StringComparison.Ordinal);
    if (at >= 0) url.TrySetResult(e.Data[(at + "listening on ".Length)..].Split(' ')[0]);
};
server.OutputDataReceived += (_, _) => { };
server.Start();
server.BeginErrorReadLine();
server.BeginOutputReadLine();
try
{
    if (await Task.WhenAny(url.Task, server.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60))) != url.Task)
    {
        lock (stderr) Console.Error.WriteLine($"the server did not report its URL; stderr:\n{stderr}");
        return 1;
    }

    var endpoint = new Uri(await url.Task);
    var sessions = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => McpClient.CreateAsync(
        new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }))));
    var first = await sessions[0].CallToolAsync("list_runtimes", new Dictionary<string, object?>());
    var items = first.StructuredContent!.Value.GetProperty("items");
    if (items.GetArrayLength() == 0)
    {
        Console.Error.WriteLine("the sandbox inventory is empty: list_runtimes returned no runtime to get");
        return 1;
    }

    var runtimeId = items[0].GetProperty("id").GetString()!;
    long answered = 1; // the call above
    long errors = 0;
    long issued = 0;
    var latencies = new List<long>[clients];
    var measuring = false;
    using var stop = new CancellationTokenSource();

    async Task ClientLoopAsync(int index)
    {
        var session = sessions[index];
        var mine = latencies[index] = new List<long>(1 << 16);
        var n = index;
        while (!stop.IsCancellationRequested)
        {
            if (callLimit is { } limit && Volatile.Read(ref measuring) && Interlocked.Increment(ref issued) > limit)
            {
                await stop.CancelAsync();
                break;
            }

            var start = Stopwatch.GetTimestamp();
            try
            {
                var result = n++ % 2 == 0
                    ? await session.CallToolAsync("list_runtimes", new Dictionary<string, object?>())
                    : await session.CallToolAsync("get_runtime", new Dictionary<string, object?> { ["runtime_id"] = runtimeId });
                Interlocked.Increment(ref answered);
                if (result.IsError == true)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            catch (Exception ex)
            {
                if (Interlocked.Increment(ref errors) <= 3) Console.Error.WriteLine($"client {index}: {ex.GetType().Name}: {ex.Message}");
            }

            if (Volatile.Read(ref measuring))
            {
                mine.Add(Stopwatch.GetTimestamp() - start);
            }
        }
    }

    var loops = Enumerable.Range(0, clients).Select(i => Task.Run(() => ClientLoopAsync(i))).ToArray();
    await Task.Delay(TimeSpan.FromSeconds(warmup));
    var errorsBefore = Interlocked.Read(ref errors);
    var cpuBefore = ReadCpuTicks(server.Id);
    Volatile.Write(ref measuring, true);
    var clock = Stopwatch.StartNew();
    try
    {
        await Task.Delay(callLimit is null ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }

    Volatile.Write(ref measuring, false);
    var elapsed = clock.Elapsed;
    var cpuTicks = ReadCpuTicks(server.Id) - cpuBefore;
    await stop.CancelAsync();
    await Task.WhenAll(loops);
    var peakKb = ReadPeakKb(server.Id);
    foreach (var s in sessions) await s.DisposeAsync();

    var all = latencies.SelectMany(l => l).Order().ToArray();
    double Ms(double q) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(q * all.Length))] * 1000.0 / Stopwatch.Frequency;
    var measuredErrors = Interlocked.Read(ref errors) - errorsBefore;
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"audited load: {clients} clients over Streamable HTTP (loopback), list_runtimes/get_runtime alternating, sandbox, {elapsed.TotalSeconds:F1} s measured after {warmup:F0} s warm-up"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"calls {all.Length}  calls/s {all.Length / elapsed.TotalSeconds:F0}  p50 {Ms(0.50):F2} ms  p99 {Ms(0.99):F2} ms  max {Ms(1.0):F2} ms  errors {measuredErrors}  server peak working set {peakKb / 1024.0:F0} MiB"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"server CPU (user+system) per call {(all.Length == 0 ? double.NaN : cpuTicks * 10.0 / all.Length):F2} ms"));
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {load}");

    // Stop the server, then read its audit trail from the file.
    server.StandardInput.Close();
    server.Kill(entireProcessTree: true);
    await server.WaitForExitAsync();
    using var db = SqliteDatabase.Open(dataDir);
    var audit = new SqliteAuditLog(db, new CanonicalAuditHasher());
    var records = new List<AuditRecord>();
    long after = 0;
    while (true)
    {
        var page = await audit.QueryAsync(new AuditQuery { AfterSeq = after, PageSize = 10_000 }, CancellationToken.None);
        if (page.Count == 0) break;
        records.AddRange(page);
        after = page[^1].Seq;
    }

    var verification = AuditChain.Verify(records);
    var toolRecords = records.Count(r => r.Begin.Tool is "list_runtimes" or "get_runtime");
    var totalAnswered = Interlocked.Read(ref answered);
    Console.WriteLine($"audit trail: {records.Count} records ({toolRecords} tool calls, {totalAnswered} answered calls), chain {(verification.Ok ? "verified" : "BROKEN: " + verification.Reason)}");
    var ok = verification.Ok && toolRecords >= totalAnswered && Interlocked.Read(ref errors) == 0 && all.Length > 0;
    if (!ok)
    {
        Console.Error.WriteLine(toolRecords < totalAnswered
            ? $"FAILED: {totalAnswered - toolRecords} answered calls have no audit record"
            : "FAILED: errors, no calls, or a broken chain (see above)");
    }

    return ok ? 0 : 1;
}
finally
{
    if (!server.HasExited)
    {
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }

    try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
}

static long ReadPeakKb(int pid)
{
    var status = $"/proc/{pid}/status";
    if (!File.Exists(status)) return 0;
    var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
    return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}

// utime + stime of a process in clock ticks (USER_HZ, 100 per second on Linux).
static long ReadCpuTicks(int pid)
{
    var stat = $"/proc/{pid}/stat";
    if (!File.Exists(stat)) return 0;
    var text = File.ReadAllText(stat);
    var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
    return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RuntimeAI.Mcp.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
