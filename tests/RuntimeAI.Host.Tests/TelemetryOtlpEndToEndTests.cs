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
        await using var receiver = await StartReceiverAsync(received);
        var stderr = new List<string>();

        // The client parses every stdout line as JSON-RPC: anything else on stdout would fail it.
        await using (var client = await McpClient.CreateAsync(Server(receiver.Urls.Single(), stderr), cancellationToken: TestContext.Current.CancellationToken))
        {
            // Reasoning is client text that may carry anything: it must not reach the exporter.
            var result = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 3, ["reasoning"] = "token " + Secret },
                cancellationToken: TestContext.Current.CancellationToken);
            Assert.NotEqual(true, result.IsError);
            await WaitForAsync(() => Has(received, "/v1/traces", "tools/call list_runtimes") && Has(received, "/v1/metrics", "runtimeai.tool.calls"));
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
    }

    [Fact]
    public async Task ProposalWaitingForAHuman_IsExportedAsPendingApprovalGauges()
    {
        var received = new ConcurrentQueue<(string Path, string ContentType, byte[] Body)>();
        await using var receiver = await StartReceiverAsync(received);
        await using var client = await McpClient.CreateAsync(
            Server(receiver.Urls.Single(), [], "--sandbox", "--autonomy", "copilot"), cancellationToken: TestContext.Current.CancellationToken);
        var vms = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vm" }, cancellationToken: TestContext.Current.CancellationToken);
        var vm = vms.StructuredContent!.Value.GetProperty("items")[0].GetProperty("id").GetString();
        await WaitForAsync(() => Has(received, "/v1/metrics", "runtimeai.tool.calls"));
        Assert.False(Has(received, "/v1/metrics", "runtimeai.approvals.pending"), "a pending-approval gauge was exported before any proposal existed");

        // A stdio client without elicitation gets a stored proposal that waits for an approver.
        var stop = await client.CallToolAsync("stop_runtime", new Dictionary<string, object?> { ["runtime_id"] = vm }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.StartsWith("prp_", stop.StructuredContent!.Value.GetProperty("proposal_id").GetString(), StringComparison.Ordinal);

        await WaitForAsync(() => Has(received, "/v1/metrics", "runtimeai.approvals.pending.age"));
        Assert.Contains(received, r => r.Path == "/v1/metrics" && Text(r.Body).Contains("runtimeai.approvals.pending", StringComparison.Ordinal)
                                       && Text(r.Body).Contains("approver", StringComparison.Ordinal));
    }

    private static async Task<WebApplication> StartReceiverAsync(ConcurrentQueue<(string Path, string ContentType, byte[] Body)> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = builder.Build();
        receiver.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            received.Enqueue((http.Request.Path.Value!, http.Request.ContentType ?? string.Empty, body.ToArray()));
            http.Response.ContentType = "application/x-protobuf";
        });
        await receiver.StartAsync(TestContext.Current.CancellationToken);
        return receiver;
    }

    private static StdioClientTransport Server(string endpoint, List<string> stderr, params string[] extra) => new(new StdioClientTransportOptions
    {
        Command = TestPaths.Executable,
        Arguments = ["serve", "--data-dir", TestPaths.NewDataDir(), .. extra],
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

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(100, deadline.Token);
        }
    }

    private static bool Has(ConcurrentQueue<(string Path, string ContentType, byte[] Body)> received, string path, string text) =>
        received.Any(r => r.Path == path && Text(r.Body).Contains(text, StringComparison.Ordinal));

    // OTLP protobuf holds names and string values as UTF-8 bytes: readable for a search.
    private static string Text(byte[] body) => Encoding.UTF8.GetString(body);
}
