using System.Globalization;
using System.Text.Json;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host;

/// <summary>
/// Builds <see cref="RuntimeAiServerOptions"/> from defaults &lt; config file (JSON) &lt; environment
/// (<c>RUNTIMEAI_…</c>) &lt; flags, and validates the result, collecting every error instead of
/// stopping at the first.
/// </summary>
internal sealed class ServerConfig
{
    private static readonly string[] s_knownKeys =
    [
        "transport", "urls", "data_dir", "autonomy", "sandbox", "libvirt", "kubeconfig", "max_request_body_bytes",
        "allowed_origins", "allowed_hosts", "log_file", "log_level", "policies_dir", "admins", "autonomy_scopes", "roles", "auth",
        "approvals_required", "client_approval_transports", "toolsets", "observe_hosts", "observe_max_bytes", "signal_interval_seconds", "prices",
        "events", "telemetry",
        "graph_window_minutes", "graph_max_objects", "graph_idle_minutes",
        "store", "postgres", "approval_key_file",
    ];

    private string? _postgresConnectionFile;

    public List<string> Errors { get; } = [];

    public RuntimeAiServerOptions Options { get; } = new();

    /// <summary>Flag values; null means "not given on the command line".</summary>
    internal sealed record Flags
    {
        public string? ConfigFile { get; init; }
        public string? Transport { get; init; }
        public string? Urls { get; init; }
        public string? DataDir { get; init; }
        public string? Autonomy { get; init; }
        public bool? Sandbox { get; init; }
        public IReadOnlyList<string> Libvirt { get; init; } = [];
        public IReadOnlyList<string> Kubeconfig { get; init; } = [];
        public IReadOnlyList<string> Context { get; init; } = [];
        public string? LogFile { get; init; }
        public string? LogLevel { get; init; }
        public string? PoliciesDir { get; init; }
        public IReadOnlyList<string> Toolsets { get; init; } = [];
        public IReadOnlyList<string> AuthIssuers { get; init; } = [];
        public string? ResourceUri { get; init; }
        public bool? ApiKeys { get; init; }
        public bool? InsecureNoAuth { get; init; }
    }

    public static ServerConfig Load(Flags flags, IDictionary<string, string?> environment)
    {
        var config = new ServerConfig();
        var file = flags.ConfigFile ?? Env(environment, "CONFIG");
        if (file is not null)
        {
            config.ApplyFile(file);
        }

        config.ApplyEnvironment(environment);
        config.ApplyFlags(flags);
        config.Validate();
        return config;
    }

    private static string? Env(IDictionary<string, string?> environment, string name) =>
        environment.TryGetValue("RUNTIMEAI_" + name, out var v) && !string.IsNullOrEmpty(v) ? v : null;

    private void ApplyFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Errors.Add($"config file '{path}' cannot be read ({ex.Message}); check the path given to --config or RUNTIMEAI_CONFIG");
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            Errors.Add($"config file '{path}' is not valid JSON (line {ex.LineNumber + 1}: {ex.Message.Split('.')[0]}); fix the syntax");
            return;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                Errors.Add($"config file '{path}' must hold a JSON object like {{\"transport\": \"http\"}}");
                return;
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                var where = $"config file '{path}': '{property.Name}'";
                switch (property.Name)
                {
                    case "transport": Options.Transport = ReadString(property.Value, where) ?? Options.Transport; break;
                    case "urls": Options.Urls = ReadString(property.Value, where) ?? Options.Urls; break;
                    case "data_dir": Options.DataDir = ReadString(property.Value, where) ?? Options.DataDir; break;
                    case "store": Options.Store = ReadString(property.Value, where) ?? Options.Store; break;
                    case "postgres": ReadPostgres(property.Value, where); break;
                    case "approval_key_file": Options.ApprovalKeyFile = ReadString(property.Value, where) ?? Options.ApprovalKeyFile; break;
                    case "autonomy": SetAutonomy(ReadString(property.Value, where), where); break;
                    case "sandbox":
                        if (property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                        {
                            Options.Sandbox = property.Value.GetBoolean();
                        }
                        else
                        {
                            Errors.Add($"{where} must be true or false");
                        }

                        break;
                    case "libvirt": ReadList(property.Value, where, Options.Libvirt); break;
                    case "kubeconfig": ReadList(property.Value, where, Options.Kubeconfigs); break;
                    case "allowed_origins": ReadList(property.Value, where, Options.AllowedOrigins); break;
                    case "allowed_hosts": ReadList(property.Value, where, Options.AllowedHosts); break;
                    case "max_request_body_bytes":
                        if (property.Value.TryGetInt64(out var max))
                        {
                            Options.MaxRequestBodyBytes = max;
                        }
                        else
                        {
                            Errors.Add($"{where} must be an integer number of bytes");
                        }

                        break;
                    case "log_file": Options.LogFile = ReadString(property.Value, where); break;
                    case "log_level": Options.LogLevel = ReadString(property.Value, where) ?? Options.LogLevel; break;
                    case "policies_dir": Options.PoliciesDir = ReadString(property.Value, where); break;
                    case "toolsets":
                        Options.Toolsets.Clear();
                        ReadList(property.Value, where, Options.Toolsets);
                        break;
                    case "admins": ReadList(property.Value, where, Options.Admins); break;
                    case "autonomy_scopes": ReadScopes(property.Value, where); break;
                    case "roles": ReadRoles(property.Value, where); break;
                    case "auth": ReadAuth(property.Value, where); break;
                    case "client_approval_transports": ReadList(property.Value, where, Options.ClientApprovalTransports); break;
                    case "observe_hosts": ReadList(property.Value, where, Options.ObserveHosts); break;
                    case "observe_max_bytes":
                        if (property.Value.TryGetInt32(out var budget) && budget is >= 1024 and <= 1024 * 1024)
                        {
                            Options.ObserveMaxBytes = budget;
                        }
                        else
                        {
                            Errors.Add($"{where} must be a whole number of bytes from 1024 to 1048576 (the budget of one list_resources, get_resource or get_logs answer)");
                        }

                        break;
                    case "graph_window_minutes":
                        if (property.Value.TryGetInt32(out var window) && window is >= 1 and <= 1440)
                        {
                            Options.Graph.ChangeWindow = TimeSpan.FromMinutes(window);
                        }
                        else
                        {
                            Errors.Add($"{where} must be a whole number of minutes from 1 to 1440 (how long what_changed remembers changes)");
                        }

                        break;
                    case "graph_max_objects":
                        if (property.Value.TryGetInt32(out var maxObjects) && maxObjects is >= 100 and <= 10_000_000)
                        {
                            Options.Graph.MaxObjects = maxObjects;
                        }
                        else
                        {
                            Errors.Add($"{where} must be a whole number from 100 to 10000000 (objects kept per watched cluster)");
                        }

                        break;
                    case "graph_idle_minutes":
                        if (property.Value.TryGetInt32(out var idle) && idle is >= 1 and <= 1440)
                        {
                            Options.Graph.IdleAfter = TimeSpan.FromMinutes(idle);
                        }
                        else
                        {
                            Errors.Add($"{where} must be a whole number of minutes from 1 to 1440 (a cluster nobody asked about for that long stops being watched)");
                        }

                        break;
                    case "approvals_required":
                        if (property.Value.TryGetInt32(out var required) && required is >= 1 and <= 10)
                        {
                            Options.ApprovalsRequired = required;
                        }
                        else
                        {
                            Errors.Add($"{where} must be a whole number from 1 to 10 (distinct approvers per proposal)");
                        }

                        break;
                    case "signal_interval_seconds":
                        if (property.Value.TryGetInt32(out var seconds) && seconds is >= 0 and <= 86400)
                        {
                            Options.SignalInterval = TimeSpan.FromSeconds(seconds);
                        }
                        else
                        {
                            Errors.Add($"{where} must be a whole number of seconds from 0 (collector off) to 86400");
                        }

                        break;
                    case "prices": ReadPrices(property.Value, where); break;
                    case "events": ReadEvents(property.Value, where); break;
                    case "telemetry": ReadTelemetry(property.Value, where); break;
                    default:
                        Errors.Add($"{where} is not a known setting; known settings are {string.Join(", ", s_knownKeys)}");
                        break;
                }
            }
        }
    }

    private void ReadPostgres(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Errors.Add($"{where} must be an object like {{\"connection_string_file\": \"/run/secrets/runtimeai-postgres\"}}");
            return;
        }

        foreach (var property in value.EnumerateObject())
        {
            switch (property.Name)
            {
                case "connection_string_file": _postgresConnectionFile = ReadString(property.Value, $"{where}.connection_string_file"); break;
                case "connection_string":
                    Errors.Add($"{where}.connection_string is not read: a connection string holds a password; put it in a file named by postgres.connection_string_file, or in RUNTIMEAI_POSTGRES_CONNECTION");
                    break;
                default: Errors.Add($"{where}.{property.Name} is not a known key; the only key is connection_string_file"); break;
            }
        }
    }

    /// <summary>The store choice and, for postgres, a connection string from exactly one place.</summary>
    private void ValidateStore()
    {
        Options.Store = Options.Store.Trim().ToLowerInvariant();
        if (Options.Store is not ("sqlite" or "postgres"))
        {
            Errors.Add($"store '{Options.Store}' is not supported; use sqlite (the default, one file in the data dir) or postgres (shared by replicas)");
            return;
        }

        if (Options.Store != "postgres")
        {
            return;
        }

        if (_postgresConnectionFile is { } file)
        {
            if (Options.PostgresConnectionString is not null)
            {
                Errors.Add("the PostgreSQL connection string is given twice (RUNTIMEAI_POSTGRES_CONNECTION and a connection string file); keep one");
                return;
            }

            try
            {
                Options.PostgresConnectionString = File.ReadAllText(file).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Errors.Add($"PostgreSQL connection string file '{file}' cannot be read ({ex.Message}); check postgres.connection_string_file or RUNTIMEAI_POSTGRES_CONNECTION_FILE");
                return;
            }
        }

        if (string.IsNullOrWhiteSpace(Options.PostgresConnectionString))
        {
            Errors.Add("store 'postgres' needs a connection string; set RUNTIMEAI_POSTGRES_CONNECTION, or name a file holding it with postgres.connection_string_file in the config file (or RUNTIMEAI_POSTGRES_CONNECTION_FILE)");
        }
    }

    private void ReadEvents(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Errors.Add($"{where} must be an object like {{\"heartbeat_seconds\": 15, \"webhook_max_attempts\": 10, \"webhook_retry_base_ms\": 1000}}");
            return;
        }

        var events = Options.Events;
        foreach (var p in value.EnumerateObject())
        {
            // where ends in 'events': name the member inside the quotes, 'events.poll_ms'.
            var at = $"{where[..^1]}.{p.Name}'";
            if (!p.Value.TryGetInt32(out var n) || n < 1)
            {
                Errors.Add($"{at} must be a positive whole number");
                continue;
            }

            switch (p.Name)
            {
                case "heartbeat_seconds": events.HeartbeatInterval = TimeSpan.FromSeconds(n); break;
                case "poll_ms": events.StreamPollInterval = events.Webhooks.PollInterval = TimeSpan.FromMilliseconds(n); break;
                case "webhook_max_attempts": events.Webhooks.MaxAttempts = n; break;
                case "webhook_retry_base_ms": events.Webhooks.BaseDelay = TimeSpan.FromMilliseconds(n); break;
                case "webhook_retry_max_ms": events.Webhooks.MaxDelay = TimeSpan.FromMilliseconds(n); break;
                case "webhook_timeout_ms": events.Webhooks.AttemptTimeout = TimeSpan.FromMilliseconds(n); break;
                default:
                    Errors.Add($"{at} is not a known setting; known are heartbeat_seconds, poll_ms, webhook_max_attempts, webhook_retry_base_ms, webhook_retry_max_ms, webhook_timeout_ms");
                    break;
            }
        }

        Errors.AddRange(events.Validate().Select(e => $"{where}: {e}"));
    }

    private void ReadPrices(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Errors.Add($"{where} must be an object like {{\"vcpu_hour\": 0.04, \"gib_hour\": 0.005, \"currency\": \"USD\"}}");
            return;
        }

        var prices = Options.Prices;
        foreach (var p in value.EnumerateObject())
        {
            switch (p.Name)
            {
                case "vcpu_hour" when p.Value.TryGetDouble(out var v) && v >= 0: prices = prices with { VcpuHour = v }; break;
                case "gib_hour" when p.Value.TryGetDouble(out var g) && g >= 0: prices = prices with { GibHour = g }; break;
                case "currency" when p.Value.ValueKind == JsonValueKind.String: prices = prices with { Currency = p.Value.GetString()! }; break;
                default:
                    Errors.Add($"{where}.{p.Name} is not a price: use vcpu_hour and gib_hour (numbers ≥ 0) and currency (text)");
                    break;
            }
        }

        Options.Prices = prices;
    }

    private void ApplyEnvironment(IDictionary<string, string?> environment)
    {
        Options.Transport = Env(environment, "TRANSPORT") ?? Options.Transport;
        Options.Urls = Env(environment, "URLS") ?? Options.Urls;
        Options.DataDir = Env(environment, "DATA_DIR") ?? Options.DataDir;
        Options.Store = Env(environment, "STORE") ?? Options.Store;
        _postgresConnectionFile = Env(environment, "POSTGRES_CONNECTION_FILE") ?? _postgresConnectionFile;
        Options.PostgresConnectionString = Env(environment, "POSTGRES_CONNECTION") ?? Options.PostgresConnectionString;
        Options.ApprovalKeyFile = Env(environment, "APPROVAL_KEY_FILE") ?? Options.ApprovalKeyFile;
        if (Env(environment, "AUTONOMY") is { } autonomy)
        {
            SetAutonomy(autonomy, "RUNTIMEAI_AUTONOMY");
        }

        if (Env(environment, "SANDBOX") is { } sandbox)
        {
            if (bool.TryParse(sandbox, out var b))
            {
                Options.Sandbox = b;
            }
            else
            {
                Errors.Add($"RUNTIMEAI_SANDBOX='{sandbox}' must be true or false");
            }
        }

        if (Env(environment, "LIBVIRT") is { } libvirt)
        {
            Options.Libvirt.Clear();
            foreach (var uri in libvirt.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Options.Libvirt.Add(uri);
            }
        }

        if (Env(environment, "KUBECONFIG") is { } kubeconfigs)
        {
            Options.Kubeconfigs.Clear();
            foreach (var entry in kubeconfigs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Options.Kubeconfigs.Add(entry);
            }
        }

        Options.LogFile = Env(environment, "LOG_FILE") ?? Options.LogFile;
        Options.LogLevel = Env(environment, "LOG_LEVEL") ?? Options.LogLevel;
        Options.PoliciesDir = Env(environment, "POLICIES_DIR") ?? Options.PoliciesDir;
        if (Env(environment, "TOOLSETS") is { } toolsets)
        {
            SetToolsets([toolsets]);
        }
        if (Env(environment, "AUTH_ISSUERS") is { } issuers)
        {
            Options.AuthIssuers.Clear();
            foreach (var issuer in issuers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Options.AuthIssuers.Add(new AuthIssuer { Issuer = issuer });
            }
        }

        Options.ResourceUri = Env(environment, "RESOURCE") ?? Options.ResourceUri;
        if (Env(environment, "API_KEYS") is { } keys)
        {
            if (bool.TryParse(keys, out var on))
            {
                Options.ApiKeys = on;
            }
            else
            {
                Errors.Add($"RUNTIMEAI_API_KEYS='{keys}' must be true or false");
            }
        }

        if (Env(environment, "ADMINS") is { } admins)
        {
            Options.Admins.Clear();
            foreach (var admin in admins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Options.Admins.Add(admin);
            }
        }
    }

    private void ApplyFlags(Flags flags)
    {
        Options.Transport = flags.Transport ?? Options.Transport;
        Options.Urls = flags.Urls ?? Options.Urls;
        Options.DataDir = flags.DataDir ?? Options.DataDir;
        if (flags.Autonomy is not null)
        {
            SetAutonomy(flags.Autonomy, "--autonomy");
        }

        if (flags.Sandbox is { } sandbox)
        {
            Options.Sandbox = sandbox;
        }

        if (flags.Libvirt.Count > 0)
        {
            Options.Libvirt.Clear();
            foreach (var uri in flags.Libvirt)
            {
                Options.Libvirt.Add(uri);
            }
        }

        if (flags.Kubeconfig.Count > 0)
        {
            Options.Kubeconfigs.Clear();
            foreach (var entry in KubeconfigEntries(flags.Kubeconfig, flags.Context))
            {
                Options.Kubeconfigs.Add(entry);
            }
        }
        else if (flags.Context.Count > 0)
        {
            Errors.Add("--context needs --kubeconfig FILE (the file whose context it names)");
        }

        Options.LogFile = flags.LogFile ?? Options.LogFile;
        Options.LogLevel = flags.LogLevel ?? Options.LogLevel;
        Options.PoliciesDir = flags.PoliciesDir ?? Options.PoliciesDir;
        if (flags.Toolsets.Count > 0)
        {
            SetToolsets(flags.Toolsets);
        }

        if (flags.AuthIssuers.Count > 0)
        {
            Options.AuthIssuers.Clear();
            foreach (var issuer in flags.AuthIssuers)
            {
                Options.AuthIssuers.Add(new AuthIssuer { Issuer = issuer });
            }
        }

        Options.ResourceUri = flags.ResourceUri ?? Options.ResourceUri;
        Options.ApiKeys = flags.ApiKeys ?? Options.ApiKeys;
        Options.InsecureNoAuth = flags.InsecureNoAuth ?? Options.InsecureNoAuth;
    }

    /// <summary>
    /// Pairs --kubeconfig and --context: one file with several contexts is one backend per context;
    /// otherwise the i-th --context belongs to the i-th --kubeconfig (the rest use their current-context).
    /// </summary>
    private List<string> KubeconfigEntries(IReadOnlyList<string> files, IReadOnlyList<string> contexts)
    {
        if (files.Count == 1 && contexts.Count > 1)
        {
            return contexts.Select(c => $"{files[0]}#{c}").ToList();
        }

        if (contexts.Count > files.Count)
        {
            Errors.Add($"{contexts.Count} --context flags for {files.Count} --kubeconfig files; give one --context per --kubeconfig (in the same order), or one file with several contexts");
        }

        return files.Select((f, i) => i < contexts.Count ? $"{f}#{contexts[i]}" : f).ToList();
    }

    private void Validate()
    {
        if (Options.Transport is not ("stdio" or "http"))
        {
            Errors.Add($"transport '{Options.Transport}' is not supported; use stdio or http");
        }

        foreach (var url in Options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.Port < 0)
            {
                Errors.Add($"url '{url}' is not valid; use a form like http://127.0.0.1:7070");
            }
        }

        if (string.IsNullOrWhiteSpace(Options.DataDir))
        {
            Errors.Add("data dir is empty; pass --data-dir DIR");
        }

        ValidateStore();

        foreach (var uri in Options.Libvirt)
        {
            if (!uri.Contains("://", StringComparison.Ordinal))
            {
                Errors.Add($"libvirt URI '{uri}' is not a URI; use e.g. qemu:///system or test:///default");
            }
        }

        foreach (var entry in Options.Kubeconfigs)
        {
            var hash = entry.LastIndexOf('#');
            var path = hash > 0 ? entry[..hash] : entry;
            if (!File.Exists(path))
            {
                Errors.Add($"kubeconfig '{path}' does not exist; pass --kubeconfig FILE with a kubeconfig kubectl can read (e.g. ~/.kube/config)");
                continue;
            }

            try
            {
                // Loads the file and resolves the context now, so a typo is a start-up error, not a failed backend.
                new RuntimeAI.Drivers.Kubernetes.Cluster.KubeCluster(
                    new RuntimeAI.Drivers.Kubernetes.Cluster.KubeClusterOptions { KubeconfigPath = path, Context = hash > 0 ? entry[(hash + 1)..] : null },
                    TimeProvider.System).Dispose();
            }
            catch (ArgumentException ex)
            {
                Errors.Add(ex.Message);
            }
        }

        if (Options.MaxRequestBodyBytes is < 1024 or > 64L * 1024 * 1024)
        {
            Errors.Add($"max_request_body_bytes {Options.MaxRequestBodyBytes.ToString(CultureInfo.InvariantCulture)} is out of range; use 1024 to 67108864");
        }

        if (Options.LogLevel.ToLowerInvariant() is not ("trace" or "debug" or "information" or "warning" or "error"))
        {
            Errors.Add($"log level '{Options.LogLevel}' is not known; use trace, debug, information, warning or error");
        }

        foreach (var issuer in Options.AuthIssuers)
        {
            if (!Uri.TryCreate(issuer.Issuer, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
            {
                Errors.Add($"auth issuer '{issuer.Issuer}' must be an https URL (http only on loopback), e.g. https://login.example.com/realms/ops");
            }
        }

        if (Options.AuthIssuers.Count > 0 && string.IsNullOrEmpty(Options.ResourceUri))
        {
            Errors.Add("auth issuers are configured but the resource URI is not; tokens must name this server as their audience: pass --resource https://<this host>/mcp (config auth.resource, RUNTIMEAI_RESOURCE)");
        }
        else if (Options.ResourceUri is { } resource && !Uri.TryCreate(resource, UriKind.Absolute, out _))
        {
            Errors.Add($"resource '{resource}' must be an absolute URI, e.g. https://mcp.example.com/mcp");
        }

        // Named once, wherever it came from (--toolsets, RUNTIMEAI_TOOLSETS or the config key).
        Errors.AddRange(RuntimeAI.Mcp.Tools.Toolsets.Validate(Options.Toolsets));

        if (Options.PoliciesDir is { } policiesDir)
        {
            // Every problem of every policy file, so an operator fixes them all in one pass.
            Errors.AddRange(PolicyLoader.LoadDirectory(policiesDir).Errors
                .Select(e => $"policy {(e.File == policiesDir ? e : e with { File = Path.Combine(policiesDir, e.File) })}"));
        }
    }

    /// <summary>Replaces the toolsets with the comma-separated names of each value.</summary>
    private void SetToolsets(IEnumerable<string> values)
    {
        Options.Toolsets.Clear();
        foreach (var name in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Options.Toolsets.Contains(name))
            {
                Options.Toolsets.Add(name);
            }
        }
    }

    private void SetAutonomy(string? value, string where)
    {
        if (value is null)
        {
            return;
        }

        if (Enum.TryParse<AutonomyLevel>(value, ignoreCase: true, out var level) && !int.TryParse(value, out _))
        {
            Options.Autonomy = level;
        }
        else
        {
            Errors.Add($"{where}: autonomy '{value}' is not a level; use advisor, copilot, guardian or autonomous");
        }
    }

    private string? ReadString(JsonElement value, string where)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        Errors.Add($"{where} must be a string");
        return null;
    }

    private void ReadScopes(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            Errors.Add($"{where} must be an array like [{{\"labels\": {{\"env\": \"prod\"}}, \"level\": \"copilot\"}}]");
            return;
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = $"{where}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                Errors.Add($"{at} must be an object with level and tenant and/or labels");
                continue;
            }

            string? tenant = null;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            AutonomyLevel? level = null;
            foreach (var member in item.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "tenant":
                        tenant = ReadString(member.Value, $"{at}.tenant");
                        break;
                    case "labels" when member.Value.ValueKind == JsonValueKind.Object:
                        foreach (var label in member.Value.EnumerateObject())
                        {
                            if (label.Value.ValueKind == JsonValueKind.String)
                            {
                                labels[label.Name] = label.Value.GetString()!;
                            }
                            else
                            {
                                Errors.Add($"{at}.labels.{label.Name} must be a string");
                            }
                        }

                        break;
                    case "level" when member.Value.ValueKind == JsonValueKind.String
                                      && Enum.TryParse<AutonomyLevel>(member.Value.GetString(), ignoreCase: true, out var parsed)
                                      && !int.TryParse(member.Value.GetString(), out _):
                        level = parsed;
                        break;
                    default:
                        Errors.Add($"{at}.{member.Name} is not valid; a scope has level (advisor|copilot|guardian|autonomous), tenant (string) and labels (object of strings)");
                        break;
                }
            }

            if (level is null)
            {
                Errors.Add($"{at} has no valid level; use advisor, copilot, guardian or autonomous");
            }
            else if (tenant is null && labels.Count == 0)
            {
                Errors.Add($"{at} selects every runtime; give a tenant or labels, or set the global autonomy instead");
            }
            else
            {
                Options.AutonomyScopes.Add(new RuntimeAI.Core.Governance.AutonomyScope { Tenant = tenant, Labels = labels, Level = level.Value });
            }
        }
    }

    private void ReadTelemetry(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Errors.Add($"{where} must be an object like {{\"otlp_endpoint\": \"http://127.0.0.1:4318\", \"otlp_protocol\": \"http/protobuf\"}}");
            return;
        }

        var telemetry = Options.Telemetry;
        foreach (var member in value.EnumerateObject())
        {
            var at = $"{where}.{member.Name}";
            switch (member.Name)
            {
                case "otlp_endpoint":
                    telemetry.OtlpEndpoint = ReadString(member.Value, at);
                    if (telemetry.OtlpEndpoint is { } endpoint && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                    {
                        Errors.Add($"{at} '{endpoint}' is not an http(s) URL; use e.g. http://127.0.0.1:4318");
                    }

                    break;
                case "otlp_protocol":
                    telemetry.OtlpProtocol = ReadString(member.Value, at);
                    if (telemetry.OtlpProtocol is { } protocol && protocol is not ("http/protobuf" or "grpc"))
                    {
                        Errors.Add($"{at} '{protocol}' is not supported; use http/protobuf or grpc");
                    }

                    break;
                case "service_name": telemetry.ServiceName = ReadString(member.Value, at); break;
                case "traces" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False: telemetry.Traces = member.Value.GetBoolean(); break;
                case "metrics" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False: telemetry.Metrics = member.Value.GetBoolean(); break;
                case "metric_export_interval_ms" when member.Value.TryGetInt32(out var ms) && ms > 0: telemetry.MetricExportIntervalMs = ms; break;
                default:
                    Errors.Add($"{at} is not valid; telemetry has otlp_endpoint (URL), otlp_protocol (http/protobuf or grpc), service_name, traces and metrics (true/false), metric_export_interval_ms (positive integer)");
                    break;
            }
        }
    }

    private void ReadAuth(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Errors.Add($"{where} must be an object like {{\"issuers\": [\"https://login.example.com\"], \"resource\": \"https://mcp.example.com/mcp\", \"api_keys\": true}}");
            return;
        }

        foreach (var member in value.EnumerateObject())
        {
            switch (member.Name)
            {
                case "issuers":
                    var list = new List<string>();
                    ReadList(member.Value, $"{where}.issuers", list);
                    Options.AuthIssuers.Clear();
                    foreach (var issuer in list)
                    {
                        Options.AuthIssuers.Add(new AuthIssuer { Issuer = issuer });
                    }

                    break;
                case "resource":
                    Options.ResourceUri = ReadString(member.Value, $"{where}.resource");
                    break;
                case "api_keys" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    Options.ApiKeys = member.Value.GetBoolean();
                    break;
                case "insecure_no_auth" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    Options.InsecureNoAuth = member.Value.GetBoolean();
                    break;
                default:
                    Errors.Add($"{where}.{member.Name} is not valid; auth has issuers (array of URLs), resource (URI), api_keys (true/false) and insecure_no_auth (true/false)");
                    break;
            }
        }
    }

    private void ReadRoles(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            Errors.Add($"{where} must be an object of principal name to roles, like {{\"http:alice\": [\"approver\"]}}");
            return;
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Array)
            {
                Errors.Add($"{where}.{entry.Name} must be an array of roles ({RuntimeAI.Core.Identity.RoleText.Valid})");
                continue;
            }

            var roles = new List<RuntimeAI.Core.Identity.Role>();
            foreach (var item in entry.Value.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && RuntimeAI.Core.Identity.RoleText.TryParse(item.GetString(), out var role))
                {
                    roles.Add(role);
                }
                else
                {
                    Errors.Add($"{where}.{entry.Name}: '{item}' is not a role; use {RuntimeAI.Core.Identity.RoleText.Valid}");
                }
            }

            Options.Roles[entry.Name] = roles;
        }
    }

    private void ReadList(JsonElement value, string where, IList<string> target)
    {
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            Errors.Add($"{where} must be an array of strings");
            return;
        }

        target.Clear();
        foreach (var item in value.EnumerateArray())
        {
            target.Add(item.GetString()!);
        }
    }
}
