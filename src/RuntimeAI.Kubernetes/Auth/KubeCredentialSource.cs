using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Auth;

/// <summary>Supplies the Authorization header of each request.</summary>
internal abstract class KubeCredentialSource
{
    /// <summary>Whether a 401 is worth one retry with fresh credentials.</summary>
    public virtual bool CanRefresh => false;

    /// <summary>The header, or <see langword="null"/> for anonymous requests.</summary>
    public abstract ValueTask<AuthenticationHeaderValue?> GetAuthorizationAsync(bool forceRefresh, CancellationToken cancellationToken);

    public static KubeCredentialSource For(KubeConnection connection, TimeProvider timeProvider) =>
        connection.Exec is not null ? new ExecCredentialSource(connection.Exec, connection, timeProvider)
        : connection.Token is not null ? new StaticCredentialSource(new AuthenticationHeaderValue("Bearer", connection.Token))
        : connection.TokenFile is not null ? new TokenFileCredentialSource(connection.TokenFile, timeProvider)
        : connection.Username is not null ? new StaticCredentialSource(new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{connection.Username}:{connection.Password}"))))
        : new StaticCredentialSource(null);
}

internal sealed class StaticCredentialSource(AuthenticationHeaderValue? header) : KubeCredentialSource
{
    public override ValueTask<AuthenticationHeaderValue?> GetAuthorizationAsync(bool forceRefresh, CancellationToken cancellationToken) =>
        ValueTask.FromResult(header);
}

/// <summary>Re-reads the token file at most once a minute: projected service-account tokens rotate.</summary>
internal sealed class TokenFileCredentialSource(string path, TimeProvider timeProvider) : KubeCredentialSource
{
    private static readonly TimeSpan s_rereadInterval = TimeSpan.FromMinutes(1);
    private readonly Lock _gate = new();
    private AuthenticationHeaderValue? _header;
    private DateTimeOffset _readAt;

    public override bool CanRefresh => true;

    public override async ValueTask<AuthenticationHeaderValue?> GetAuthorizationAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!forceRefresh && _header is not null && now - _readAt < s_rereadInterval)
            {
                return _header;
            }
        }

        var token = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
        var header = new AuthenticationHeaderValue("Bearer", token);
        lock (_gate)
        {
            _header = header;
            _readAt = now;
        }

        return header;
    }
}

/// <summary>
/// Runs a <c>client.authentication.k8s.io</c> exec plugin and caches its token until the
/// <c>expirationTimestamp</c> it reports (or until the server answers 401).
/// </summary>
internal sealed class ExecCredentialSource(KubeExecConfig exec, KubeConnection connection, TimeProvider timeProvider) : KubeCredentialSource
{
    // Refresh slightly early so a token does not expire in flight.
    private static readonly TimeSpan s_expirySkew = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private AuthenticationHeaderValue? _header;
    private DateTimeOffset? _expiresAt;
    private bool _fetched;

    public override bool CanRefresh => true;

    /// <summary>The client certificate the plugin returned, if any; presented in TLS handshakes.</summary>
    public X509Certificate2? ClientCertificate { get; private set; }

    /// <summary>How many times the plugin ran (tests assert caching).</summary>
    public int Invocations { get; private set; }

    public override async ValueTask<AuthenticationHeaderValue?> GetAuthorizationAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!forceRefresh && _fetched && (_expiresAt is null || timeProvider.GetUtcNow() < _expiresAt.Value - s_expirySkew))
            {
                return _header;
            }

            var credential = await RunPluginAsync(cancellationToken).ConfigureAwait(false);
            var status = credential.Status;
            var hasCertificate = !string.IsNullOrEmpty(status?.ClientCertificateData) && !string.IsNullOrEmpty(status?.ClientKeyData);
            if (string.IsNullOrEmpty(status?.Token) && !hasCertificate)
            {
                throw new KubeConfigException($"exec plugin '{exec.Command}' returned neither a token nor a client certificate and key.");
            }

            if (hasCertificate)
            {
                try
                {
                    using var ephemeral = X509Certificate2.CreateFromPem(status!.ClientCertificateData, status.ClientKeyData);
                    ClientCertificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
                }
                catch (System.Security.Cryptography.CryptographicException ex)
                {
                    throw new KubeConfigException($"exec plugin '{exec.Command}' returned an unusable client certificate: {ex.Message}", ex);
                }
            }

            _header = string.IsNullOrEmpty(status!.Token) ? null : new AuthenticationHeaderValue("Bearer", status.Token);
            _expiresAt = status.ExpirationTimestamp;
            _fetched = true;
            return _header;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ExecCredential> RunPluginAsync(CancellationToken cancellationToken)
    {
        var info = new JsonObject
        {
            ["apiVersion"] = exec.ApiVersion,
            ["kind"] = "ExecCredential",
            ["spec"] = new JsonObject { ["interactive"] = false },
        };
        if (exec.ProvideClusterInfo)
        {
            var cluster = new JsonObject { ["server"] = connection.Server.ToString(), ["insecure-skip-tls-verify"] = connection.InsecureSkipTlsVerify };
            if (connection.CertificateAuthorityPem is not null)
            {
                cluster["certificate-authority-data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(connection.CertificateAuthorityPem));
            }

            ((JsonObject)info["spec"]!)["cluster"] = cluster;
        }

        var start = new ProcessStartInfo(exec.Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var arg in exec.Args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (k, v) in exec.Env)
        {
            start.Environment[k] = v;
        }

        start.Environment["KUBERNETES_EXEC_INFO"] = info.ToJsonString();

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new KubeConfigException($"exec plugin '{exec.Command}' did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            var hint = string.IsNullOrEmpty(exec.InstallHint) ? string.Empty : " " + exec.InstallHint;
            throw new KubeConfigException($"exec plugin '{exec.Command}' could not be run: {ex.Message}.{hint}", ex);
        }

        using (process)
        {
            Invocations++;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var output = await stdout.ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new KubeConfigException($"exec plugin '{exec.Command}' exited with code {process.ExitCode}: {errors.Trim()}");
            }

            try
            {
                var credential = JsonSerializer.Deserialize(output, KubeInternalJsonContext.Default.ExecCredential);
                if (credential is null || !string.Equals(credential.Kind, "ExecCredential", StringComparison.Ordinal))
                {
                    throw new KubeConfigException($"exec plugin '{exec.Command}' did not print an ExecCredential.");
                }

                return credential;
            }
            catch (JsonException ex)
            {
                throw new KubeConfigException($"exec plugin '{exec.Command}' printed invalid JSON: {ex.Message}", ex);
            }
        }
    }
}
