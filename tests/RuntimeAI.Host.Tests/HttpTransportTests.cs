using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Host.Tests;

/// <summary>The built executable over Streamable HTTP and legacy SSE on loopback.</summary>
public sealed class HttpTransportTests : IAsyncLifetime
{
    private ServerProcess _server = null!;
    private string _dataDir = null!;

    public async ValueTask InitializeAsync()
    {
        _dataDir = TestPaths.NewDataDir();
        await InventorySeed.AddRuntimesAsync(_dataDir, 2);
        _server = await ServerProcess.StartHttpAsync(_dataDir);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("2025-06-18")]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task StreamableHttp_EachProtocolVersion_ListsAndCallsTools(string version)
    {
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = _server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }), new McpClientOptions { ProtocolVersion = version }, cancellationToken: TestContext.Current.CancellationToken);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var result = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["tenant_id"] = "acme" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains(tools, t => t.Name == "get_runtime");
        Assert.Equal(2, result.StructuredContent!.Value.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task LegacySse_OldClient_ListsTools()
    {
        var sse = new Uri(_server.McpEndpoint!, "/sse");
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = sse, TransportMode = HttpTransportMode.Sse }), new McpClientOptions { ProtocolVersion = "2024-11-05" }, cancellationToken: TestContext.Current.CancellationToken);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains(tools, t => t.Name == "list_runtimes");
    }

    [Fact]
    public async Task Post_ForeignOrigin_Is403WithReason()
    {
        using var http = new HttpClient();
        using var request = Initialize();
        request.Headers.Add("Origin", "http://evil.example");

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Origin 'http://evil.example' is not allowed", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ForeignHostHeader_Is403()
    {
        using var http = new HttpClient();
        using var request = Initialize();
        request.Headers.Host = "attacker.example";

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Post_LoopbackOrigin_IsServed()
    {
        using var http = new HttpClient();
        using var request = Initialize();
        request.Headers.Add("Origin", $"http://localhost:{_server.McpEndpoint!.Port}");

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Post_BodyOverCap_Is413()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.McpEndpoint)
        {
            Content = new StringContent(new string(' ', 2 * 1024 * 1024) + "{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Health_And_Ready_Answer()
    {
        using var http = new HttpClient();
        var health = await http.GetStringAsync(new Uri(_server.McpEndpoint!, "/healthz"), TestContext.Current.CancellationToken);
        using var ready = await http.GetAsync(new Uri(_server.McpEndpoint!, "/readyz"), TestContext.Current.CancellationToken);

        Assert.Contains("\"status\":\"ok\"", health, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public void Serve_Http_PrintsLoopbackUrlOnStderr()
    {
        Assert.Equal("127.0.0.1", _server.McpEndpoint!.Host);
        Assert.Equal("/mcp", _server.McpEndpoint.AbsolutePath);
        Assert.Equal(string.Empty, _server.Stdout.Trim());
    }

    private HttpRequestMessage Initialize()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _server.McpEndpoint)
        {
            Content = new StringContent(
                """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return request;
    }
}
