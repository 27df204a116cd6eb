using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using RuntimeAI.Kubernetes.Auth;
using RuntimeAI.Kubernetes.Config;

namespace RuntimeAI.Kubernetes.Client;

/// <summary>Builds the socket handler with the connection's trust anchors and client certificate.</summary>
internal static class KubeTlsHandler
{
    public static SocketsHttpHandler Create(KubeConnection connection, ExecCredentialSource? execCredentials = null)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = System.Net.DecompressionMethods.GZip,
            UseProxy = false,
        };

        if (connection.Server.Scheme != Uri.UriSchemeHttps)
        {
            return handler;
        }

        var ssl = new SslClientAuthenticationOptions();
        var serverName = string.IsNullOrEmpty(connection.TlsServerName) ? null : connection.TlsServerName;
        if (connection.InsecureSkipTlsVerify)
        {
            ssl.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (!string.IsNullOrEmpty(connection.CertificateAuthorityPem))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPem(connection.CertificateAuthorityPem);
            if (roots.Count == 0)
            {
                throw new KubeConfigException("The certificate authority data holds no PEM certificate.");
            }

            ssl.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => ValidateAgainst(roots, serverName, certificate, chain, errors);
        }
        else if (serverName is not null)
        {
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None && MatchesName(certificate, serverName);
        }

        if (!string.IsNullOrEmpty(connection.ClientCertificatePem))
        {
            if (string.IsNullOrEmpty(connection.ClientKeyPem))
            {
                throw new KubeConfigException("A client certificate is configured without a client key.");
            }

            using var ephemeral = X509Certificate2.CreateFromPem(connection.ClientCertificatePem, connection.ClientKeyPem);

            // Round-trip through PKCS#12 so the key is usable by the TLS stack on every platform.
            var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            ssl.ClientCertificates = [certificate];
        }
        else if (execCredentials is not null)
        {
            // Fetched (with the token) before every request is sent, so it is current when a connection is opened.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => execCredentials.ClientCertificate!;
        }

        handler.SslOptions = ssl;
        return handler;
    }

    private static bool MatchesName(X509Certificate? certificate, string serverName)
    {
        if (certificate is null)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        return leaf.MatchesHostname(serverName);
    }

    /// <summary>Chain must end at one of the given roots; the host name must still match.</summary>
    internal static bool ValidateAgainst(X509Certificate2Collection roots, string? serverName, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        // With tls-server-name the certificate must name that host instead of the URL's.
        var nameOk = serverName is null
            ? (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
            : MatchesName(certificate, serverName);
        if (!nameOk)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            // Intermediates the server sent are candidates, never anchors.
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
