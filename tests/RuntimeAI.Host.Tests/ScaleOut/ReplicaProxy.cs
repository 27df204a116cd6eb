using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RuntimeAI.Host.Tests.ScaleOut;

/// <summary>
/// The load balancer in front of the replicas: a small reverse proxy on loopback (Kestrel) that
/// sends each request to the next replica in turn and streams the answer back as it arrives (SSE
/// included: every chunk is flushed). With <see cref="PinSessions"/> a request carrying an
/// <c>Mcp-Session-Id</c> goes to the replica that issued that id (session affinity, as a load
/// balancer's header-hash or cookie stickiness would do); without it, strict round-robin. Every
/// forwarded request is logged with the replica that answered.
/// </summary>
internal sealed class ReplicaProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly ConcurrentDictionary<string, int> _sessions = new(StringComparer.Ordinal);
    private int _next = -1;

    private ReplicaProxy(WebApplication app, IReadOnlyList<Uri> replicas, bool pinSessions)
    {
        _app = app;
        Replicas = replicas;
        PinSessions = pinSessions;
    }

    /// <summary>The replicas' base addresses (scheme and authority), in round-robin order.</summary>
    public IReadOnlyList<Uri> Replicas { get; }

    /// <summary>True when requests of a 2025-x session go to the replica that made the session.</summary>
    public bool PinSessions { get; }

    /// <summary>The MCP endpoint clients use: the proxy's <c>/mcp</c>.</summary>
    public Uri McpEndpoint { get; private set; } = null!;

    /// <summary>Every forwarded request: method, path, the Mcp-Session-Id it carried, the replica index and the status.</summary>
    public ConcurrentQueue<Forwarded> Log { get; } = new();

    public static async Task<ReplicaProxy> StartAsync(IReadOnlyList<Uri> replicas, bool pinSessions, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var proxy = new ReplicaProxy(app, replicas, pinSessions);
        app.Run(proxy.ForwardAsync);
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.McpEndpoint = new Uri(address.TrimEnd('/') + "/mcp");
        return proxy;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var sessionId = context.Request.Headers["Mcp-Session-Id"].ToString();
        var replica = PinSessions && sessionId.Length > 0 && _sessions.TryGetValue(sessionId, out var pinned)
            ? pinned
            : (int)((uint)Interlocked.Increment(ref _next) % (uint)Replicas.Count);

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(Replicas[replica], context.Request.Path + context.Request.QueryString));
        if (context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey("Transfer-Encoding"))
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var header in context.Request.Headers)
        {
            if (HopByHop.Contains(header.Key))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string>)header.Value!))
            {
                request.Content?.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string>)header.Value!);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException ex)
        {
            Log.Enqueue(new Forwarded(context.Request.Method, context.Request.Path, sessionId, replica, 502));
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            await context.Response.WriteAsync($"replica {replica} unreachable: {ex.Message}", context.RequestAborted);
            return;
        }

        using (response)
        {
            Log.Enqueue(new Forwarded(context.Request.Method, context.Request.Path, sessionId, replica, (int)response.StatusCode));
            if (response.Headers.TryGetValues("Mcp-Session-Id", out var issued))
            {
                _sessions[issued.First()] = replica;
            }

            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var header in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(header.Key))
                {
                    context.Response.Headers[header.Key] = header.Value.ToArray();
                }
            }

            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await context.Response.StartAsync(context.RequestAborted);
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away (e.g. closed an SSE stream): nothing more to forward.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _http.Dispose();
    }

    internal sealed record Forwarded(string Method, string Path, string SessionId, int Replica, int Status);
}
