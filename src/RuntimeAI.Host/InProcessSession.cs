using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Mcp.Hosting;
using Serilog.Events;

namespace RuntimeAI.Host;

/// <summary>
/// The server and an MCP client joined by in-memory pipes, for <c>runtimeai call</c> and
/// <c>runtimeai tools list</c>: a CI agent goes through the very same MCP server, filters and
/// pipeline as a remote client does, with no port and no child process.
/// </summary>
internal sealed class InProcessSession : IAsyncDisposable
{
    private readonly IHost _host;

    private InProcessSession(IHost host, McpClient client)
    {
        _host = host;
        Client = client;
    }

    public McpClient Client { get; }

    /// <summary>The server's services (tests and benches read the engine's own state through them).</summary>
    internal IServiceProvider Services => _host.Services;

    public static async Task<InProcessSession> StartAsync(RuntimeAiServerOptions options, CancellationToken cancellationToken) =>
        await StartAsync(options, null, cancellationToken);

    /// <summary>Starts a session whose client has the given handlers (e.g. elicitation, for tests of approvals in the client).</summary>
    public static async Task<InProcessSession> StartAsync(RuntimeAiServerOptions options, McpClientHandlers? handlers, CancellationToken cancellationToken) =>
        await StartAsync(options, handlers, null, cancellationToken);

    /// <summary>Starts a session whose client speaks the given protocol revision (null: the newest, 2026-07-28).</summary>
    public static async Task<InProcessSession> StartAsync(RuntimeAiServerOptions options, McpClientHandlers? handlers, string? protocolVersion, CancellationToken cancellationToken)
    {
        options.TransportLabel = "in-process";
        var clientToServer = new Pipe();
        var serverToClient = new Pipe();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddRuntimeAiLogging(options, LogEventLevel.Warning);
        builder.Services.AddRuntimeAiTelemetry(options);
        builder.Services.AddRuntimeAiEngine(options);
        builder.Services.AddRuntimeAiBackends(options, TextWriter.Null);
        builder.Services.AddRuntimeAiMcpServer(options)
            .WithRuntimeAiStreamTransport(clientToServer.Reader.AsStream(), serverToClient.Writer.AsStream());
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        var client = await McpClient.CreateAsync(
            new StreamClientTransport(clientToServer.Writer.AsStream(), serverToClient.Reader.AsStream()),
            new McpClientOptions
            {
                ClientInfo = new Implementation { Name = "runtimeai-cli", Version = McpServerSetup.Version },
                Handlers = handlers ?? new McpClientHandlers(),
                ProtocolVersion = protocolVersion,
            },
            cancellationToken: cancellationToken);
        return new InProcessSession(host, client);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _host.StopAsync();
        _host.Dispose();
    }
}
