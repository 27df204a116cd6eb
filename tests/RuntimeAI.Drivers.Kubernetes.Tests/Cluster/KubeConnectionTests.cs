using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.Tests.Cluster;

/// <summary>
/// The connection KubeCluster builds from a kubeconfig (without KubernetesClient's <c>k8s.Kubernetes</c>)
/// against a real TLS server on loopback: the cluster's CA, the user's client certificate and token,
/// skip-TLS-verify, and a server the CA did not sign.
/// </summary>
public sealed class KubeConnectionTests : IAsyncLifetime
{
    private const string Token = "kc-test-token";
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private X509Certificate2 _ca = null!;
    private X509Certificate2 _client = null!;
    private WebApplication _app = null!;
    private string _dir = null!;
    private readonly List<(string? Authorization, string? ClientThumbprint, string Path)> _seen = [];

    public async ValueTask InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("runtimeai-kubetls-").FullName;
        _ca = Authority("RuntimeAI test cluster CA", _caKey);
        var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=kube-apiserver", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        // Leaves end well inside the CA's hour: "now + 1 h" read again a second later is past the CA's end.
        using var serverPublic = serverRequest.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(30), [1, 2, 3]);
        var server = X509CertificateLoader.LoadPkcs12(serverPublic.CopyWithPrivateKey(serverKey).Export(X509ContentType.Pkcs12), null);

        var clientRequest = new CertificateRequest("CN=runtimeai-user", _clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        _client = clientRequest.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(30), [4, 5, 6]);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = server,
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        })));
        _app = builder.Build();
        _app.MapGet("/api/v1/nodes", (HttpContext http) =>
        {
            lock (_seen)
            {
                _seen.Add((http.Request.Headers.Authorization.ToString(), http.Connection.ClientCertificate?.Thumbprint, http.Request.Path));
            }

            return Results.Text(
                """{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"node-a","creationTimestamp":"2026-01-02T03:04:05.123456789Z"},"status":{"capacity":{"cpu":"4","memory":"16Gi"}}}]}""",
                "application/json");
        });
        await _app.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string Server => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

    [Fact]
    public async Task TheClustersCaTheUsersCertificateAndToken_AreUsed()
    {
        using var cluster = Cluster(Kubeconfig(ca: _ca));

        var nodes = await cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), TestContext.Current.CancellationToken);

        var node = Assert.Single(nodes.Items);
        Assert.Equal("node-a", node.Metadata.Name);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567), node.Metadata.CreationTimestamp);
        Assert.Equal("16Gi", node.Status.Capacity["memory"].ToString());
        var seen = Assert.Single(_seen);
        Assert.Equal("Bearer " + Token, seen.Authorization);
        Assert.Equal(_client.Thumbprint, seen.ClientThumbprint);
    }

    [Fact]
    public async Task AServerTheCaDidNotSign_IsRefused()
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = Authority("some other CA", otherKey);
        using var cluster = Cluster(Kubeconfig(ca: other));

        var ex = await Assert.ThrowsAsync<KubeApiException>(() =>
            cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), TestContext.Current.CancellationToken));

        Assert.Equal("unreachable", ex.Code);
        Assert.Empty(_seen);
    }

    [Fact]
    public async Task SkipTlsVerify_ConnectsWithoutTheCa()
    {
        using var cluster = Cluster(Kubeconfig(ca: null));

        var nodes = await cluster.CallAsync("list nodes", (c, ct) => c.CoreV1.ListNodeAsync(cancellationToken: ct), TestContext.Current.CancellationToken);

        Assert.Equal("node-a", Assert.Single(nodes.Items).Metadata.Name);
        Assert.Equal("Bearer " + Token, Assert.Single(_seen).Authorization);
    }

    private static X509Certificate2 Authority(string name, ECDsa key)
    {
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    private string Kubeconfig(X509Certificate2? ca)
    {
        static string B64(string pem) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(pem));
        var tls = ca is null ? "insecure-skip-tls-verify: true" : $"certificate-authority-data: {B64(ca.ExportCertificatePem())}";
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("n"));
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: tls
              cluster:
                server: {Server}
                {tls}
            users:
            - name: user
              user:
                token: {Token}
                client-certificate-data: {B64(_client.ExportCertificatePem())}
                client-key-data: {B64(_clientKey.ExportPkcs8PrivateKeyPem())}
            contexts:
            - name: tls
              context:
                cluster: tls
                user: user
            current-context: tls
            """);
        return path;
    }

    private static KubeCluster Cluster(string kubeconfig) => new(new KubeClusterOptions
    {
        KubeconfigPath = kubeconfig,
        MaxRetries = 1,
        RetryDelay = TimeSpan.FromMilliseconds(5),
        RequestTimeout = TimeSpan.FromSeconds(10),
    }, TimeProvider.System);
}
