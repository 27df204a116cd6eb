using System.Net;
using System.Net.Sockets;
using System.Web;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// The MCP authorization flow end to end, as a desktop client runs it for a signed-in user: the
/// SDK's OAuth client gets our 401, reads the Protected Resource Metadata, discovers the real
/// OpenID Connect server it names, runs authorization code with PKCE (S256) and a resource
/// indicator for this server, and calls tools with the token it got. The call acts as the user,
/// with the user's roles and tenants, and the audit names the user.
/// </summary>
public sealed class OAuthAuthorizationCodeTests
{
    private static readonly Uri s_redirect = new("http://127.0.0.1:1/callback");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Plays the browser: follows the authorization URL and reads the code off the redirect.</summary>
    private static async Task<AuthorizationResult?> BrowserAsync(AuthorizationCallbackContext context, List<Uri> visited, CancellationToken cancellationToken)
    {
        visited.Add(context.AuthorizationUri);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var response = await http.GetAsync(context.AuthorizationUri, cancellationToken);
        var location = response.Headers.Location ?? throw new InvalidOperationException($"authorization answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        var query = HttpUtility.ParseQueryString(location.Query);
        if (query["error"] is { } error)
        {
            throw new InvalidOperationException($"authorization refused: {error} {query["error_description"]}");
        }

        return new AuthorizationResult { Code = query["code"]!, State = query["state"], Iss = query["iss"] };
    }

    private static async Task<(ServerProcess Server, Uri Resource)> StartServerAsync(OidcServer oidc)
    {
        var port = FreePort();
        var resource = new Uri($"http://127.0.0.1:{port}/mcp");
        var server = await ServerProcess.StartHttpAsync(TestPaths.NewDataDir(), "--urls", $"http://127.0.0.1:{port}", "--auth-issuer", oidc.Issuer, "--resource", resource.AbsoluteUri);
        return (server, resource);
    }

    [Fact]
    public async Task AuthorizationCodeWithPkce_TheSdkClientSignsInAndActsAsTheUser()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var oidc = await OidcServer.StartAsync(new Dictionary<string, OidcServer.Client>(), new Dictionary<string, OidcServer.PublicClient> { ["desktop"] = new(s_redirect) });
        oidc.CatchUp();
        oidc.SignedInUser = new("alice", ["operator"], ["acme"]);
        var (server, resource) = await StartServerAsync(oidc);
        await using var _ = server;
        var visited = new List<Uri>();

        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = server.McpEndpoint!,
            OAuth = new ClientOAuthOptions
            {
                ClientId = "desktop",
                RedirectUri = s_redirect,
                AuthorizationCallbackHandler = (context, token) => BrowserAsync(context, visited, token),
            },
        }), cancellationToken: ct);
        var trail = await client.CallToolAsync("get_audit_trail", new Dictionary<string, object?>(), cancellationToken: ct);
        var foreign = await client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = "x", ["type"] = "vm", ["tenant_id"] = "globex" }, cancellationToken: ct);

        // The client went through the authorization endpoint once, with PKCE S256 and this server as the resource.
        var authorize = Assert.Single(visited);
        var query = HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["code_challenge"]));
        Assert.Equal(resource.AbsoluteUri, query["resource"]);
        Assert.True(trail.IsError != true, Text(trail));
        Assert.Contains("user:alice", Text(trail), StringComparison.Ordinal);
        Assert.True(foreign.IsError);
        Assert.Contains("'user:alice' may not act in tenant 'globex'", Text(foreign), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthorizationCode_TheUserDeclines_TheClientGetsNoSession()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var oidc = await OidcServer.StartAsync(new Dictionary<string, OidcServer.Client>(), new Dictionary<string, OidcServer.PublicClient> { ["desktop"] = new(s_redirect) });
        oidc.CatchUp();
        oidc.SignedInUser = null;
        var (server, _) = await StartServerAsync(oidc);
        await using var __ = server;

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = server.McpEndpoint!,
                OAuth = new ClientOAuthOptions
                {
                    ClientId = "desktop",
                    RedirectUri = s_redirect,
                    AuthorizationCallbackHandler = (context, token) => BrowserAsync(context, [], token),
                },
            }), cancellationToken: ct);
            await client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: ct);
        });

        Assert.Contains("access_denied", error.ToString(), StringComparison.Ordinal);
    }

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));
}
