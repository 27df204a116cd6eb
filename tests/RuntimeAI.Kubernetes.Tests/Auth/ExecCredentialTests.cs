using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Kubernetes.Auth;
using RuntimeAI.Kubernetes.Client;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Tests.Infrastructure;
using static RuntimeAI.Kubernetes.Tests.Infrastructure.FakeKubeApi;

namespace RuntimeAI.Kubernetes.Tests.Auth;

public sealed class ExecCredentialTests : IAsyncLifetime
{
    private const string Script = """
        #!/bin/sh
        dir=$(dirname "$0")
        n=$(cat "$dir/count" 2>/dev/null || echo 0)
        n=$((n+1))
        echo $n > "$dir/count"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/info.json"
        echo "$1 $REGION" > "$dir/args"
        if [ -n "$FAIL" ]; then echo "token service unreachable" >&2; exit 3; fi
        printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s","expirationTimestamp":"%s"}}' "$n" "$EXPIRY"
        """;

    private readonly TempDirectory _dir = new();
    private FakeKubeApi _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task GetAuthorization_TokenNotExpired_RunsPluginOnce()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var source = new ExecCredentialSource(Exec(expiry: "2026-01-01T01:00:00Z"), Connection(), time);

        var first = await source.GetAuthorizationAsync(false, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromMinutes(30));
        var second = await source.GetAuthorizationAsync(false, TestContext.Current.CancellationToken);

        Assert.Equal("Bearer", first!.Scheme);
        Assert.Equal("tok-1", first.Parameter);
        Assert.Equal("tok-1", second!.Parameter);
        Assert.Equal(1, source.Invocations);
        Assert.Equal("--cluster eu-1", File.ReadAllText(Path.Combine(_dir.Path, "args")).Trim());
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir.Path, "info.json")))!;
        Assert.Equal("ExecCredential", (string?)info["kind"]);
        Assert.Equal("client.authentication.k8s.io/v1", (string?)info["apiVersion"]);
        Assert.Equal(_api.BaseUri.ToString(), (string?)info["spec"]!["cluster"]!["server"]);
    }

    [Fact]
    public async Task GetAuthorization_TokenExpired_RunsPluginAgain()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var source = new ExecCredentialSource(Exec(expiry: "2026-01-01T01:00:00Z"), Connection(), time);

        await source.GetAuthorizationAsync(false, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromMinutes(61));
        var refreshed = await source.GetAuthorizationAsync(false, TestContext.Current.CancellationToken);

        Assert.Equal("tok-2", refreshed!.Parameter);
        Assert.Equal(2, source.Invocations);
    }

    [Fact]
    public async Task GetAuthorization_PluginFails_ThrowsWithItsStderr()
    {
        var exec = Exec(expiry: "2026-01-01T01:00:00Z");
        exec = exec with { Env = new Dictionary<string, string>(exec.Env) { ["FAIL"] = "1" } };
        var source = new ExecCredentialSource(exec, Connection(), TimeProvider.System);

        var ex = await Assert.ThrowsAsync<KubeConfigException>(() => source.GetAuthorizationAsync(false, TestContext.Current.CancellationToken).AsTask());

        Assert.Contains("exited with code 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("token service unreachable", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAuthorization_MissingCommand_ThrowsWithInstallHint()
    {
        var exec = new KubeExecConfig { ApiVersion = "client.authentication.k8s.io/v1", Command = "/nonexistent/kube-login", InstallHint = "Install kube-login from your cloud." };
        var source = new ExecCredentialSource(exec, Connection(), TimeProvider.System);

        var ex = await Assert.ThrowsAsync<KubeConfigException>(() => source.GetAuthorizationAsync(false, TestContext.Current.CancellationToken).AsTask());

        Assert.Contains("Install kube-login", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_ExecPluginFromKubeconfig_SendsItsTokenAndRefreshesOn401()
    {
        WriteScript();
        var kubeconfig = _dir.Write("config", $$"""
            current-context: c
            clusters:
            - name: k
              cluster: {server: "{{_api.BaseUri}}"}
            users:
            - name: u
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./get-token.sh
                  args: [--cluster]
                  env:
                  - {name: EXPIRY, value: "2099-01-01T00:00:00Z"}
            contexts:
            - name: c
              context: {cluster: k, user: u, namespace: ns1}
            """);
        _api.On("GET", "/api/v1/namespaces/ns1/pods/p", ctx =>
            ctx.Request.Headers.Authorization == "Bearer tok-1"
                ? WriteJson(ctx, StatusBody(401, "Unauthorized", "Unauthorized"), 401)
                : WriteJson(ctx, Obj("Pod", "p", "ns1", "1")), sticky: true);
        using var client = new KubeApiClient(KubeConfigLoader.ResolveDefault(kubeconfig, getEnvironmentVariable: _ => null), TestClients.FastOptions());

        var pod = await client.GetAsync(KubeResourceTypes.Pods, "p", cancellationToken: TestContext.Current.CancellationToken);
        await client.GetAsync(KubeResourceTypes.Pods, "p", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("p", pod.Name);
        Assert.Equal(["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"], _api.Requests.Select(r => r.Header("Authorization")));
    }

    [Fact]
    public async Task Client_TokenFile_SendsFileContent()
    {
        var tokenFile = _dir.Write("token", "file-token\n");
        _api.OnJson("GET", "/api/v1/namespaces", new JsonObject { ["items"] = new JsonArray() });
        using var client = new KubeApiClient(new KubeConnection { Server = _api.BaseUri, TokenFile = tokenFile }, TestClients.FastOptions());

        await client.ListAsync(KubeResourceTypes.Namespaces, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("Bearer file-token", Assert.Single(_api.Requests).Header("Authorization"));
    }

    [Fact]
    public async Task Client_BasicAuth_SendsBasicHeader()
    {
        _api.OnJson("GET", "/api/v1/namespaces", new JsonObject { ["items"] = new JsonArray() });
        using var client = new KubeApiClient(new KubeConnection { Server = _api.BaseUri, Username = "admin", Password = "pw" }, TestClients.FastOptions());

        await client.ListAsync(KubeResourceTypes.Namespaces, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("Basic YWRtaW46cHc=", Assert.Single(_api.Requests).Header("Authorization"));
    }

    private KubeConnection Connection() => new() { Server = _api.BaseUri };

    private KubeExecConfig Exec(string expiry)
    {
        var script = WriteScript();
        return new KubeExecConfig
        {
            ApiVersion = "client.authentication.k8s.io/v1",
            Command = script,
            Args = ["--cluster"],
            Env = new Dictionary<string, string> { ["EXPIRY"] = expiry, ["REGION"] = "eu-1" },
            ProvideClusterInfo = true,
        };
    }

    private string WriteScript()
    {
        var path = _dir.Write("get-token.sh", Script.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }
}
