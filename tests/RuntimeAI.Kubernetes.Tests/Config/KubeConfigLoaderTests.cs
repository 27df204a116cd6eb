using System.Text;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Tests.Infrastructure;

namespace RuntimeAI.Kubernetes.Tests.Config;

public sealed class KubeConfigLoaderTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static string FullConfig => $"""
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev-cluster
          cluster:
            server: https://10.0.0.1:6443
            certificate-authority-data: {B64("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")}
            tls-server-name: kube.internal
        - name: lab
          cluster:
            server: https://lab:6443
            insecure-skip-tls-verify: true
        users:
        - name: alice
          user:
            token: alice-token
        - name: certs
          user:
            client-certificate-data: {B64("CERT")}
            client-key-data: {B64("KEY")}
        - name: plugin
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: ./bin/get-token
              args: ["--cluster", "lab"]
              env:
              - name: REGION
                value: eu-1
              installHint: install get-token
              provideClusterInfo: true
        contexts:
        - name: dev
          context:
            cluster: dev-cluster
            user: alice
            namespace: team-a
        - name: lab
          context:
            cluster: lab
            user: plugin
        """;

    [Fact]
    public void Parse_FullConfig_ReadsClustersUsersAndContexts()
    {
        var config = KubeConfigLoader.Parse(FullConfig, "/etc/kube");

        Assert.Equal("dev", config.CurrentContext);
        var dev = config.Clusters["dev-cluster"];
        Assert.Equal("https://10.0.0.1:6443", dev.Server);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", dev.CertificateAuthorityData);
        Assert.Equal("kube.internal", dev.TlsServerName);
        Assert.True(config.Clusters["lab"].InsecureSkipTlsVerify);
        Assert.Equal("alice-token", config.Users["alice"].Token);
        Assert.Equal("CERT", config.Users["certs"].ClientCertificateData);
        Assert.Equal("KEY", config.Users["certs"].ClientKeyData);
        var exec = config.Users["plugin"].Exec!;
        Assert.Equal("/etc/kube/bin/get-token", exec.Command);
        Assert.Equal(["--cluster", "lab"], exec.Args);
        Assert.Equal("eu-1", exec.Env["REGION"]);
        Assert.True(exec.ProvideClusterInfo);
        Assert.Equal("team-a", config.Contexts["dev"].Namespace);
    }

    [Fact]
    public void Resolve_CurrentContext_BuildsConnection()
    {
        var connection = KubeConfigLoader.Resolve(KubeConfigLoader.Parse(FullConfig, "/etc/kube"));

        Assert.Equal(new Uri("https://10.0.0.1:6443"), connection.Server);
        Assert.Equal("team-a", connection.Namespace);
        Assert.Equal("dev", connection.ContextName);
        Assert.Equal("alice-token", connection.Token);
        Assert.Equal("kube.internal", connection.TlsServerName);
        Assert.DoesNotContain("alice-token", connection.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ContextAndNamespaceOverride_SelectsThem()
    {
        var connection = KubeConfigLoader.Resolve(KubeConfigLoader.Parse(FullConfig, "/etc/kube"), "lab", "ops");

        Assert.Equal("ops", connection.Namespace);
        Assert.True(connection.InsecureSkipTlsVerify);
        Assert.NotNull(connection.Exec);
    }

    [Fact]
    public void Resolve_ContextWithoutNamespace_DefaultsToDefault()
    {
        var connection = KubeConfigLoader.Resolve(KubeConfigLoader.Parse(FullConfig, "/etc/kube"), "lab");

        Assert.Equal("default", connection.Namespace);
    }

    [Fact]
    public void Resolve_UnknownContext_ThrowsNamingKnownContexts()
    {
        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Resolve(KubeConfigLoader.Parse(FullConfig), "prod"));

        Assert.Contains("'prod'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("dev, lab", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsEveryOne()
    {
        const string yaml = """
            clusters:
            - name: a
              cluster:
                certificate-authority-data: "%%%not-base64"
            - cluster:
                server: https://x
            contexts:
            - name: c
              context:
                user: u
            """;

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Parse(yaml, sourceFile: "/tmp/cfg"));

        Assert.Contains("cluster 'a' has no server", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not valid base64", ex.Message, StringComparison.Ordinal);
        Assert.Contains("clusters[1] has no name", ex.Message, StringComparison.Ordinal);
        Assert.Contains("context 'c' has no cluster", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("/tmp/cfg", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnsupportedExecApiVersion_Throws()
    {
        const string yaml = """
            users:
            - name: u
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1alpha1
                  command: x
            """;

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Parse(yaml));

        Assert.Contains("v1alpha1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyDocument_ReturnsEmptyConfig()
    {
        var config = KubeConfigLoader.Parse("");

        Assert.Empty(config.Clusters);
        Assert.Null(config.CurrentContext);
    }

    [Fact]
    public void LoadDefault_KubeconfigWithSeveralFiles_FirstFileWinsPerKey()
    {
        using var dir = new TempDirectory();
        var first = dir.Write("one/config", """
            clusters:
            - name: shared
              cluster:
                server: https://first:6443
            users:
            - name: u1
              user:
                token: t1
            contexts:
            - name: ctx1
              context: {cluster: shared, user: u1}
            """);
        var second = dir.Write("two/config", """
            current-context: ctx2
            clusters:
            - name: shared
              cluster:
                server: https://second:6443
            - name: only-second
              cluster:
                server: https://only:6443
                certificate-authority: ca.pem
            contexts:
            - name: ctx2
              context: {cluster: only-second, namespace: n2}
            """);
        var third = dir.Write("three/config", "current-context: ctx1\n");
        var missing = Path.Combine(dir.Path, "missing");
        var env = new Dictionary<string, string?> { ["KUBECONFIG"] = string.Join(Path.PathSeparator, first, missing, second, third) };

        var config = KubeConfigLoader.LoadDefault(getEnvironmentVariable: k => env.GetValueOrDefault(k))!;

        Assert.Equal("https://first:6443", config.Clusters["shared"].Server);
        Assert.Equal(Path.Combine(dir.Path, "two", "ca.pem"), config.Clusters["only-second"].CertificateAuthorityFile);
        Assert.Equal("ctx2", config.CurrentContext); // first file to set it wins
        Assert.Equal(3, config.SourceFiles.Count);
        Assert.Equal(["ctx1", "ctx2"], config.Contexts.Keys.Order());
    }

    [Fact]
    public void LoadDefault_ExplicitPath_WinsOverKubeconfigVariable()
    {
        using var dir = new TempDirectory();
        var fromEnv = dir.Write("env", "current-context: from-env\n");
        var explicitFile = dir.Write("explicit", "current-context: explicit\n");

        var config = KubeConfigLoader.LoadDefault(explicitFile, k => k == "KUBECONFIG" ? fromEnv : null)!;

        Assert.Equal("explicit", config.CurrentContext);
    }

    [Fact]
    public void LoadDefault_ExplicitPathMissing_Throws()
    {
        Assert.Throws<KubeConfigException>(() => KubeConfigLoader.LoadDefault("/nonexistent/kubeconfig", _ => null));
    }

    [Fact]
    public void LoadDefault_NoVariable_ReadsHomeKubeConfig()
    {
        using var dir = new TempDirectory();
        dir.Write(".kube/config", "current-context: home\n");

        var config = KubeConfigLoader.LoadDefault(getEnvironmentVariable: k => k == "HOME" ? dir.Path : null);

        Assert.Equal("home", config!.CurrentContext);
    }

    [Fact]
    public void Resolve_CertificateFiles_ReadsTheirContent()
    {
        using var dir = new TempDirectory();
        dir.Write("pki/ca.pem", "CA-PEM");
        dir.Write("pki/client.crt", "CLIENT-CRT");
        dir.Write("pki/client.key", "CLIENT-KEY");
        dir.Write("token", "file-token\n");
        var path = dir.Write("config", """
            current-context: c
            clusters:
            - name: k
              cluster: {server: "https://k:6443", certificate-authority: pki/ca.pem}
            users:
            - name: u
              user: {client-certificate: pki/client.crt, client-key: pki/client.key, tokenFile: token}
            contexts:
            - name: c
              context: {cluster: k, user: u}
            """);

        var connection = KubeConfigLoader.ResolveDefault(path, getEnvironmentVariable: _ => null);

        Assert.Equal("CA-PEM", connection.CertificateAuthorityPem);
        Assert.Equal("CLIENT-CRT", connection.ClientCertificatePem);
        Assert.Equal("CLIENT-KEY", connection.ClientKeyPem);
        Assert.Equal(Path.Combine(dir.Path, "token"), connection.TokenFile);
    }

    [Fact]
    public void TryLoadInCluster_ServiceAccountMounted_BuildsConnection()
    {
        using var dir = new TempDirectory();
        dir.Write("token", "sa-token");
        dir.Write("ca.crt", "SA-CA");
        dir.Write("namespace", "kube-system\n");
        var env = new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1", ["KUBERNETES_SERVICE_PORT"] = "443" };

        var connection = KubeConfigLoader.TryLoadInCluster(k => env.GetValueOrDefault(k), dir.Path)!;

        Assert.Equal(new Uri("https://10.96.0.1:443"), connection.Server);
        Assert.Equal("kube-system", connection.Namespace);
        Assert.Equal("SA-CA", connection.CertificateAuthorityPem);
        Assert.Equal(Path.Combine(dir.Path, "token"), connection.TokenFile);
    }

    [Fact]
    public void ResolveDefault_NoConfigAndNotInPod_Throws()
    {
        using var dir = new TempDirectory();

        var ex = Assert.Throws<KubeConfigException>(() =>
            KubeConfigLoader.ResolveDefault(getEnvironmentVariable: k => k == "HOME" ? dir.Path : null, serviceAccountDirectory: dir.Path));

        Assert.Contains("No kubeconfig found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveDefault_NoConfigInPod_UsesServiceAccount()
    {
        using var dir = new TempDirectory();
        dir.Write("sa/token", "sa-token");
        var env = new Dictionary<string, string?> { ["HOME"] = dir.Path, ["KUBERNETES_SERVICE_HOST"] = "fd00::1", ["KUBERNETES_SERVICE_PORT"] = "6443" };

        var connection = KubeConfigLoader.ResolveDefault(getEnvironmentVariable: k => env.GetValueOrDefault(k), serviceAccountDirectory: Path.Combine(dir.Path, "sa"));

        Assert.Equal("[fd00::1]", connection.Server.Host);
        Assert.Equal("default", connection.Namespace);
    }
}

public sealed class KubeConfigRedactionTests
{
    [Fact]
    public void ToString_UserWithSecrets_RedactsThem()
    {
        var user = new KubeUserEntry
        {
            Token = "tok-secret",
            Password = "pw-secret",
            ClientKeyData = "KEY-secret",
            Exec = new KubeExecConfig { ApiVersion = "client.authentication.k8s.io/v1", Command = "x", Env = new Dictionary<string, string> { ["API_KEY"] = "env-secret" } },
        };

        var text = user.ToString();

        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
        Assert.Contains("API_KEY", text, StringComparison.Ordinal);
    }
}
