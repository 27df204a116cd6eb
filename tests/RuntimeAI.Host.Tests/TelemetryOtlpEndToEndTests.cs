using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Client;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// The built server over stdio with OTEL_EXPORTER_OTLP_ENDPOINT set exports to a real OTLP/HTTP
/// receiver on loopback (a small Kestrel endpoint that accepts POST /v1/traces and /v1/metrics).
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryOtlpEndToEndTests
{
    private const string Secret = "sk-live-51HhOtlpMustNeverSeeThis";

    [Fact]
    public async Task StdioServer_OtlpEndpointSet_ReceiverGetsSpansAndMetrics()
    {
        var received = new ConcurrentQueue<(string Path, string ContentType, byte[] Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            received.Enqueue((http.Request.Path.Value!, http.Request.ContentType ?? string.Empty, body.ToArray()));
            http.Response.ContentType = "application/x-protobuf";
        });
        await receiver.StartAsync(TestContext.Current.CancellationToken);
        var endpoint = receiver.Urls.Single();

        var stderr = new List<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", TestPaths.NewDataDir()],
            Name = "runtimeai",
            EnvironmentVariables = new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
                ["RUNTIMEAI_CONFIG"] = null,
            },
            StandardErrorLines = line =>
            {
                lock (stderr)
                {
                    stderr.Add(line);
                }
            },
        });

        // The client parses every stdout line as JSON-RPC: anything else on stdout would fail it.
        await using (var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken))
        {
            // Reasoning is client text that may carry anything: it must not reach the exporter.
            var result = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 3, ["reasoning"] = "token " + Secret },
                cancellationToken: TestContext.Current.CancellationToken);
            Assert.NotEqual(true, result.IsError);

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(60));
            while (!(Has("/v1/traces", "tools/call list_runtimes") && Has("/v1/metrics", "runtimeai.tool.calls")))
            {
                await Task.Delay(100, deadline.Token);
            }
        }

        var traces = received.Where(r => r.Path == "/v1/traces").ToList();
        Assert.NotEmpty(traces);
        Assert.All(traces, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.Contains(traces, r => Text(r.Body).Contains("gen_ai.tool.name", StringComparison.Ordinal));
        Assert.Contains(received, r => r.Path == "/v1/metrics" && Text(r.Body).Contains("runtimeai.tool.call.duration", StringComparison.Ordinal));
        Assert.Contains(received, r => Text(r.Body).Contains("runtimeai", StringComparison.Ordinal) && Text(r.Body).Contains("service.name", StringComparison.Ordinal));
        Assert.DoesNotContain(received, r => Text(r.Body).Contains(Secret, StringComparison.Ordinal));
        lock (stderr)
        {
            Assert.Contains(stderr, l => l.Contains("serving MCP on stdio", StringComparison.Ordinal));
        }

        bool Has(string path, string text) => received.Any(r => r.Path == path && Text(r.Body).Contains(text, StringComparison.Ordinal));
    }

    // OTLP protobuf holds names and string values as UTF-8 bytes: readable for a search.
    private static string Text(byte[] body) => Encoding.UTF8.GetString(body);
}
