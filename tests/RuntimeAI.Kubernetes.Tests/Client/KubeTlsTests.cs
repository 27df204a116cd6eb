using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using RuntimeAI.Kubernetes.Client;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Tests.Infrastructure;

namespace RuntimeAI.Kubernetes.Tests.Client;

public sealed class KubeTlsTests
{
    private static readonly JsonObject s_version = new() { ["gitVersion"] = "v1.31.0-fake" };

    [Fact]
    public async Task GetVersion_ServerSignedByConfiguredCa_Succeeds()
    {
        using var pki = new TestPki();
        await using var api = await StartTls(pki.IssueServer(ipSan: true, "localhost"));

        using var client = Client(api, pki.CaPem);

        Assert.Equal("v1.31.0-fake", (string?)(await client.GetVersionAsync(TestContext.Current.CancellationToken))["gitVersion"]);
    }

    [Fact]
    public async Task GetVersion_ServerSignedByOtherCa_FailsTls()
    {
        using var pki = new TestPki();
        using var other = new TestPki();
        await using var api = await StartTls(pki.IssueServer(ipSan: true, "localhost"));

        using var client = Client(api, other.CaPem);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetVersionAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpRequestError.SecureConnectionError, ex.HttpRequestError);
    }

    [Fact]
    public async Task GetVersion_InsecureSkipTlsVerify_AcceptsAnyCertificate()
    {
        using var pki = new TestPki();
        await using var api = await StartTls(pki.IssueServer(ipSan: false, "somewhere.else"));

        using var client = new KubeApiClient(new KubeConnection { Server = api.BaseUri, InsecureSkipTlsVerify = true }, TestClients.FastOptions(0));

        Assert.NotNull(await client.GetVersionAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task GetVersion_CertificateForOtherName_FailsUnlessTlsServerNameMatches()
    {
        using var pki = new TestPki();
        await using var api = await StartTls(pki.IssueServer(ipSan: false, "kube.internal"));

        using var mismatch = Client(api, pki.CaPem);
        using var named = Client(api, pki.CaPem, tlsServerName: "kube.internal");

        await Assert.ThrowsAsync<HttpRequestException>(() => mismatch.GetVersionAsync(TestContext.Current.CancellationToken));
        Assert.NotNull(await named.GetVersionAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task GetVersion_ClientCertificate_IsPresentedToServer()
    {
        using var pki = new TestPki();
        await using var api = await StartTls(pki.IssueServer(ipSan: true, "localhost"), requireClientCertificate: true);
        var (certPem, keyPem) = pki.IssueClient("alice", "system:masters");

        using var client = new KubeApiClient(new KubeConnection
        {
            Server = api.BaseUri,
            CertificateAuthorityPem = pki.CaPem,
            ClientCertificatePem = certPem,
            ClientKeyPem = keyPem,
        }, TestClients.FastOptions(0));
        await client.GetVersionAsync(TestContext.Current.CancellationToken);

        Assert.Contains("CN=alice", Assert.Single(api.Requests).ClientCertificateSubject, StringComparison.Ordinal);
        Assert.Null(Assert.Single(api.Requests).Header("Authorization"));
    }

    [Fact]
    public async Task GetVersion_ExecPluginReturnsClientCertificate_IsPresentedToServer()
    {
        using var pki = new TestPki();
        using var dir = new TempDirectory();
        await using var api = await StartTls(pki.IssueServer(ipSan: true, "localhost"), requireClientCertificate: true);
        var (certPem, keyPem) = pki.IssueClient("exec-user", "devs");
        var credential = new JsonObject
        {
            ["apiVersion"] = "client.authentication.k8s.io/v1",
            ["kind"] = "ExecCredential",
            ["status"] = new JsonObject { ["clientCertificateData"] = certPem, ["clientKeyData"] = keyPem },
        };
        var json = dir.Write("credential.json", credential.ToJsonString());
        var script = dir.Write("plugin.sh", $"#!/bin/sh\ncat '{json}'\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        using var client = new KubeApiClient(new KubeConnection
        {
            Server = api.BaseUri,
            CertificateAuthorityPem = pki.CaPem,
            Exec = new KubeExecConfig { ApiVersion = "client.authentication.k8s.io/v1", Command = script },
        }, TestClients.FastOptions(0));
        await client.GetVersionAsync(TestContext.Current.CancellationToken);

        Assert.Contains("CN=exec-user", Assert.Single(api.Requests).ClientCertificateSubject, StringComparison.Ordinal);
        Assert.Null(Assert.Single(api.Requests).Header("Authorization"));
    }

    [Fact]
    public void Create_ClientCertificateWithoutKey_Throws()
    {
        Assert.Throws<KubeConfigException>(() => new KubeApiClient(new KubeConnection { Server = new Uri("https://127.0.0.1:1"), ClientCertificatePem = "x" }));
    }

    private static KubeApiClient Client(FakeKubeApi api, string caPem, string? tlsServerName = null) =>
        new(new KubeConnection { Server = api.BaseUri, CertificateAuthorityPem = caPem, TlsServerName = tlsServerName }, TestClients.FastOptions(0));

    private static async Task<FakeKubeApi> StartTls(X509Certificate2 certificate, bool requireClientCertificate = false)
    {
        var api = await FakeKubeApi.StartAsync(certificate, requireClientCertificate);
        api.OnJson("GET", "/version", s_version, sticky: true);
        return api;
    }

    /// <summary>A throwaway CA that issues server and client certificates.</summary>
    private sealed class TestPki : IDisposable
    {
        private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        private readonly X509Certificate2 _ca;

        public TestPki()
        {
            var request = new CertificateRequest("CN=test-kube-ca", _caKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        }

        public string CaPem => _ca.ExportCertificatePem();

        public X509Certificate2 IssueServer(bool ipSan, params string[] dnsNames)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=kube-apiserver", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in dnsNames)
            {
                san.AddDnsName(name);
            }

            if (ipSan)
            {
                san.AddIpAddress(IPAddress.Loopback);
            }

            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            using var cert = Sign(request).CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
        }

        public (string CertPem, string KeyPem) IssueClient(string user, string group)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={user}, O={group}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var cert = Sign(request);
            return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        }

        private X509Certificate2 Sign(CertificateRequest request)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            var serial = RandomNumberGenerator.GetBytes(12);
            return request.Create(_ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        }

        public void Dispose()
        {
            _ca.Dispose();
            _caKey.Dispose();
        }
    }
}
