using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Identity;
using RuntimeAI.Storage.Sqlite;
using Role = RuntimeAI.Core.Identity.Role;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// HTTP authentication with the real executable on loopback: 401 with the Protected Resource
/// Metadata challenge, API keys (valid, wrong, expired, revoked), the keys command, and the refusal
/// of a non-loopback bind without authentication.
/// </summary>
public sealed class HttpAuthTests
{
    private const string ListRuntimes = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_runtimes","arguments":{}}}""";

    private static async Task<string> CreateKeyAsync(string dataDir, params string[] extra)
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync(["keys", "create", "--data-dir", dataDir, .. extra]);
        Assert.True(code == 0, stderr);
        return stdout.Trim();
    }

    private static async Task<HttpResponseMessage> PostAsync(Uri endpoint, string? bearer)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(ListRuntimes, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await http.SendAsync(request);
    }

    // A 2025-11-25 client: a stateful session, which the SDK binds to the key's user.
    private static Task<McpClient> ConnectAsync(Uri endpoint, string key) => McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
    {
        Endpoint = endpoint,
        AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
    }), new McpClientOptions { ProtocolVersion = "2025-11-25" });

    [Fact]
    public async Task NoCredentials_Is401WithChallengePointingAtProtectedResourceMetadata()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var server = await ServerProcess.StartHttpAsync(dataDir, "--api-keys");

        using var response = await PostAsync(server.McpEndpoint!, null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer", challenge, StringComparison.Ordinal);
        var metadataUrl = challenge.Split("resource_metadata=\"")[1].Split('"')[0];
        using var http = new HttpClient();
        using var metadata = JsonDocument.Parse(await http.GetStringAsync(metadataUrl, TestContext.Current.CancellationToken));
        Assert.Equal(server.McpEndpoint!.ToString().TrimEnd('/'), metadata.RootElement.GetProperty("resource").GetString());
        Assert.Equal("RuntimeAI", metadata.RootElement.GetProperty("resource_name").GetString());
    }

    [Fact]
    public async Task ApiKey_Valid_CallsAsTheKeysPrincipal_WrongExpiredOrRevoked_Are401()
    {
        var dataDir = TestPaths.NewDataDir();
        var key = await CreateKeyAsync(dataDir, "--name", "ci-bot", "--role", "operator", "--tenant", "acme");
        var doomed = await CreateKeyAsync(dataDir, "--name", "doomed", "--role", "viewer");
        var expired = ApiKeySecret.New();
        ApiKeySecret.TryParse(expired.Secret, out _, out var expiredHash);
        using (var db = SqliteDatabase.Open(dataDir))
        {
            var past = TimeProvider.System.GetUtcNow().AddDays(-2);
            Assert.True(await new SqliteApiKeyStore(db).AddAsync(new ApiKey
            {
                Id = expired.Id, Name = "old", SecretHash = expiredHash, Kind = PrincipalKind.Agent, Roles = [Role.Operator],
                CreatedBy = "test", CreatedAt = past, ExpiresAt = past.AddDays(1),
            }, CancellationToken.None));
        }

        var (revokeCode, _, revokeErr) = await ServerProcess.RunAsync("keys", "revoke", "doomed", "--data-dir", dataDir);
        Assert.True(revokeCode == 0, revokeErr);

        await using var server = await ServerProcess.StartHttpAsync(dataDir, "--api-keys");
        await using (var client = await ConnectAsync(server.McpEndpoint!, key))
        {
            var result = await client.CallToolAsync("get_audit_trail", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(result.IsError != true);
            Assert.Contains("key:ci-bot", string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text)), StringComparison.Ordinal);
        }

        var wrong = key[..^4] + (key.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        foreach (var refused in new[] { wrong, doomed, expired.Secret, "rtk_not-a-key", "garbage" })
        {
            using var response = await PostAsync(server.McpEndpoint!, refused);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Contains("API key 'doomed' was revoked", server.Stderr, StringComparison.Ordinal);
        Assert.Contains("API key 'old' expired", server.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysCreate_SecretIsShownOnceAndOnlyItsHashIsStored()
    {
        var dataDir = TestPaths.NewDataDir();
        var secret = await CreateKeyAsync(dataDir, "--name", "deploy", "--role", "operator", "--expires", "30d");
        var (code, listed, _) = await ServerProcess.RunAsync("keys", "list", "--data-dir", dataDir);
        var (dupCode, _, dupErr) = await ServerProcess.RunAsync("keys", "create", "--name", "deploy", "--role", "viewer", "--data-dir", dataDir);
        var (badRole, _, badRoleErr) = await ServerProcess.RunAsync("keys", "create", "--name", "x", "--role", "root", "--data-dir", dataDir);

        Assert.StartsWith(ApiKeySecret.Prefix, secret, StringComparison.Ordinal);
        Assert.Equal(0, code);
        Assert.Contains("deploy", listed, StringComparison.Ordinal);
        Assert.Contains("active", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret.Split('_')[2], listed, StringComparison.Ordinal);
        Assert.Equal(1, dupCode);
        Assert.Contains("an active key named 'deploy' exists", dupErr, StringComparison.Ordinal);
        Assert.Equal(2, badRole);
        Assert.Contains("'root' is not a role", badRoleErr, StringComparison.Ordinal);
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, SqliteDatabase.FileName)};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(doc || secret_hash) FROM api_keys";
        var stored = (string)command.ExecuteScalar()!;
        Assert.DoesNotContain(secret.Split('_')[2], stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallWithApiKey_ActsAsTheKeysPrincipal()
    {
        var dataDir = TestPaths.NewDataDir();
        var key = await CreateKeyAsync(dataDir, "--name", "watcher", "--role", "viewer");

        var (code, _, stderr) = await ServerProcess.RunAsync("call", "draft_recommendation", "--data-dir", dataDir, "--api-key", key,
            "--args", """{"title": "scale up", "severity": "info", "reasoning": "load"}""");
        var (badCode, _, badErr) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", dataDir, "--api-key", "rtk_0123456789ab_nope-nope-nope-nope-nope");

        Assert.Equal(1, code);
        Assert.Contains("needs the operator role; you are 'key:watcher' with roles viewer", stderr, StringComparison.Ordinal);
        Assert.Equal(2, badCode);
        Assert.Contains("--api-key refused: unknown API key", badErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://[::]:0")]
    public async Task NonLoopbackBind_WithoutAuth_IsRefused_AndInsecureFlagStartsLoudly(string url)
    {
        var dataDir = TestPaths.NewDataDir();

        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--transport", "http", "--urls", url, "--data-dir", dataDir);

        Assert.Equal(2, code);
        Assert.Contains($"refusing to listen on {url} without authentication", stderr, StringComparison.Ordinal);

        await using var insecure = await ServerProcess.StartHttpAsync(dataDir, "--urls", url, "--insecure-no-auth");
        Assert.Contains("WITHOUT AUTHENTICATION", insecure.Stderr, StringComparison.Ordinal);
    }
}
