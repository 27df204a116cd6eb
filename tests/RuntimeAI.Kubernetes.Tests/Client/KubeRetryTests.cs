using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RuntimeAI.Kubernetes.Client;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Model;
using RuntimeAI.Kubernetes.Tests.Infrastructure;
using static RuntimeAI.Kubernetes.Tests.Infrastructure.FakeKubeApi;

namespace RuntimeAI.Kubernetes.Tests.Client;

public sealed class KubeRetryTests : IAsyncLifetime
{
    private FakeKubeApi _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync();

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task GetAsync_ServiceUnavailableThenOk_Retries()
    {
        _api.OnStatus("GET", "/api/v1/namespaces/team-a/pods/p", 503, "ServiceUnavailable", "starting");
        _api.OnStatus("GET", "/api/v1/namespaces/team-a/pods/p", 500, "InternalError", "etcd hiccup");
        _api.OnJson("GET", "/api/v1/namespaces/team-a/pods/p", Obj("Pod", "p", "team-a", "1"));
        using var client = TestClients.For(_api);

        var pod = await client.GetAsync(KubeResourceTypes.Pods, "p", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("p", pod.Name);
        Assert.Equal(3, _api.Requests.Count);
    }

    [Fact]
    public async Task GetAsync_AlwaysFailing_ThrowsAfterMaxRetries()
    {
        _api.OnStatus("GET", "/api/v1/nodes", 502, "BadGateway", "proxy", sticky: true);
        using var client = TestClients.For(_api, TestClients.FastOptions(maxRetries: 2));

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.ListAsync(KubeResourceTypes.Nodes, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Equal(3, _api.Requests.Count);
    }

    [Fact]
    public async Task GetAsync_TooManyRequestsWithRetryAfter_WaitsThatLong()
    {
        _api.OnStatus("GET", "/api/v1/namespaces/team-a/pods/p", 429, "TooManyRequests", "slow down", headers: r => r.Headers.RetryAfter = "1");
        _api.OnJson("GET", "/api/v1/namespaces/team-a/pods/p", Obj("Pod", "p", "team-a", "1"));
        using var client = TestClients.For(_api);
        var watch = Stopwatch.StartNew();

        await client.GetAsync(KubeResourceTypes.Pods, "p", cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"waited only {watch.Elapsed}");
        Assert.Equal(2, _api.Requests.Count);
    }

    [Fact]
    public async Task GetAsync_SlowServer_TimesOutPerAttempt()
    {
        _api.On("GET", "/api/v1/namespaces/team-a/pods/slow", async ctx => await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted), sticky: true);
        var options = TestClients.FastOptions(maxRetries: 1);
        options.RequestTimeout = TimeSpan.FromMilliseconds(200);
        using var client = TestClients.For(_api, options);

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => client.GetAsync(KubeResourceTypes.Pods, "slow", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("get pods \"slow\"", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, _api.Requests.Count);
    }

    [Fact]
    public async Task GetAsync_Cancelled_ThrowsOperationCanceled()
    {
        _api.On("GET", "/api/v1/namespaces/team-a/pods/slow", async ctx => await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted), sticky: true);
        using var client = TestClients.For(_api);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(KubeResourceTypes.Pods, "slow", cancellationToken: cts.Token));
    }

    [Fact]
    public async Task GetAsync_ConnectionRefused_RetriesThenThrowsNamingOperation()
    {
        var port = _api.BaseUri.Port;
        await _api.DisposeAsync();
        using var client = new KubeApiClient(new KubeConnection { Server = new Uri($"http://127.0.0.1:{port}") }, TestClients.FastOptions(maxRetries: 1));

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(KubeResourceTypes.Namespaces, "default", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(HttpRequestError.ConnectionError, ex.HttpRequestError);
        Assert.Contains("get namespaces \"default\"", ex.Message, StringComparison.Ordinal);
        _api = await StartAsync(); // for DisposeAsync
    }

    [Fact]
    public async Task CreateAsync_ServerDownThenUp_RetriesConnectError()
    {
        var port = _api.BaseUri.Port;
        await _api.DisposeAsync();
        var options = TestClients.FastOptions(maxRetries: 20);
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(100);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(400);
        using var client = new KubeApiClient(new KubeConnection { Server = new Uri($"http://127.0.0.1:{port}") }, options);

        var create = client.CreateAsync(KubeObject.Create("v1", "Namespace", "n1"), type: KubeResourceTypes.Namespaces, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        _api = await StartOnPortAsync(port);
        _api.OnJson("POST", "/api/v1/namespaces", Obj("Namespace", "n1", null, "1"), 201);

        var created = await create;

        Assert.Equal("n1", created.Name);
        Assert.Single(_api.Requests);
    }

    [Fact]
    public async Task Requests_WithDebugLogging_NeverLogTheToken()
    {
        _api.OnStatus("GET", "/api/v1/namespaces/team-a/pods/p", 500, "InternalError", "x");
        _api.OnJson("GET", "/api/v1/namespaces/team-a/pods/p", Obj("Pod", "p", "team-a", "1"));
        var logger = new CapturingLogger();
        using var client = TestClients.For(_api, logger: logger);

        await client.GetAsync(KubeResourceTypes.Pods, "p", cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotEmpty(logger.Lines);
        Assert.Contains(logger.Lines, l => l.Contains("/api/v1/namespaces/team-a/pods/p", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Lines, l => l.Contains(TestClients.Token, StringComparison.Ordinal));
        Assert.DoesNotContain(TestClients.Token, client.Connection.ToString(), StringComparison.Ordinal);
    }

    private static async Task<FakeKubeApi> StartOnPortAsync(int port)
    {
        // The fake binds port 0; for a restart on the same port, retry until the OS frees it.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await FakeKubeApi.StartAsync(port: port);
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(50);
            }
        }
    }
}
