namespace RuntimeAI.Kubernetes.Config;

/// <summary>
/// A kubeconfig document (or the merge of several), as kubectl reads it. Paths inside it are
/// already absolute: relative ones were resolved against the directory of the file that named them.
/// </summary>
public sealed record KubeConfig
{
    /// <summary>Clusters by name.</summary>
    public IReadOnlyDictionary<string, KubeClusterEntry> Clusters { get; init; } = new Dictionary<string, KubeClusterEntry>(StringComparer.Ordinal);

    /// <summary>Users (credentials) by name.</summary>
    public IReadOnlyDictionary<string, KubeUserEntry> Users { get; init; } = new Dictionary<string, KubeUserEntry>(StringComparer.Ordinal);

    /// <summary>Contexts (cluster + user + namespace) by name.</summary>
    public IReadOnlyDictionary<string, KubeContextEntry> Contexts { get; init; } = new Dictionary<string, KubeContextEntry>(StringComparer.Ordinal);

    /// <summary>The <c>current-context</c>, or <see langword="null"/> when none is set.</summary>
    public string? CurrentContext { get; init; }

    /// <summary>The files this configuration was read from, in precedence order.</summary>
    public IReadOnlyList<string> SourceFiles { get; init; } = [];
}

/// <summary>A <c>clusters[]</c> entry: where the API server is and how to trust it.</summary>
public sealed record KubeClusterEntry
{
    /// <summary>The API server URL, e.g. <c>https://127.0.0.1:6443</c>.</summary>
    public required string Server { get; init; }

    /// <summary>Absolute path of a PEM CA bundle (<c>certificate-authority</c>).</summary>
    public string? CertificateAuthorityFile { get; init; }

    /// <summary>PEM CA bundle decoded from <c>certificate-authority-data</c>.</summary>
    public string? CertificateAuthorityData { get; init; }

    /// <summary><c>insecure-skip-tls-verify</c>: accept any server certificate.</summary>
    public bool InsecureSkipTlsVerify { get; init; }

    /// <summary><c>tls-server-name</c>: the name to validate the server certificate against (and send as SNI).</summary>
    public string? TlsServerName { get; init; }
}

/// <summary>A <c>users[]</c> entry: how to authenticate.</summary>
public sealed record KubeUserEntry
{
    /// <summary>A bearer token (<c>token</c>).</summary>
    public string? Token { get; init; }

    /// <summary>Absolute path of a file holding a bearer token (<c>tokenFile</c>), re-read when it changes.</summary>
    public string? TokenFile { get; init; }

    /// <summary>Absolute path of a PEM client certificate (<c>client-certificate</c>).</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM client certificate decoded from <c>client-certificate-data</c>.</summary>
    public string? ClientCertificateData { get; init; }

    /// <summary>Absolute path of a PEM client key (<c>client-key</c>).</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>PEM client key decoded from <c>client-key-data</c>.</summary>
    public string? ClientKeyData { get; init; }

    /// <summary>HTTP basic auth user name (<c>username</c>).</summary>
    public string? Username { get; init; }

    /// <summary>HTTP basic auth password (<c>password</c>).</summary>
    public string? Password { get; init; }

    /// <summary>An exec credential plugin (<c>exec</c>).</summary>
    public KubeExecConfig? Exec { get; init; }

    /// <summary>Describes the entry without its secrets (tokens, keys, passwords).</summary>
    /// <returns>A redacted description.</returns>
    public override string ToString() =>
        $"KubeUserEntry {{ Token = {Redact(Token)}, TokenFile = {TokenFile}, ClientCertificate = {(ClientCertificateData is not null ? "<data>" : ClientCertificateFile)}, " +
        $"ClientKey = {(ClientKeyData is not null ? "<redacted>" : ClientKeyFile)}, Username = {Username}, Password = {Redact(Password)}, Exec = {Exec} }}";

    private static string? Redact(string? secret) => secret is null ? null : "<redacted>";
}

/// <summary>An <c>exec</c> credential plugin: a command that prints an <c>ExecCredential</c> on stdout.</summary>
public sealed record KubeExecConfig
{
    /// <summary>The plugin API version; only <c>client.authentication.k8s.io/v1</c> and <c>v1beta1</c> are accepted.</summary>
    public required string ApiVersion { get; init; }

    /// <summary>The command; resolved against the kubeconfig's directory when it is a relative path with a separator.</summary>
    public required string Command { get; init; }

    /// <summary>Arguments.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Extra environment variables for the plugin.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Shown when the command cannot be found.</summary>
    public string? InstallHint { get; init; }

    /// <summary>Whether to pass the cluster in <c>KUBERNETES_EXEC_INFO</c>.</summary>
    public bool ProvideClusterInfo { get; init; }

    /// <summary>Describes the plugin; environment values are left out (they may hold secrets).</summary>
    /// <returns>A redacted description.</returns>
    public override string ToString() =>
        $"KubeExecConfig {{ ApiVersion = {ApiVersion}, Command = {Command}, Args = [{string.Join(", ", Args)}], Env = [{string.Join(", ", Env.Keys)}] }}";
}

/// <summary>A <c>contexts[]</c> entry.</summary>
public sealed record KubeContextEntry
{
    /// <summary>The cluster name.</summary>
    public required string Cluster { get; init; }

    /// <summary>The user name; may be empty for anonymous access.</summary>
    public string? User { get; init; }

    /// <summary>The default namespace, or <see langword="null"/> for <c>default</c>.</summary>
    public string? Namespace { get; init; }
}
