using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Http;
using RuntimeAI.Mcp.Rest.Events;

namespace RuntimeAI.Host;

/// <summary><c>runtimeai serve</c>: the MCP server over stdio or Streamable HTTP.</summary>
internal static class ServeCommand
{
    public static Command Create(Action<IMcpServerBuilder>? extendServer = null)
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
        var toolsets = new Option<string[]>("--toolsets")
        {
            Description = "Load only these toolsets, comma-separated: " + RuntimeAI.Mcp.Tools.Toolsets.ValidNames + " (default all; see docs/toolsets.md).",
        };
        var logFile = new Option<string?>("--log-file") { Description = "Also write logs to this file (logs go to stderr, never stdout)." };
        var logLevel = new Option<string?>("--log-level") { Description = "trace, debug, information (default), warning, error." };
        var issuers = new Option<string[]>("--auth-issuer") { Description = "HTTP: accept access tokens (JWT) of this OAuth/OIDC issuer (repeatable); needs --resource.", AllowMultipleArgumentsPerToken = false };
        var resource = new Option<string?>("--resource") { Description = "HTTP: this server's resource URI (token audience), e.g. https://mcp.example.com/mcp." };
        var apiKeys = new Option<bool>("--api-keys") { Description = "HTTP: accept API keys made with 'runtimeai keys create'." };
        var insecure = new Option<bool>("--insecure-no-auth") { Description = "HTTP: allow a non-loopback bind without authentication (anyone who reaches the port can call tools)." };
        var command = new Command("serve", "Run the MCP server.")
        {
            transport, urls, dataDir, config, autonomy, sandbox, libvirt, kubeconfig, context, logFile, logLevel, policies, toolsets, issuers, resource, apiKeys, insecure,
        };
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
                Toolsets = parse.GetValue(toolsets) ?? [],
                AuthIssuers = parse.GetValue(issuers) ?? [],
                ResourceUri = parse.GetValue(resource),
                ApiKeys = parse.GetValue(apiKeys) ? true : null,
                InsecureNoAuth = parse.GetValue(insecure) ? true : null,
            });
            return options.Transport == "http"
                ? await RunHttpAsync(options, extendServer, ct)
                : await RunStdioAsync(options, extendServer, ct);
        });
        return command;
    }

    private static async Task<int> RunStdioAsync(RuntimeAiServerOptions options, Action<IMcpServerBuilder>? extendServer, CancellationToken cancellationToken)
    {
        options.TransportLabel = "stdio";
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddRuntimeAiLogging(options);
        builder.Services.AddRuntimeAiTelemetry(options);
        builder.Services.AddRuntimeAiEngine(options);
        builder.Services.AddRuntimeAiBackends(options, Console.Error);
        var server = builder.Services.AddRuntimeAiMcpServer(options).WithRuntimeAiStdioTransport();
        extendServer?.Invoke(server);
        using var host = builder.Build();
        await Console.Error.WriteLineAsync($"runtimeai {McpServerSetup.Version}: serving MCP on stdio (autonomy {options.Autonomy.ToString().ToLowerInvariant()}, toolsets {(options.Toolsets.Count == 0 ? RuntimeAI.Mcp.Tools.Toolsets.All : string.Join(",", options.Toolsets))}, {(options.Store == "postgres" ? "store postgres" : $"data {options.DataDir}")})");
        await host.RunAsync(cancellationToken);
        return 0;
    }

    private static async Task<int> RunHttpAsync(RuntimeAiServerOptions options, Action<IMcpServerBuilder>? extendServer, CancellationToken cancellationToken)
    {
        options.TransportLabel = "http";
        var exposed = NonLoopback(options.Urls).ToList();
        if (exposed.Count > 0 && !options.AuthEnabled && !options.InsecureNoAuth)
        {
            throw new CliException(
                $"refusing to listen on {string.Join(", ", exposed)} without authentication: anyone who reaches it could call tools as {Environment.UserName}. " +
                "Configure --auth-issuer and --resource (OAuth tokens) and/or --api-keys, bind to 127.0.0.1, or pass --insecure-no-auth if another layer authenticates", 2);
        }

        if (exposed.Count > 0 && !options.AuthEnabled)
        {
            await Console.Error.WriteLineAsync($"runtimeai: WARNING: --insecure-no-auth: {string.Join(", ", exposed)} is reachable beyond this machine WITHOUT AUTHENTICATION; every caller acts as http:{Environment.UserName}");
        }

        // A port that is taken fails here, before any backend or simulator starts (Kestrel's own
        // bind error below stays the fallback for a port taken in between).
        if (PortInUse(options.Urls) is { } taken)
        {
            throw new CliException($"{taken} is already in use by another process; stop it or pass --urls http://127.0.0.1:<free port>", 1);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Services.AddRuntimeAiLogging(options);
        builder.Services.AddRuntimeAiTelemetry(options);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.Services.AddRuntimeAiEngine(options);
        builder.Services.AddRuntimeAiBackends(options, Console.Error);
        builder.Services.AddRuntimeAiAuthentication(options);
        var server = builder.Services.AddRuntimeAiMcpServer(options).WithRuntimeAiHttpTransport();
        extendServer?.Invoke(server);
        builder.Services.AddRuntimeAiEvents(options.Events);
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
            await Console.Error.WriteLineAsync($"runtimeai {McpServerSetup.Version}: listening on {url.TrimEnd('/')}/mcp (legacy SSE at /sse; autonomy {options.Autonomy.ToString().ToLowerInvariant()}; {HttpAuthentication.Describe(options)}; {(options.Store == "postgres" ? "store postgres" : $"data {options.DataDir}")})");
        }

        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>The listen addresses that reach beyond this machine (wildcards and non-loopback hosts).</summary>
    /// <summary>The first URL whose IP address and fixed port another process already listens on; null when none.</summary>
    private static string? PortInUse(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Port <= 0 || !IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
            {
                continue;
            }

            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // As Kestrel does: connections of a previous run in TIME_WAIT do not make the port taken.
                probe.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                probe.Bind(new IPEndPoint(address, uri.Port));
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return url;
            }
            catch (SocketException)
            {
                // Not ours to judge here (an address of another machine, no permission): Kestrel says.
            }
        }

        return null;
    }

    internal static IEnumerable<string> NonLoopback(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcards (http://*:7070, http://+:7070) do not parse as a Uri host.
            var host = url.Contains("://*", StringComparison.Ordinal) || url.Contains("://+", StringComparison.Ordinal)
                ? "*"
                : Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host.Trim('[', ']') : "*";
            var loopback = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
                           || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
            if (!loopback)
            {
                yield return url;
            }
        }
    }
}
