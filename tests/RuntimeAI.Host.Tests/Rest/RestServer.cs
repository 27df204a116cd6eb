using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// One real <c>runtimeai serve --transport http --api-keys --sandbox</c> on loopback port 0 for the
/// REST tests, with an API key per role (and two tenant-scoped operators) and a policy directory that
/// allows everything, needs an approval for restart and denies deleting env=prod runtimes.
/// </summary>
public sealed class RestServer : IAsyncLifetime
{
    public const string Policy = """
        id: rest-tests
        name: REST tests
        rules:
          - id: allow-all
            kind: allow_action
          - id: approve-restart
            kind: require_approval
            selector:
              action_types: [restart]
          - id: deny-delete-prod
            kind: deny_action
            selector:
              action_types: [delete]
              labels:
                env: prod
        """;

    private readonly HttpClient _http = new();

    public string DataDir { get; } = TestPaths.NewDataDir();

    public string PoliciesDir { get; } = TestPolicies.With(Policy);

    internal ServerProcess Server { get; private set; } = null!;

    /// <summary>http://127.0.0.1:PORT/v1</summary>
    public Uri Base { get; private set; } = null!;

    public string Admin { get; private set; } = string.Empty;

    public string Operator { get; private set; } = string.Empty;

    public string Acme { get; private set; } = string.Empty;

    public string Globex { get; private set; } = string.Empty;

    public string Viewer { get; private set; } = string.Empty;

    public string Approver { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        Admin = await KeyAsync("--name", "admin", "--role", "admin", "--human");
        Operator = await KeyAsync("--name", "ops-bot", "--role", "operator");
        Acme = await KeyAsync("--name", "acme-bot", "--role", "operator", "--tenant", "acme");
        Globex = await KeyAsync("--name", "globex-bot", "--role", "operator", "--tenant", "globex");
        Viewer = await KeyAsync("--name", "watcher", "--role", "viewer");
        Approver = await KeyAsync("--name", "alice", "--role", "approver", "--human");
        Server = await ServerProcess.StartHttpAsync(DataDir, "--api-keys", "--sandbox", "--autonomy", "autonomous", "--policies", PoliciesDir);
        Base = new Uri(Server.McpEndpoint!.GetLeftPart(UriPartial.Authority) + "/v1");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    private async Task<string> KeyAsync(params string[] args)
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync(["keys", "create", "--data-dir", DataDir, .. args]);
        Assert.True(code == 0, stderr);
        return stdout.Trim();
    }

    /// <summary>One request to <c>/v1{path}</c> as <paramref name="key"/> (null: no credentials).</summary>
    public async Task<RestResponse> SendAsync(HttpMethod method, string path, string? key, string? body = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, Base + path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        JsonNode? json = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType is { } media && media.Contains("json", StringComparison.Ordinal) && !media.Contains("ndjson", StringComparison.Ordinal))
        {
            json = JsonNode.Parse(text);
        }

        return new RestResponse(response.StatusCode, json, text, response.Content.Headers.ContentType?.MediaType,
            response.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase));
    }

    public Task<RestResponse> GetAsync(string path, string? key) => SendAsync(HttpMethod.Get, path, key);

    public Task<RestResponse> PostAsync(string path, string? key, string? body = null, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Post, path, key, body, headers);

    /// <summary>Creates a VM runtime as <paramref name="key"/> and returns its id.</summary>
    public async Task<string> CreateVmAsync(string key, string name, string? tenant = null, string? env = null)
    {
        var body = new JsonObject { ["name"] = name, ["type"] = "vm", ["spec"] = new JsonObject { ["size"] = "small" } };
        if (tenant is not null)
        {
            body["tenant_id"] = tenant;
        }

        if (env is not null)
        {
            body["labels"] = new JsonObject { ["env"] = env };
        }

        var created = await PostAsync("/runtimes", key, body.ToJsonString());
        Assert.True(created.Status == HttpStatusCode.Created, created.Text);
        return created.Json!["id"]!.GetValue<string>();
    }
}

/// <summary>What a REST client saw.</summary>
public sealed record RestResponse(HttpStatusCode Status, JsonNode? Json, string Text, string? MediaType, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public override string ToString() => $"{(int)Status} {Text}";
}
