namespace RuntimeAI.Kubernetes.Config;

/// <summary>
/// Everything needed to reach one API server as one user: the result of picking a context from a
/// kubeconfig, or of the in-cluster service account. PEM material is held as text; files are read
/// when the connection is resolved, except <see cref="TokenFile"/> which is re-read as it rotates.
/// </summary>
public sealed record KubeConnection
{
    /// <summary>The API server base URL.</summary>
    public required Uri Server { get; init; }

    /// <summary>The namespace operations default to.</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>The kubeconfig context this came from, or <see langword="null"/> (in-cluster, or built by hand).</summary>
    public string? ContextName { get; init; }

    /// <summary>PEM bundle of CAs that may sign the server certificate; <see langword="null"/> uses the system store.</summary>
    public string? CertificateAuthorityPem { get; init; }

    /// <summary>Accept any server certificate. Only for test clusters.</summary>
    public bool InsecureSkipTlsVerify { get; init; }

    /// <summary>The name the server certificate must carry (and the SNI sent), when it differs from the URL host.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>PEM client certificate for mutual TLS.</summary>
    public string? ClientCertificatePem { get; init; }

    /// <summary>PEM private key of <see cref="ClientCertificatePem"/>.</summary>
    public string? ClientKeyPem { get; init; }

    /// <summary>A static bearer token.</summary>
    public string? Token { get; init; }

    /// <summary>A file holding the bearer token (a projected service-account token rotates).</summary>
    public string? TokenFile { get; init; }

    /// <summary>HTTP basic auth user name.</summary>
    public string? Username { get; init; }

    /// <summary>HTTP basic auth password.</summary>
    public string? Password { get; init; }

    /// <summary>An exec credential plugin that supplies the token.</summary>
    public KubeExecConfig? Exec { get; init; }

    /// <summary>Returns a copy that never prints secrets; used by <see cref="ToString"/>.</summary>
    public override string ToString() =>
        $"KubeConnection {{ Server = {Server}, Namespace = {Namespace}, Context = {ContextName}, Auth = {DescribeAuth()} }}";

    private string DescribeAuth() =>
        Exec is not null ? $"exec:{Exec.Command}"
        : Token is not null ? "token:<redacted>"
        : TokenFile is not null ? $"tokenFile:{TokenFile}"
        : ClientCertificatePem is not null ? "client-certificate"
        : Username is not null ? "basic:<redacted>"
        : "anonymous";
}

/// <summary>A kubeconfig could not be read, or names something it does not define.</summary>
public sealed class KubeConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KubeConfigException() { }

    /// <summary>Creates the exception with a message.</summary>
    public KubeConfigException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public KubeConfigException(string message, Exception innerException) : base(message, innerException) { }
}
