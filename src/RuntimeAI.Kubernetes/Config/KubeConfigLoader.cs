using System.Text;
using YamlDotNet.RepresentationModel;

namespace RuntimeAI.Kubernetes.Config;

/// <summary>
/// Reads kubeconfig files the way kubectl does: <c>--kubeconfig</c> wins, else every file in
/// <c>KUBECONFIG</c> merged (the first file to set a key wins, missing files are skipped), else
/// <c>~/.kube/config</c>; and, when none exists, the in-cluster service account.
/// </summary>
/// <remarks>
/// YAML is read through YamlDotNet's representation model, not its reflection deserializer, so the
/// library stays trimming- and AOT-safe.
/// </remarks>
public static class KubeConfigLoader
{
    /// <summary>The service-account directory mounted into every pod.</summary>
    public const string DefaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>
    /// Resolves the connection a kubectl-like command would use.
    /// </summary>
    /// <param name="kubeconfigPath">The <c>--kubeconfig</c> value, or <see langword="null"/>.</param>
    /// <param name="context">The <c>--context</c> value, or <see langword="null"/> for the current context.</param>
    /// <param name="namespaceOverride">The <c>--namespace</c> value, or <see langword="null"/>.</param>
    /// <param name="getEnvironmentVariable">Environment lookup (tests inject one); defaults to the process environment.</param>
    /// <param name="serviceAccountDirectory">Where the in-cluster token and CA live.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="KubeConfigException">Nothing usable was found, or the selected context is broken.</exception>
    public static KubeConnection ResolveDefault(
        string? kubeconfigPath = null,
        string? context = null,
        string? namespaceOverride = null,
        Func<string, string?>? getEnvironmentVariable = null,
        string serviceAccountDirectory = DefaultServiceAccountDirectory)
    {
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;
        var config = LoadDefault(kubeconfigPath, getEnvironmentVariable);
        if (config is not null)
        {
            return Resolve(config, context, namespaceOverride);
        }

        var inCluster = TryLoadInCluster(getEnvironmentVariable, serviceAccountDirectory)
            ?? throw new KubeConfigException("No kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a pod.");
        return namespaceOverride is null ? inCluster : inCluster with { Namespace = namespaceOverride };
    }

    /// <summary>
    /// Loads the kubeconfig kubectl would load, without picking a context.
    /// </summary>
    /// <param name="kubeconfigPath">The <c>--kubeconfig</c> value; the file must exist.</param>
    /// <param name="getEnvironmentVariable">Environment lookup; defaults to the process environment.</param>
    /// <returns>The (merged) configuration, or <see langword="null"/> when no file exists.</returns>
    public static KubeConfig? LoadDefault(string? kubeconfigPath = null, Func<string, string?>? getEnvironmentVariable = null)
    {
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;
        if (!string.IsNullOrEmpty(kubeconfigPath))
        {
            return LoadFile(kubeconfigPath);
        }

        var kubeconfigEnv = getEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(kubeconfigEnv))
        {
            var files = kubeconfigEnv
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(Path.GetFullPath)
                .Distinct(StringComparer.Ordinal)
                .Where(File.Exists)
                .ToList();
            return files.Count == 0 ? null : Merge(files.Select(LoadFile));
        }

        var home = getEnvironmentVariable("HOME") ?? getEnvironmentVariable("USERPROFILE");
        if (home is null)
        {
            return null;
        }

        var defaultPath = Path.Combine(home, ".kube", "config");
        return File.Exists(defaultPath) ? LoadFile(defaultPath) : null;
    }

    /// <summary>Reads one kubeconfig file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The configuration, with relative paths made absolute against the file's directory.</returns>
    /// <exception cref="KubeConfigException">The file is missing or is not a valid kubeconfig.</exception>
    public static KubeConfig LoadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fullPath = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"Cannot read kubeconfig '{fullPath}': {ex.Message}", ex);
        }

        return Parse(text, Path.GetDirectoryName(fullPath), fullPath);
    }

    /// <summary>Parses kubeconfig YAML.</summary>
    /// <param name="yaml">The document.</param>
    /// <param name="baseDirectory">Directory relative paths are resolved against; the current directory when <see langword="null"/>.</param>
    /// <param name="sourceFile">Named in error messages.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="KubeConfigException">The YAML is malformed or a field has the wrong shape.</exception>
    public static KubeConfig Parse(string yaml, string? baseDirectory = null, string? sourceFile = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var source = sourceFile ?? "<kubeconfig>";
        baseDirectory ??= Directory.GetCurrentDirectory();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new KubeConfigException($"{source}: invalid YAML at line {ex.Start.Line}: {ex.Message}", ex);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode)
        {
            return new KubeConfig { SourceFiles = sourceFile is null ? [] : [sourceFile] };
        }

        var reader = new YamlReader(source, baseDirectory);
        var root = reader.AsMapping(stream.Documents[0].RootNode, "(root)");
        var clusters = new Dictionary<string, KubeClusterEntry>(StringComparer.Ordinal);
        var users = new Dictionary<string, KubeUserEntry>(StringComparer.Ordinal);
        var contexts = new Dictionary<string, KubeContextEntry>(StringComparer.Ordinal);

        foreach (var (name, body) in reader.NamedEntries(root, "clusters", "cluster"))
        {
            clusters.TryAdd(name, reader.ReadCluster(body, name));
        }

        foreach (var (name, body) in reader.NamedEntries(root, "users", "user"))
        {
            users.TryAdd(name, reader.ReadUser(body, name));
        }

        foreach (var (name, body) in reader.NamedEntries(root, "contexts", "context"))
        {
            contexts.TryAdd(name, reader.ReadContext(body, name));
        }

        if (reader.Errors.Count > 0)
        {
            throw new KubeConfigException($"{source}: " + string.Join("; ", reader.Errors));
        }

        var current = reader.Scalar(root, "current-context");
        return new KubeConfig
        {
            Clusters = clusters,
            Users = users,
            Contexts = contexts,
            CurrentContext = string.IsNullOrEmpty(current) ? null : current,
            SourceFiles = sourceFile is null ? [] : [sourceFile],
        };
    }

    /// <summary>Merges configurations as kubectl merges <c>KUBECONFIG</c>: the first to set a key wins.</summary>
    /// <param name="configs">Configurations in precedence order.</param>
    /// <returns>The merged configuration.</returns>
    public static KubeConfig Merge(IEnumerable<KubeConfig> configs)
    {
        ArgumentNullException.ThrowIfNull(configs);
        var clusters = new Dictionary<string, KubeClusterEntry>(StringComparer.Ordinal);
        var users = new Dictionary<string, KubeUserEntry>(StringComparer.Ordinal);
        var contexts = new Dictionary<string, KubeContextEntry>(StringComparer.Ordinal);
        var sources = new List<string>();
        string? current = null;
        foreach (var config in configs)
        {
            foreach (var (k, v) in config.Clusters)
            {
                clusters.TryAdd(k, v);
            }

            foreach (var (k, v) in config.Users)
            {
                users.TryAdd(k, v);
            }

            foreach (var (k, v) in config.Contexts)
            {
                contexts.TryAdd(k, v);
            }

            current ??= config.CurrentContext;
            sources.AddRange(config.SourceFiles);
        }

        return new KubeConfig { Clusters = clusters, Users = users, Contexts = contexts, CurrentContext = current, SourceFiles = sources };
    }

    /// <summary>Picks a context and turns it into a connection, reading any referenced files.</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="context">The context name; the current context when <see langword="null"/>.</param>
    /// <param name="namespaceOverride">Replaces the context's namespace when set.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="KubeConfigException">The context, its cluster or its user is missing, or a referenced file cannot be read.</exception>
    public static KubeConnection Resolve(KubeConfig config, string? context = null, string? namespaceOverride = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var contextName = string.IsNullOrEmpty(context) ? config.CurrentContext : context;
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubeConfigException("No context selected: the kubeconfig has no current-context and none was given.");
        }

        if (!config.Contexts.TryGetValue(contextName, out var ctx))
        {
            throw new KubeConfigException($"Context '{contextName}' not found; known contexts: {Known(config.Contexts.Keys)}.");
        }

        if (!config.Clusters.TryGetValue(ctx.Cluster, out var cluster))
        {
            throw new KubeConfigException($"Context '{contextName}' names cluster '{ctx.Cluster}', which is not defined; known clusters: {Known(config.Clusters.Keys)}.");
        }

        KubeUserEntry user = new();
        if (!string.IsNullOrEmpty(ctx.User) && !config.Users.TryGetValue(ctx.User, out user!))
        {
            throw new KubeConfigException($"Context '{contextName}' names user '{ctx.User}', which is not defined; known users: {Known(config.Users.Keys)}.");
        }

        if (!Uri.TryCreate(cluster.Server, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw new KubeConfigException($"Cluster '{ctx.Cluster}' has an invalid server URL '{cluster.Server}'.");
        }

        return new KubeConnection
        {
            Server = server,
            Namespace = namespaceOverride ?? (string.IsNullOrEmpty(ctx.Namespace) ? "default" : ctx.Namespace),
            ContextName = contextName,
            CertificateAuthorityPem = cluster.CertificateAuthorityData ?? ReadOptional(cluster.CertificateAuthorityFile, $"cluster '{ctx.Cluster}' certificate-authority"),
            InsecureSkipTlsVerify = cluster.InsecureSkipTlsVerify,
            TlsServerName = cluster.TlsServerName,
            ClientCertificatePem = user.ClientCertificateData ?? ReadOptional(user.ClientCertificateFile, $"user '{ctx.User}' client-certificate"),
            ClientKeyPem = user.ClientKeyData ?? ReadOptional(user.ClientKeyFile, $"user '{ctx.User}' client-key"),
            Token = string.IsNullOrEmpty(user.Token) ? null : user.Token,
            TokenFile = user.TokenFile,
            Username = user.Username,
            Password = user.Password,
            Exec = user.Exec,
        };
    }

    /// <summary>
    /// Builds the in-cluster connection from <c>KUBERNETES_SERVICE_HOST</c>/<c>_PORT</c> and the
    /// mounted service account, or returns <see langword="null"/> when not running in a pod.
    /// </summary>
    /// <param name="getEnvironmentVariable">Environment lookup; defaults to the process environment.</param>
    /// <param name="serviceAccountDirectory">Directory holding <c>token</c>, <c>ca.crt</c> and <c>namespace</c>.</param>
    /// <returns>The connection, or <see langword="null"/>.</returns>
    public static KubeConnection? TryLoadInCluster(Func<string, string?>? getEnvironmentVariable = null, string serviceAccountDirectory = DefaultServiceAccountDirectory)
    {
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;
        var host = getEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = getEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        var tokenFile = Path.Combine(serviceAccountDirectory, "token");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port) || !File.Exists(tokenFile))
        {
            return null;
        }

        // An IPv6 service host needs brackets in a URL.
        var hostPart = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        var caFile = Path.Combine(serviceAccountDirectory, "ca.crt");
        var nsFile = Path.Combine(serviceAccountDirectory, "namespace");
        var ns = File.Exists(nsFile) ? File.ReadAllText(nsFile).Trim() : "default";
        return new KubeConnection
        {
            Server = new Uri($"https://{hostPart}:{port}"),
            Namespace = string.IsNullOrEmpty(ns) ? "default" : ns,
            CertificateAuthorityPem = File.Exists(caFile) ? File.ReadAllText(caFile) : null,
            TokenFile = tokenFile,
        };
    }

    private static string Known(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "(none)" : string.Join(", ", list);
    }

    private static string? ReadOptional(string? path, string what)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"Cannot read {what} '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>Walks the YAML tree, collecting every shape error instead of stopping at the first.</summary>
    private sealed class YamlReader(string source, string baseDirectory)
    {
        public List<string> Errors { get; } = [];

        public YamlMappingNode AsMapping(YamlNode node, string where)
        {
            if (node is YamlMappingNode mapping)
            {
                return mapping;
            }

            Errors.Add($"{where} must be a mapping");
            return new YamlMappingNode();
        }

        public IEnumerable<(string Name, YamlMappingNode Body)> NamedEntries(YamlMappingNode root, string listKey, string bodyKey)
        {
            var node = Child(root, listKey);
            if (node is null || IsNull(node))
            {
                yield break;
            }

            if (node is not YamlSequenceNode sequence)
            {
                Errors.Add($"'{listKey}' must be a list");
                yield break;
            }

            var index = 0;
            foreach (var item in sequence)
            {
                var where = $"{listKey}[{index++}]";
                var entry = AsMapping(item, where);
                var name = Scalar(entry, "name");
                if (string.IsNullOrEmpty(name))
                {
                    Errors.Add($"{where} has no name");
                    continue;
                }

                var body = Child(entry, bodyKey);
                yield return (name, body is null || IsNull(body) ? new YamlMappingNode() : AsMapping(body, $"{where}.{bodyKey}"));
            }
        }

        public KubeClusterEntry ReadCluster(YamlMappingNode body, string name)
        {
            var server = Scalar(body, "server");
            if (string.IsNullOrEmpty(server))
            {
                Errors.Add($"cluster '{name}' has no server");
            }

            return new KubeClusterEntry
            {
                Server = server ?? string.Empty,
                CertificateAuthorityFile = PathValue(body, "certificate-authority"),
                CertificateAuthorityData = Base64Value(body, "certificate-authority-data", $"cluster '{name}'"),
                InsecureSkipTlsVerify = BoolValue(body, "insecure-skip-tls-verify", $"cluster '{name}'"),
                TlsServerName = Scalar(body, "tls-server-name"),
            };
        }

        public KubeUserEntry ReadUser(YamlMappingNode body, string name) => new()
        {
            Token = Scalar(body, "token"),
            TokenFile = PathValue(body, "tokenFile"),
            ClientCertificateFile = PathValue(body, "client-certificate"),
            ClientCertificateData = Base64Value(body, "client-certificate-data", $"user '{name}'"),
            ClientKeyFile = PathValue(body, "client-key"),
            ClientKeyData = Base64Value(body, "client-key-data", $"user '{name}'"),
            Username = Scalar(body, "username"),
            Password = Scalar(body, "password"),
            Exec = ReadExec(body, name),
        };

        public KubeContextEntry ReadContext(YamlMappingNode body, string name)
        {
            var cluster = Scalar(body, "cluster");
            if (string.IsNullOrEmpty(cluster))
            {
                Errors.Add($"context '{name}' has no cluster");
            }

            return new KubeContextEntry { Cluster = cluster ?? string.Empty, User = Scalar(body, "user"), Namespace = Scalar(body, "namespace") };
        }

        public string? Scalar(YamlMappingNode mapping, string key)
        {
            var node = Child(mapping, key);
            switch (node)
            {
                case null:
                    return null;
                case YamlScalarNode scalar:
                    return IsNull(scalar) ? null : scalar.Value;
                default:
                    Errors.Add($"'{key}' must be a scalar");
                    return null;
            }
        }

        private KubeExecConfig? ReadExec(YamlMappingNode body, string userName)
        {
            var node = Child(body, "exec");
            if (node is null || IsNull(node))
            {
                return null;
            }

            var exec = AsMapping(node, $"user '{userName}' exec");
            var apiVersion = Scalar(exec, "apiVersion") ?? string.Empty;
            var command = Scalar(exec, "command");
            if (string.IsNullOrEmpty(command))
            {
                Errors.Add($"user '{userName}' exec has no command");
                command = string.Empty;
            }
            else if (!Path.IsPathRooted(command) && (command.Contains('/', StringComparison.Ordinal) || command.Contains('\\', StringComparison.Ordinal)))
            {
                // kubectl resolves a relative command with a separator against the kubeconfig's directory.
                command = Path.GetFullPath(Path.Combine(baseDirectory, command));
            }

            if (apiVersion is not ("client.authentication.k8s.io/v1" or "client.authentication.k8s.io/v1beta1"))
            {
                Errors.Add($"user '{userName}' exec apiVersion '{apiVersion}' is not supported (use client.authentication.k8s.io/v1)");
            }

            var args = new List<string>();
            if (Child(exec, "args") is YamlSequenceNode argList)
            {
                args.AddRange(argList.OfType<YamlScalarNode>().Select(a => a.Value ?? string.Empty));
            }

            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            if (Child(exec, "env") is YamlSequenceNode envList)
            {
                foreach (var item in envList.OfType<YamlMappingNode>())
                {
                    var n = Scalar(item, "name");
                    if (!string.IsNullOrEmpty(n))
                    {
                        env[n] = Scalar(item, "value") ?? string.Empty;
                    }
                }
            }

            return new KubeExecConfig
            {
                ApiVersion = apiVersion,
                Command = command,
                Args = args,
                Env = env,
                InstallHint = Scalar(exec, "installHint"),
                ProvideClusterInfo = BoolValue(exec, "provideClusterInfo", $"user '{userName}' exec"),
            };
        }

        private string? PathValue(YamlMappingNode mapping, string key)
        {
            var value = Scalar(mapping, key);
            if (string.IsNullOrEmpty(value))
            {
                return null;
            }

            if (value.StartsWith("~/", StringComparison.Ordinal))
            {
                var home = Environment.GetEnvironmentVariable("HOME");
                if (home is not null)
                {
                    value = Path.Combine(home, value[2..]);
                }
            }

            return Path.IsPathRooted(value) ? value : Path.GetFullPath(Path.Combine(baseDirectory, value));
        }

        private string? Base64Value(YamlMappingNode mapping, string key, string owner)
        {
            var value = Scalar(mapping, key);
            if (string.IsNullOrEmpty(value))
            {
                return null;
            }

            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim()));
            }
            catch (FormatException)
            {
                Errors.Add($"{owner} {key} is not valid base64");
                return null;
            }
        }

        private bool BoolValue(YamlMappingNode mapping, string key, string owner)
        {
            var value = Scalar(mapping, key);
            if (string.IsNullOrEmpty(value))
            {
                return false;
            }

            if (bool.TryParse(value, out var result))
            {
                return result;
            }

            Errors.Add($"{owner} {key} must be true or false, not '{value}'");
            return false;
        }

        private static YamlNode? Child(YamlMappingNode mapping, string key) =>
            mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) } s
            && (s.Value is null or "" or "~" or "null" or "Null" or "NULL");

        public override string ToString() => source;
    }
}
