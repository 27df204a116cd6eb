using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RuntimeAI.Kubernetes.Tests.Infrastructure;

/// <summary>A request as the fake API server saw it.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body, string? ClientCertificateSubject)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    public string? QueryValue(string key)
    {
        var parsed = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Query);
        return parsed.TryGetValue(key, out var v) ? v.ToString() : null;
    }

    public JsonNode? Json => string.IsNullOrEmpty(Body) ? null : JsonNode.Parse(Body);
}

/// <summary>
/// A loopback Kestrel server the tests script response by response, to assert the exact requests
/// the client sends and to inject failures (status codes, dropped connections, slow answers).
/// </summary>
public sealed class FakeKubeApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Func<HttpContext, Task>>> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _sticky = new(StringComparer.Ordinal);

    private FakeKubeApi(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string path) =>
        Requests.Where(r => r.Method == method && r.Path == path).ToList();

    public static async Task<FakeKubeApi> StartAsync(X509Certificate2? serverCertificate = null, bool requireClientCertificate = false, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            if (serverCertificate is not null)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = serverCertificate;
                    if (requireClientCertificate)
                    {
                        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                        https.AllowAnyClientCertificate();
                    }
                });
            }
        }));
        var app = builder.Build();
        var fake = new FakeKubeApi(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUri = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return fake;
    }

    /// <summary>Queues a one-shot responder for METHOD path; once the queue is empty the last one added with <paramref name="sticky"/> answers.</summary>
    public FakeKubeApi On(string method, string path, Func<HttpContext, Task> responder, bool sticky = false)
    {
        var key = $"{method} {path}";
        if (sticky)
        {
            _sticky[key] = responder;
        }
        else
        {
            _routes.GetOrAdd(key, _ => new()).Enqueue(responder);
        }

        return this;
    }

    public FakeKubeApi OnJson(string method, string path, JsonNode body, int status = 200, bool sticky = false) =>
        On(method, path, ctx => WriteJson(ctx, body, status), sticky);

    public FakeKubeApi OnStatus(string method, string path, int code, string reason, string message, bool sticky = false, Action<HttpResponse>? headers = null) =>
        On(method, path, ctx =>
        {
            headers?.Invoke(ctx.Response);
            return WriteJson(ctx, StatusBody(code, reason, message), code);
        }, sticky);

    public static JsonObject StatusBody(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    public static async Task WriteJson(HttpContext ctx, JsonNode body, int status = 200)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString());
    }

    public static async Task WriteWatchEvent(HttpContext ctx, string type, JsonNode obj)
    {
        var frame = new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() };
        await ctx.Response.WriteAsync(frame.ToJsonString() + "\n");
        await ctx.Response.Body.FlushAsync();
    }

    public static JsonObject Obj(string kind, string name, string? ns, string resourceVersion, string? uid = null) => new()
    {
        ["apiVersion"] = kind switch { "Deployment" or "StatefulSet" => "apps/v1", _ => "v1" },
        ["kind"] = kind,
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["uid"] = uid ?? $"uid-{name}",
            ["resourceVersion"] = resourceVersion,
        },
    };

    private async Task HandleAsync(HttpContext ctx)
    {
        string body;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var clientCert = ctx.Connection.ClientCertificate?.Subject;
        Requests.Enqueue(new RecordedRequest(ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "", headers, body, clientCert));

        var key = $"{ctx.Request.Method} {ctx.Request.Path.Value}";
        if (_routes.TryGetValue(key, out var queue) && queue.TryDequeue(out var responder))
        {
            await responder(ctx);
            return;
        }

        if (_sticky.TryGetValue(key, out var stickyResponder))
        {
            await stickyResponder(ctx);
            return;
        }

        await WriteJson(ctx, StatusBody(404, "NotFound", $"fake: no route for {key}"), 404);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
