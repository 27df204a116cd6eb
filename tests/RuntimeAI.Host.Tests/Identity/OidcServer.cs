using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace RuntimeAI.Host.Tests.Identity;

/// <summary>
/// A real OpenID Connect authorization server (OpenIddict) on 127.0.0.1, started in the test:
/// client-credentials tokens, and authorization-code tokens with PKCE (S256) for public clients,
/// signed with its own key and published through its discovery document and JWKS. Each
/// confidential client has a secret, roles, tenants and the audience its tokens name; each public
/// client has its registered redirect URI, and its tokens name the user signed in at the
/// authorization endpoint (<see cref="SignedInUser"/>: no login page, the user is already there)
/// and the resource the client asked for (RFC 8707). Its clock
/// starts <see cref="ClockLag"/> in the past, so the first tokens a test asks for are already
/// expired; <see cref="CatchUp"/> brings it to the present.
/// </summary>
internal sealed class OidcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OidcServer(WebApplication app, FakeTimeProvider clock, string issuer)
    {
        _app = app;
        Clock = clock;
        Issuer = issuer;
    }

    /// <summary>A registered confidential client (client credentials).</summary>
    public sealed record Client(string Secret, string Audience, string[] Roles, string[] Tenants);

    /// <summary>A registered public client (authorization code with PKCE).</summary>
    public sealed record PublicClient(Uri RedirectUri);

    /// <summary>A user of the authorization server.</summary>
    public sealed record User(string Subject, string[] Roles, string[] Tenants);

    /// <summary>The user signed in at the authorization endpoint; null refuses every authorization request.</summary>
    public User? SignedInUser { get; set; }

    public string Issuer { get; }

    /// <summary>How far in the past the server's clock starts.</summary>
    public static readonly TimeSpan ClockLag = TimeSpan.FromHours(3);

    /// <summary>The server's clock.</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>Moves the server's clock to the present: tokens from now on are current.</summary>
    public void CatchUp() => Clock.SetUtcNow(TimeProvider.System.GetUtcNow());

    public static async Task<OidcServer> StartAsync(IReadOnlyDictionary<string, Client> clients, IReadOnlyDictionary<string, PublicClient>? publicClients = null)
    {
        publicClients ??= new Dictionary<string, PublicClient>();
        OidcServer? self = null;
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow() - ClockLag);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.SetTokenEndpointUris("connect/token");
            o.SetAuthorizationEndpointUris("connect/authorize");
            o.AllowClientCredentialsFlow();
            o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            // Any resource indicator is accepted here; the resource server (ours) checks the audience.
            o.DisableResourceValidation();
            o.EnableDegradedMode();
            o.AddEphemeralSigningKey();
            o.AddEphemeralEncryptionKey();
            // A signed JWT any resource server can validate with the JWKS (not an encrypted token).
            o.DisableAccessTokenEncryption();
            o.Configure(options => options.TimeProvider = clock);
            o.UseAspNetCore().DisableTransportSecurityRequirement();
            o.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId is null || !publicClients.TryGetValue(context.ClientId, out var client)
                    || !string.Equals(context.RedirectUri, client.RedirectUri.AbsoluteUri, StringComparison.Ordinal))
                {
                    context.Reject(error: Errors.InvalidClient, description: "unknown client or unregistered redirect_uri");
                }

                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.HandleAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (self?.SignedInUser is not { } user)
                {
                    context.Reject(error: Errors.AccessDenied, description: "no user is signed in");
                    return default;
                }

                var identity = new ClaimsIdentity("oidc-test", Claims.Subject, "roles");
                identity.SetClaim(Claims.Subject, user.Subject);
                identity.SetClaim(Claims.ClientId, context.ClientId);
                identity.SetClaims("roles", [.. user.Roles]);
                identity.SetClaims("tenant", [.. user.Tenants]);
                identity.SetDestinations(_ => [Destinations.AccessToken]);
                var principal = new ClaimsPrincipal(identity);
                // The audience is the resource the client named (RFC 8707), as the MCP authorization spec asks.
                var resource = context.Request.GetParameter(Parameters.Resource)?.ToString();
                if (resource is not null)
                {
                    principal.SetAudiences(resource);
                }

                context.SignIn(principal);
                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.Request.IsAuthorizationCodeGrantType())
                {
                    if (context.ClientId is null || !publicClients.ContainsKey(context.ClientId))
                    {
                        context.Reject(error: Errors.InvalidClient, description: "unknown public client");
                    }
                }
                else if (context.ClientId is null || !clients.TryGetValue(context.ClientId, out var client) || client.Secret != context.ClientSecret)
                {
                    context.Reject(error: Errors.InvalidClient, description: "unknown client or wrong secret");
                }

                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.HandleTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.Request.IsAuthorizationCodeGrantType())
                {
                    // The principal the authorization code carries (validated by OpenIddict, PKCE included).
                    context.SignIn(context.Principal!);
                    return default;
                }

                var client = clients[context.ClientId!];
                var identity = new ClaimsIdentity("oidc-test", Claims.Subject, "roles");
                identity.SetClaim(Claims.Subject, context.ClientId);
                identity.SetClaim(Claims.ClientId, context.ClientId);
                identity.SetClaims("roles", [.. client.Roles]);
                identity.SetClaims("tenant", [.. client.Tenants]);
                identity.SetDestinations(_ => [Destinations.AccessToken]);
                var principal = new ClaimsPrincipal(identity);
                principal.SetAudiences(client.Audience);
                context.SignIn(principal);
                return default;
            }));
        });
        var app = builder.Build();
        await app.StartAsync();
        var issuer = app.Urls.First().TrimEnd('/') + "/";
        self = new OidcServer(app, clock, issuer);
        return self;
    }

    /// <summary>A client-credentials access token for <paramref name="clientId"/>.</summary>
    public async Task<string> TokenAsync(string clientId, string secret)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(Issuer + "connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = GrantTypes.ClientCredentials,
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("access_token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
