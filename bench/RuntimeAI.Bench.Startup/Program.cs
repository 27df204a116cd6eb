// Measures what an MCP client pays to start RuntimeAI over stdio: process start to the first
// response (initialize) and to the first tools/list, plus the size of tools/list in bytes at each
// autonomy level. A Stopwatch harness (BenchmarkDotNet cannot time a child process's cold start);
// run it on an otherwise idle machine:
//   dotnet build src/RuntimeAI.Host -c Release
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Startup -- [--iterations 10] [--exe path/to/runtimeai]
//   ... -- --smoke   (one timed start and the tools/list sizes: checks the harness works; CI)
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;

var iterations = 10;
string? exe = null;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--iterations") iterations = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
    if (args[i] == "--exe") exe = args[i + 1];
}

if (args.Contains("--smoke"))
{
    iterations = 1;
}

exe ??= Path.Combine(FindRoot(), "src", "RuntimeAI.Host", "bin", "Release", "net10.0", "runtimeai");
if (!File.Exists(exe))
{
    Console.Error.WriteLine($"build the server first: dotnet build src/RuntimeAI.Host -c Release ({exe} is missing)");
    return 2;
}

var toFirstResponse = new List<double>();
var toToolsList = new List<double>();
for (var i = 0; i <= iterations; i++)
{
    var dataDir = Directory.CreateTempSubdirectory("runtimeai-bench-").FullName;
    var sw = Stopwatch.StartNew();
    var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
    {
        Command = exe,
        Arguments = ["serve", "--data-dir", dataDir, "--log-level", "warning"],
        StandardErrorLines = _ => { },
    }), new McpClientOptions { ProtocolVersion = "2025-11-25" });
    var initialized = sw.Elapsed.TotalMilliseconds;
    await client.ListToolsAsync();
    var listed = sw.Elapsed.TotalMilliseconds;
    await client.DisposeAsync();
    if (i > 0) // the first run warms the disk cache
    {
        toFirstResponse.Add(initialized);
        toToolsList.Add(listed);
    }
}

Console.WriteLine($"cold start over stdio, {iterations} runs (ms)");
Console.WriteLine("| measure | mean | p50 | p95 |");
Console.WriteLine("|---|---|---|---|");
Console.WriteLine(Row("process start → initialize answered", toFirstResponse));
Console.WriteLine(Row("process start → tools/list answered", toToolsList));

Console.WriteLine();
Console.WriteLine("| autonomy | tools | tools/list bytes | bytes per tool |");
Console.WriteLine("|---|---|---|---|");
foreach (var level in new[] { "advisor", "autonomous" })
{
    var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
    {
        Command = exe,
        Arguments = ["serve", "--data-dir", Directory.CreateTempSubdirectory("runtimeai-bench-").FullName, "--autonomy", level],
        StandardErrorLines = _ => { },
    }));
    var tools = await client.ListToolsAsync();
    var bytes = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(tools.Select(t => t.ProtocolTool).ToList(), McpJsonUtilities.DefaultOptions));
    Console.WriteLine($"| {level} | {tools.Count} | {bytes} | {bytes / tools.Count} |");
    await client.DisposeAsync();
}

return 0;

static string Row(string name, List<double> values)
{
    var sorted = values.Order().ToList();
    double P(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
    return $"| {name} | {values.Average():0} | {P(0.5):0} | {P(0.95):0} |";
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RuntimeAI.Mcp.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
