using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Http;

namespace RuntimeAI.Host;

/// <summary><c>runtimeai serve</c>: the MCP server over stdio or Streamable HTTP.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var transport = new Option<string?>("--transport") { Description = "stdio (default) or http." };
        var urls = new Option<string?>("--urls") { Description = "HTTP listen address (default http://127.0.0.1:7070)." };
        var dataDir = Cli.DataDirOption();
        var config = Cli.ConfigOption();
        var autonomy = Cli.AutonomyOption();
        var sandbox = Cli.SandboxOption();
        var libvirt = Cli.LibvirtOption();
        var kubeconfig = Cli.KubeconfigOption();
        var context = Cli.ContextOption();
        var policies = Cli.PoliciesOption();
        var logFile = new Option<string?>("--log-file") { Description = "Also write logs to this file (logs go to stderr, never stdout)." };
        var logLevel = new Option<string?>("--log-level") { Description = "trace, debug, information (default), warning, error." };
        var command = new Command("serve", "Run the MCP server.") { transport, urls, dataDir, config, autonomy, sandbox, libvirt, kubeconfig, context, logFile, logLevel, policies };
        command.SetAction(async (parse, ct) =>
        {
            var options = Cli.LoadOptions(new ServerConfig.Flags
            {
                Transport = parse.GetValue(transport),
                Urls = parse.GetValue(urls),
                DataDir = parse.GetValue(dataDir),
                ConfigFile = parse.GetValue(config),
                Autonomy = parse.GetValue(autonomy),
                Sandbox = parse.GetValue(sandbox) ? true : null,
                Libvirt = parse.GetValue(libvirt) ?? [],
                Kubeconfig = parse.GetValue(kubeconfig) ?? [],
                Context = parse.GetValue(context) ?? [],
                LogFile = parse.GetValue(logFile),
                LogLevel = parse.GetValue(logLevel),
                PoliciesDir = parse.GetValue(policies),
            });
            return options.Transport == "http"
                ? await RunHttpAsync(options, ct)
                : await RunStdioAsync(options, ct);
        });
        return command;
    }

    private static async Task<int> RunStdioAsync(RuntimeAiServerOptions options, CancellationToken cancellationToken)
    {
        options.TransportLabel = "stdio";
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddRuntimeAiLogging(options);
        builder.Services.AddRuntimeAiEngine(options);
        builder.Services.AddRuntimeAiBackends(options, Console.Error);
        builder.Services.AddRuntimeAiMcpServer(options).WithStdioServerTransport();
        using var host = builder.Build();
        await Console.Error.WriteLineAsync($"runtimeai {McpServerSetup.Version}: serving MCP on stdio (autonomy {options.Autonomy.ToString().ToLowerInvariant()}, data {options.DataDir})");
        await host.RunAsync(cancellationToken);
        return 0;
    }

    private static async Task<int> RunHttpAsync(RuntimeAiServerOptions options, CancellationToken cancellationToken)
    {
        options.TransportLabel = "http";
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Services.AddRuntimeAiLogging(options);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.Services.AddRuntimeAiEngine(options);
        builder.Services.AddRuntimeAiBackends(options, Console.Error);
        builder.Services.AddRuntimeAiMcpServer(options).WithRuntimeAiHttpTransport();
        await using var app = builder.Build();
        app.MapRuntimeAiHttp();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"{options.Urls} is already in use by another process; stop it or pass --urls http://127.0.0.1:<free port>", 1);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AccessDenied or SocketError.AddressNotAvailable)
        {
            throw new CliException($"cannot listen on {options.Urls} ({ex.Message}); pass --urls with an address of this machine and a port you may bind", 1);
        }

        foreach (var url in app.Urls)
        {
            await Console.Error.WriteLineAsync($"runtimeai {McpServerSetup.Version}: listening on {url.TrimEnd('/')}/mcp (legacy SSE at /sse; autonomy {options.Autonomy.ToString().ToLowerInvariant()}; data {options.DataDir})");
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && IPAddress.TryParse(uri.Host, out var ip) && !IPAddress.IsLoopback(ip))
            {
                await Console.Error.WriteLineAsync($"runtimeai: warning: {url} is not a loopback address; anyone who can reach it can call tools");
            }
        }

        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}
