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
/// client-credentials tokens signed with its own key, published through its discovery document
/// and JWKS. Each client has a secret, roles, tenants and the audience its tokens name. Its clock
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

    /// <summary>A registered client.</summary>
    public sealed record Client(string Secret, string Audience, string[] Roles, string[] Tenants);

    public string Issuer { get; }

    /// <summary>How far in the past the server's clock starts.</summary>
    public static readonly TimeSpan ClockLag = TimeSpan.FromHours(3);

    /// <summary>The server's clock.</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>Moves the server's clock to the present: tokens from now on are current.</summary>
    public void CatchUp() => Clock.SetUtcNow(TimeProvider.System.GetUtcNow());

    public static async Task<OidcServer> StartAsync(IReadOnlyDictionary<string, Client> clients)
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow() - ClockLag);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.SetTokenEndpointUris("connect/token");
            o.AllowClientCredentialsFlow();
            o.EnableDegradedMode();
            o.AddEphemeralSigningKey();
            o.AddEphemeralEncryptionKey();
            // A signed JWT any resource server can validate with the JWKS (not an encrypted token).
            o.DisableAccessTokenEncryption();
            o.Configure(options => options.TimeProvider = clock);
            o.UseAspNetCore().DisableTransportSecurityRequirement();
            o.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId is null || !clients.TryGetValue(context.ClientId, out var client) || client.Secret != context.ClientSecret)
                {
                    context.Reject(error: Errors.InvalidClient, description: "unknown client or wrong secret");
                }

                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.HandleTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
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
        return new OidcServer(app, clock, issuer);
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
