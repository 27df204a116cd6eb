using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// The HTTP endpoint as an OAuth resource server, against a real OpenID Connect server started in
/// the test: a valid client-credentials token calls tools as <c>client:&lt;id&gt;</c> with its roles
/// and tenants; expired, wrong-audience, wrong-issuer and unsigned tokens get 401; a valid token
/// without any role gets 403.
/// </summary>
public sealed class OAuthTokenTests
{
    private const string Resource = "https://runtimeai.test/mcp";
    private const string ListRuntimes = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_runtimes","arguments":{}}}""";

    private static readonly Dictionary<string, OidcServer.Client> s_clients = new()
    {
        ["agent-7"] = new("s3cret-agent", Resource, ["operator"], ["acme"]),
        ["elsewhere"] = new("s3cret-else", "https://other.example/mcp", ["operator"], []),
        ["nobody"] = new("s3cret-nobody", Resource, [], []),
    };

    private static async Task<HttpStatusCode> PostAsync(Uri endpoint, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(ListRuntimes, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static string Unsigned(string jwt)
    {
        var parts = jwt.Split('.');
        var header = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"alg":"none","typ":"at+jwt"}""")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{header}.{parts[1]}.";
    }

    [Fact]
    public async Task Tokens_ValidCalls_ExpiredWrongAudienceWrongIssuerUnsignedAre401_NoRoleIs403()
    {
        await using var oidc = await OidcServer.StartAsync(s_clients);
        await using var impostor = await OidcServer.StartAsync(s_clients);
        var dataDir = TestPaths.NewDataDir();
        await using var server = await ServerProcess.StartHttpAsync(dataDir, "--auth-issuer", oidc.Issuer, "--resource", Resource);

        // Issued three hours ago by the real issuer: long expired (OpenIddict's default lifetime is one hour).
        var expired = await oidc.TokenAsync("agent-7", "s3cret-agent");
        oidc.CatchUp();
        impostor.CatchUp();
        var valid = await oidc.TokenAsync("agent-7", "s3cret-agent");
        var wrongAudience = await oidc.TokenAsync("elsewhere", "s3cret-else");
        var wrongIssuer = await impostor.TokenAsync("agent-7", "s3cret-agent");
        var noRole = await oidc.TokenAsync("nobody", "s3cret-nobody");

        await using (var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = server.McpEndpoint!,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + valid },
        }), cancellationToken: TestContext.Current.CancellationToken))
        {
            var trail = await client.CallToolAsync("get_audit_trail", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
            var create = await client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "x", ["type"] = "vm", ["tenant_id"] = "globex" }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(trail.IsError != true);
            Assert.Contains("client:agent-7", string.Join(' ', trail.Content.OfType<TextContentBlock>().Select(t => t.Text)), StringComparison.Ordinal);
            // The token's tenant claim scopes the principal.
            Assert.True(create.IsError);
            Assert.Contains("'client:agent-7' may not act in tenant 'globex'", string.Join(' ', create.Content.OfType<TextContentBlock>().Select(t => t.Text)), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server.McpEndpoint!, expired));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server.McpEndpoint!, wrongAudience));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server.McpEndpoint!, wrongIssuer));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server.McpEndpoint!, Unsigned(valid)));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(server.McpEndpoint!, noRole));
    }

    [Fact]
    public async Task ProtectedResourceMetadata_NamesTheResourceAndTheIssuer()
    {
        await using var oidc = await OidcServer.StartAsync(s_clients);
        await using var server = await ServerProcess.StartHttpAsync(TestPaths.NewDataDir(), "--auth-issuer", oidc.Issuer, "--resource", Resource, "--api-keys");
        using var http = new HttpClient();

        using var challenge = await http.PostAsync(server.McpEndpoint!, new StringContent(ListRuntimes, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var metadataUrl = challenge.Headers.WwwAuthenticate.ToString().Split("resource_metadata=\"")[1].Split('"')[0];
        using var metadata = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(metadataUrl, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Equal(Resource, metadata.RootElement.GetProperty("resource").GetString());
        Assert.Equal(oidc.Issuer, metadata.RootElement.GetProperty("authorization_servers")[0].GetString());
    }
}
