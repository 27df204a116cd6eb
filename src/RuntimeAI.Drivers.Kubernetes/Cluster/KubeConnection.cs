using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Authentication;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>
/// The HTTP side of one kubeconfig context, set up from KubernetesClient's
/// <see cref="KubernetesClientConfiguration"/> as the library's <c>k8s.Kubernetes</c> sets itself up:
/// the server's CA (or skip-TLS-verify when the kubeconfig says so), the client certificate, the
/// credentials (token, token file or exec plugin through the library's providers, basic auth), the
/// TLS server name, HTTP/2 unless disabled. Built here rather than by constructing
/// <c>k8s.Kubernetes</c> because that class roots the library's serializer for every API model
/// (see <see cref="KubeApi"/>); the credential and server-certificate validation code is the library's.
/// </summary>
internal sealed class KubeConnection : IDisposable
{
    private readonly SocketsHttpHandler _handler;
    private readonly X509Certificate2Collection? _caCerts;
    private readonly X509Certificate2? _clientCert;
    private readonly ServiceClientCredentials? _credentials;
    private readonly string? _tlsServerName;
    private readonly bool _http2;

    private KubeConnection(KubernetesClientConfiguration config, Uri baseUri)
    {
        BaseUri = baseUri;
        _tlsServerName = string.IsNullOrWhiteSpace(config.TlsServerName) ? null : config.TlsServerName;
        _http2 = !config.DisableHttp2;
        _handler = new SocketsHttpHandler
        {
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            KeepAlivePingDelay = TimeSpan.FromMinutes(3),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            EnableMultipleHttp2Connections = true,
        };
        _handler.SslOptions.ClientCertificates = [];
        config.FirstMessageHandlerSetup?.Invoke(_handler);

        // The configuration was built for this connection alone: its CA certificates are ours to keep and dispose.
        _caCerts = config.SslCaCerts;

        if (baseUri.Scheme == Uri.UriSchemeHttps)
        {
            if (config.SkipTlsVerify)
            {
                _handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            }
            else if (_caCerts is { } trusted)
            {
                _handler.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    certificate is not null && chain is not null && k8s.Kubernetes.CertificateValidationCallBack(sender, trusted, certificate, chain, errors);
            }
        }

        _credentials = k8s.Kubernetes.CreateCredentials(config);
        _clientCert = ClientCertificate(config);
        if (_clientCert is { } clientCert)
        {
            _handler.SslOptions.ClientCertificates.Add(clientCert);
            _handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCert;
        }

        Http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrWhiteSpace(config.UserAgent))
        {
            Http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", config.UserAgent);
        }
    }

    /// <summary>The API server's base address (ends with a slash).</summary>
    public Uri BaseUri { get; }

    /// <summary>The client; requests come from <see cref="CreateRequestAsync"/>.</summary>
    public HttpClient Http { get; }

    /// <summary>Sets up the connection the configuration describes; nothing is sent yet.</summary>
    /// <param name="config">A configuration KubernetesClient built from a kubeconfig.</param>
    /// <returns>The connection; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The configuration names no usable server address.</exception>
    public static KubeConnection Open(KubernetesClientConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (string.IsNullOrWhiteSpace(config.Host) || !Uri.TryCreate(config.Host, UriKind.Absolute, out var host))
        {
            throw new ArgumentException($"the kubeconfig's server address '{config.Host}' is not an absolute URL; set clusters[].cluster.server to e.g. https://HOST:6443");
        }

        var baseUri = host.AbsoluteUri.EndsWith('/') ? host : new Uri(host.AbsoluteUri + "/");
        return new KubeConnection(config, baseUri);
    }

    /// <summary>A request to <paramref name="path"/> with the credentials applied (a token provider may refresh here).</summary>
    /// <param name="method">HTTP method.</param>
    /// <param name="path">API path with its query string.</param>
    /// <param name="cancellationToken">Cancels a credential refresh.</param>
    /// <returns>The request; the caller sends and disposes it.</returns>
    public async Task<HttpRequestMessage> CreateRequestAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(BaseUri, path.TrimStart('/')));
        if (_http2)
        {
            request.Version = HttpVersion.Version20;
        }

        if (_tlsServerName is not null)
        {
            request.Headers.Host = _tlsServerName;
        }

        if (_credentials is not null)
        {
            try
            {
                await _credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                request.Dispose();
                throw;
            }
        }

        return request;
    }

    /// <summary>
    /// The client certificate and key the kubeconfig names (inline base64 data or files), as
    /// KubernetesClient reads them; null when it names none.
    /// </summary>
    private static X509Certificate2? ClientCertificate(KubernetesClientConfiguration config)
    {
        var cert = Pem(config.ClientCertificateData, config.ClientCertificateFilePath);
        var key = Pem(config.ClientCertificateKeyData, config.ClientKeyFilePath);
        if (cert is null || key is null)
        {
            return null;
        }

        try
        {
            return X509Certificate2.CreateFromPem(cert, key);
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"the kubeconfig's client certificate and key cannot be loaded together: {ex.Message}. Check client-certificate(-data) and client-key(-data) of the user.", ex);
        }

        static string? Pem(string? base64, string? file) =>
            !string.IsNullOrWhiteSpace(file) ? File.ReadAllText(file)
            : !string.IsNullOrWhiteSpace(base64) ? Encoding.UTF8.GetString(Convert.FromBase64String(base64))
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Http.Dispose();
        _handler.Dispose();
        _clientCert?.Dispose();
        if (_caCerts is not null)
        {
            foreach (var cert in _caCerts)
            {
                cert.Dispose();
            }
        }
    }
}
