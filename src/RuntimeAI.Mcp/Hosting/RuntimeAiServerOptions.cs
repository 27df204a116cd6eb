using RuntimeAI.Core.Policies;

namespace RuntimeAI.Mcp.Hosting;

/// <summary>The server's settings after layering defaults, config file, environment and flags.</summary>
public sealed class RuntimeAiServerOptions
{
    /// <summary>stdio or http.</summary>
    public string Transport { get; set; } = "stdio";

    /// <summary>Where the HTTP transport listens; loopback unless the operator says otherwise.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:7070";

    /// <summary>Directory of the SQLite store and VM disks.</summary>
    public string DataDir { get; set; } = DefaultDataDir();

    /// <summary>
    /// Where state lives: <c>sqlite</c> (the embedded default, one file in <see cref="DataDir"/>) or
    /// <c>postgres</c> (shared by several replicas; see <see cref="PostgresConnectionString"/>).
    /// </summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>
    /// The PostgreSQL connection string, from <c>RUNTIMEAI_POSTGRES_CONNECTION</c> or read from
    /// <c>postgres.connection_string_file</c>; never a flag, so it never shows in the process list.
    /// Holds a password: never log it.
    /// </summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>
    /// A file holding the key that signs approval request state (at least 32 bytes, owner-only),
    /// from <c>approval_key_file</c> or <c>RUNTIMEAI_APPROVAL_KEY_FILE</c>; never a flag. When set it
    /// wins over the key the store holds (postgres) or <c>{data dir}/mrtr.key</c> (sqlite).
    /// </summary>
    public string? ApprovalKeyFile { get; set; }

    /// <summary>The global autonomy level.</summary>
    public AutonomyLevel Autonomy { get; set; } = AutonomyLevel.Advisor;

    /// <summary>The toolsets to load (see <see cref="Tools.Toolsets"/>); empty loads every tool.</summary>
    public List<string> Toolsets { get; } = [];

    /// <summary>Per-scope levels (tenant and/or labels) that override <see cref="Autonomy"/> for matching runtimes.</summary>
    public IList<RuntimeAI.Core.Governance.AutonomyScope> AutonomyScopes { get; } = [];

    /// <summary>The most permissive level any runtime can get (decides which tools tools/list shows).</summary>
    public AutonomyLevel HighestAutonomy => AutonomyScopes.Select(s => s.Level).Append(Autonomy).Max();

    /// <summary>Use the embedded sandbox backends (libvirt test:///default and the KubeSim Kubernetes API simulator) instead of real ones.</summary>
    public bool Sandbox { get; set; }

    /// <summary>libvirt connection URIs (qemu:///system, test:///default, qemu+ssh://…).</summary>
    public IList<string> Libvirt { get; } = [];

    /// <summary>
    /// Kubernetes clusters for the vCluster and KubeVirt drivers, one backend each: a kubeconfig
    /// path, optionally with <c>#CONTEXT</c> (else the file's current-context).
    /// </summary>
    public IList<string> Kubeconfigs { get; } = [];

    /// <summary>
    /// Host clusters (kubeconfig contexts, or <c>*</c>) the observe tools may read as <c>cluster:CONTEXT</c>,
    /// besides the sandbox's simulator; only unscoped principals ever can. Empty: none.
    /// </summary>
    public IList<string> ObserveHosts { get; } = [];

    /// <summary>Byte budget of one answer of list_resources, get_resource and get_logs (they say when they cut).</summary>
    public int ObserveMaxBytes { get; set; } = 8 * 1024;

    /// <summary>The event stream and webhook settings (<c>events</c> in the config file).</summary>
    public RuntimeAI.Mcp.Rest.Events.EventsOptions Events { get; } = new();
    /// <summary>Bounds of the state and event graph (change window, objects, idle time); see docs/graph.md.</summary>
    public RuntimeAI.Core.Graph.GraphOptions Graph { get; } = new();

    /// <summary>Largest accepted HTTP request body.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Extra browser origins allowed to call the HTTP endpoint (loopback origins always are).</summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Extra Host header values accepted (loopback names always are).</summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Optional log file (logs otherwise go to stderr, never stdout).</summary>
    public string? LogFile { get; set; }

    /// <summary>OpenTelemetry export (the config file's <c>telemetry</c> section; OTEL_* variables win); off when no endpoint is set.</summary>
    public TelemetryExportOptions Telemetry { get; } = new();

    /// <summary>Minimum log level: trace, debug, information, warning, error.</summary>
    public string LogLevel { get; set; } = "information";

    /// <summary>Directory of policy files (YAML/JSON), validated at start; null means stored policies only.</summary>
    public string? PoliciesDir { get; set; }

    /// <summary>Principal names allowed to call put_policy/delete_policy over MCP (the local CLI session always is).</summary>
    public IList<string> Admins { get; } = [];

    /// <summary>
    /// Roles granted by principal name, on top of what the transport or token gives (the local
    /// transports give operator; a token gives its role claims), e.g. <c>{"http:alice": ["approver"]}</c>.
    /// </summary>
    public IDictionary<string, IReadOnlyList<RuntimeAI.Core.Identity.Role>> Roles { get; } =
        new Dictionary<string, IReadOnlyList<RuntimeAI.Core.Identity.Role>>(StringComparer.Ordinal);

    /// <summary>The principal of unauthenticated calls instead of the OS account (the CLI with --api-key).</summary>
    public RuntimeAI.Core.Identity.Principal? LocalPrincipal { get; set; }

    /// <summary>Authorization servers whose access tokens the HTTP endpoint accepts (JWT, validated against their JWKS).</summary>
    public IList<AuthIssuer> AuthIssuers { get; } = [];

    /// <summary>
    /// This server's resource URI (RFC 8707/9728), e.g. <c>https://mcp.example.com/mcp</c>: the audience every
    /// token must name, and the resource its Protected Resource Metadata describes. Required with issuers.
    /// </summary>
    public string? ResourceUri { get; set; }

    /// <summary>Accept the API keys made with <c>runtimeai keys create</c> over HTTP.</summary>
    public bool ApiKeys { get; set; }

    /// <summary>Allow a non-loopback bind without authentication (anyone who reaches the port acts as the server's OS user).</summary>
    public bool InsecureNoAuth { get; set; }

    /// <summary>True when HTTP callers must authenticate (issuers or API keys configured).</summary>
    public bool AuthEnabled => ApiKeys || AuthIssuers.Count > 0;

    /// <summary>How many distinct approvers a proposal on the approver channel needs (N of M; default 1).</summary>
    public int ApprovalsRequired { get; set; } = 1;

    /// <summary>
    /// Transports on which the human at the agent's own client may approve non-destructive changes
    /// outside env=prod (client-attested, via MRTR). Default: the local ones, stdio and in-process.
    /// </summary>
    public IList<string> ClientApprovalTransports { get; } = ["stdio", "in-process"];

    /// <summary>Time between two signal-collection rounds (default 30 s; zero turns the collector off).</summary>
    public TimeSpan SignalInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Prices the planner computes the cost effect of a plan with.</summary>
    public RuntimeAI.Core.Planning.PriceTable Prices { get; set; } = new();

    /// <summary>The transport label recorded in the audit trail (stdio, http, in-process).</summary>
    public string TransportLabel { get; set; } = "stdio";

    /// <summary>$XDG_DATA_HOME/runtimeai, else ~/.local/share/runtimeai.</summary>
    public static string DefaultDataDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "runtimeai");
    }
}

/// <summary>An OAuth 2.1 / OpenID Connect authorization server whose access tokens the server accepts.</summary>
public sealed record AuthIssuer
{
    /// <summary>The issuer identifier (the <c>iss</c> of its tokens); its discovery document is at <c>{Issuer}/.well-known/openid-configuration</c>.</summary>
    public required string Issuer { get; init; }

    /// <summary>Where to read the discovery document instead (optional).</summary>
    public string? MetadataAddress { get; init; }
}

/// <summary>
/// The config file's <c>telemetry</c> section (docs/telemetry.md). The standard OTEL_* environment
/// variables override each value; with no endpoint from either, nothing is exported.
/// </summary>
public sealed class TelemetryExportOptions
{
    /// <summary>OTLP endpoint, e.g. <c>http://collector:4318</c> (http/protobuf) or <c>http://collector:4317</c> (grpc).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    public string? OtlpProtocol { get; set; }

    /// <summary>The <c>service.name</c> resource attribute (default <c>runtimeai</c>).</summary>
    public string? ServiceName { get; set; }

    /// <summary>Export spans (default true when an endpoint is set).</summary>
    public bool Traces { get; set; } = true;

    /// <summary>Export metrics (default true when an endpoint is set).</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>Milliseconds between two metric exports (default 60000).</summary>
    public int? MetricExportIntervalMs { get; set; }
}
