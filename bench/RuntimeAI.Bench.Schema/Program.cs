// Cost of the tool-argument schema firewall: validating one tool call's arguments against the
// published inputSchema of create_runtime (tools-catalog/), valid and invalid; and of redacting a
// tool result before it leaves the server (RedactionBench.cs). BenchmarkDotNet:
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Schema            (full run, minutes)
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Schema -- --smoke (a few seconds: checks
//                                       the verdicts and times a short loop; CI runs this)
using System.Diagnostics;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RuntimeAI.Core.Schema;

if (args.Contains("--smoke"))
{
    var schema = SchemaValidationBench.Smoke();
    return schema != 0 ? schema : RedactionBench.Smoke();
}

// In process: no generated project to build, so a busy shared machine does not time the build out.
var config = DefaultConfig.Instance.AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(15).WithToolchain(InProcessEmitToolchain.Instance))
    .AddColumn(StatisticColumn.Median, StatisticColumn.P95);
BenchmarkRunner.Run([typeof(SchemaValidationBench), typeof(RedactionBench)], config, args);
return 0;

/// <summary>Validates create_runtime arguments: the common (valid) path and a call with five mistakes.</summary>
[MemoryDiagnoser]
public class SchemaValidationBench
{
    private readonly JsonSchemaValidator _validator;
    private readonly JsonElement _valid;
    private readonly JsonElement _invalid;

    public SchemaValidationBench()
    {
        using var catalog = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "tools-catalog", "create_runtime.json")));
        _validator = JsonSchemaValidator.Compile(catalog.RootElement.GetProperty("inputSchema"));
        _valid = JsonDocument.Parse("""
            {"name": "web-01", "type": "vm", "labels": {"env": "dev", "team": "payments"},
             "spec": {"size": "small", "networking": {"exposure": "private"}}, "reasoning": "a dev box for the payments team"}
            """).RootElement;
        _invalid = JsonDocument.Parse("""
            {"name": "Web_01", "type": "container", "labels": {"env": 5},
             "spec": {"size": "huge"}, "colour": "blue"}
            """).RootElement;
    }

    [Benchmark(Baseline = true)]
    public int ValidArguments() => _validator.Validate(_valid).Count;

    [Benchmark]
    public int InvalidArguments() => _validator.Validate(_invalid).Count;

    /// <summary>Checks the verdicts (so a broken validator fails CI) and times a short loop.</summary>
    public static int Smoke()
    {
        var bench = new SchemaValidationBench();
        var valid = bench.ValidArguments();
        var invalid = bench.InvalidArguments();
        if (valid != 0 || invalid < 4)
        {
            Console.Error.WriteLine($"schema bench smoke: FAILED (valid arguments gave {valid} violations, invalid gave {invalid}, expected 0 and at least 4)");
            return 1;
        }

        const int n = 2_000;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            bench.ValidArguments();
        }

        var validUs = watch.Elapsed.TotalMicroseconds / n;
        watch.Restart();
        for (var i = 0; i < n; i++)
        {
            bench.InvalidArguments();
        }

        var invalidUs = watch.Elapsed.TotalMicroseconds / n;
        Console.WriteLine($"schema bench smoke: ok (valid {validUs:F1} µs, invalid {invalidUs:F1} µs per call, {n} calls each, not a measurement)");
        return 0;
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "RuntimeAI.Mcp.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("run from inside the repository (tools-catalog/ is read from its root)");
    }
}
