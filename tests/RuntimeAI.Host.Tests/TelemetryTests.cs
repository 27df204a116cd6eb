using System.Diagnostics;
using ModelContextProtocol;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RuntimeAI.Core.Telemetry;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host.Tests;

/// <summary>Runs alone: the server's ActivitySource and Meter are process-wide, so no other test's calls mix in.</summary>
[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>
/// The spans and metrics a tool call produces, read with OpenTelemetry's in-memory exporter while
/// the real MCP client calls the server in-process (the same pipeline as every transport).
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTests
{
    private const string Secret = "sk-live-51HhTelemetryMustNeverSeeThis";

    [Fact]
    public async Task ToolCall_InMemoryExporter_SpanAndMetricsCarryNamesNotArguments()
    {
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        using (var tracer = Sdk.CreateTracerProviderBuilder().AddSource(RuntimeAiTelemetry.Name).AddInMemoryExporter(spans).Build())
        using (var meter = Sdk.CreateMeterProviderBuilder().AddMeter(RuntimeAiTelemetry.Name).AddInMemoryExporter(metrics).Build())
        {
            await using (var session = await InProcessSession.StartAsync(new RuntimeAiServerOptions { DataDir = TestPaths.NewDataDir() }, TestContext.Current.CancellationToken))
            {
                var ok = await session.Client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 7 },
                    cancellationToken: TestContext.Current.CancellationToken);
                Assert.NotEqual(true, ok.IsError);

                // A secret in an argument the schema firewall rejects: the call fails, the secret goes nowhere.
                await Assert.ThrowsAsync<McpProtocolException>(async () => await session.Client.CallToolAsync(
                    "get_runtime", new Dictionary<string, object?> { ["runtime_id"] = "rt_x", ["api_token"] = Secret },
                    cancellationToken: TestContext.Current.CancellationToken));
            }

            tracer.ForceFlush();
            meter.ForceFlush();
        }

        var span = Assert.Single(spans, s => s.DisplayName == "tools/call list_runtimes");
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("tools/call", span.GetTagItem("mcp.method.name"));
        Assert.Equal("list_runtimes", span.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("observe", span.GetTagItem("runtimeai.tool.tier"));
        Assert.Equal("ok", span.GetTagItem("runtimeai.outcome"));
        Assert.Equal("advisor", span.GetTagItem("runtimeai.autonomy"));
        Assert.Equal("in-process", span.GetTagItem("runtimeai.transport"));
        Assert.Equal("human", span.GetTagItem("runtimeai.principal.kind"));
        Assert.StartsWith("call_", (string)span.GetTagItem("runtimeai.call_id")!, StringComparison.Ordinal);

        var refused = Assert.Single(spans, s => s.DisplayName == "tools/call get_runtime");
        Assert.Equal("invalid_params", refused.GetTagItem("runtimeai.outcome"));

        // Nothing the client sent as an argument value appears in any span or metric.
        foreach (var tag in spans.SelectMany(s => s.TagObjects).Concat(metrics.SelectMany(m => m.MetricPoints).SelectMany(Tags)))
        {
            var text = tag.Value?.ToString() ?? string.Empty;
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
            Assert.NotEqual("7", text);
            Assert.NotEqual("rt_x", text);
        }

        Assert.DoesNotContain(spans.SelectMany(s => s.TagObjects), t => t.Key.Contains("argument", StringComparison.OrdinalIgnoreCase) || t.Key == "page_size");

        var calls = Point(metrics, "runtimeai.tool.calls", ("tool", "list_runtimes"), ("outcome", "ok"));
        Assert.True(calls.GetSumLong() >= 1);
        Assert.Equal("observe", Tag(calls, "tier"));
        Assert.True(Point(metrics, "runtimeai.tool.calls", ("tool", "get_runtime"), ("outcome", "invalid_params")).GetSumLong() >= 1);
        var duration = Point(metrics, "runtimeai.tool.call.duration", ("tool", "list_runtimes"), ("outcome", "ok"));
        Assert.True(duration.GetHistogramCount() >= 1);
        Assert.True(duration.GetHistogramSum() > 0);
        // Both calls are reads: each is one durable append, at its end.
        Assert.True(Point(metrics, "runtimeai.audit.append.duration", ("phase", "end")).GetHistogramCount() >= 2);
        Assert.DoesNotContain(metrics.Where(m => m.Name == "runtimeai.audit.append.duration").SelectMany(m => m.MetricPoints), p => Tag(p, "phase") == "begin");
    }

    [Fact]
    public void Resolve_NoEndpoint_ExportsNothing()
    {
        var plan = TelemetryExport.Resolve(new TelemetryExportOptions(), _ => null);

        Assert.False(plan.Any);
    }

    [Fact]
    public void Resolve_EnvironmentEndpointAndNoneExporter_TracesOnly()
    {
        var env = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318", ["OTEL_METRICS_EXPORTER"] = "none" };

        var plan = TelemetryExport.Resolve(new TelemetryExportOptions(), k => env.GetValueOrDefault(k));

        Assert.True(plan.Traces);
        Assert.False(plan.Metrics);
    }

    [Fact]
    public void Resolve_ConfigEndpointButSdkDisabled_ExportsNothing()
    {
        var plan = TelemetryExport.Resolve(new TelemetryExportOptions { OtlpEndpoint = "http://127.0.0.1:4318" }, k => k == "OTEL_SDK_DISABLED" ? "true" : null);

        Assert.False(plan.Any);
    }

    [Fact]
    public async Task ConfigFile_BadTelemetrySection_EveryErrorListed()
    {
        var dir = TestPaths.NewDataDir();
        var config = Path.Combine(dir, "config.json");
        await File.WriteAllTextAsync(config, """{"telemetry": {"otlp_endpoint": "collector:4318", "otlp_protocol": "carrier-pigeon", "colour": 1}}""", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--config", config, "--data-dir", dir);

        Assert.Equal(2, code);
        Assert.Contains("3 configuration errors", stderr, StringComparison.Ordinal);
        Assert.Contains("'collector:4318' is not an http(s) URL", stderr, StringComparison.Ordinal);
        Assert.Contains("'carrier-pigeon' is not supported", stderr, StringComparison.Ordinal);
        Assert.Contains(".colour is not valid", stderr, StringComparison.Ordinal);
    }

    private static IEnumerable<KeyValuePair<string, object?>> Tags(MetricPoint point)
    {
        var list = new List<KeyValuePair<string, object?>>();
        foreach (var tag in point.Tags)
        {
            list.Add(tag);
        }

        return list;
    }

    private static string? Tag(MetricPoint point, string key) => Tags(point).FirstOrDefault(t => t.Key == key).Value?.ToString();

    private static MetricPoint Point(List<MetricSnapshot> metrics, string name, params (string Key, string Value)[] tags)
    {
        var points = metrics.Where(m => m.Name == name).SelectMany(m => m.MetricPoints)
            .Where(p => tags.All(t => Tag(p, t.Key) == t.Value)).ToList();
        Assert.True(points.Count > 0, $"no point of {name} with {string.Join(", ", tags.Select(t => $"{t.Key}={t.Value}"))}; metrics: {string.Join(", ", metrics.Select(m => m.Name).Distinct())}");
        return points[^1];
    }
}
