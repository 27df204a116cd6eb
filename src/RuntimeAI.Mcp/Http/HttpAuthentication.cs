using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using ModelContextProtocol.AspNetCore.Authentication;
using ModelContextProtocol.Authentication;
using RuntimeAI.Core.Identity;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Identity;

namespace RuntimeAI.Mcp.Http;

/// <summary>
/// The HTTP endpoint as an OAuth 2.1 resource server (MCP authorization): access tokens (JWT) of
/// the configured issuers, validated against their signing keys with this server's resource URI
/// as audience, and RuntimeAI API keys; a 401 carries <c>WWW-Authenticate</c> pointing at the
/// Protected Resource Metadata (RFC 9728), served by the MCP SDK's authentication handler.
/// Tokens are only validated here, never passed on to a backend.
/// </summary>
public static class HttpAuthentication
{
    /// <summary>The scheme that picks the API key or the issuer's JWT handler for a request.</summary>
    public const string Scheme = "runtimeai";

    /// <summary>The API key scheme.</summary>
    public const string ApiKeyScheme = "runtimeai-api-key";

    /// <summary>The authorization policy of the MCP endpoint: authenticated and holding at least one role.</summary>
    public const string Policy = "runtimeai";

    /// <summary>How long a token may be past its expiry (clock differences between hosts).</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>Registers authentication and authorization when <see cref="RuntimeAiServerOptions.AuthEnabled"/>.</summary>
    public static IServiceCollection AddRuntimeAiAuthentication(this IServiceCollection services, RuntimeAiServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.AuthEnabled)
        {
            return services;
        }

        services.AddSingleton<ApiKeyAuthenticator>();
        var builder = services.AddAuthentication(o =>
        {
            o.DefaultScheme = Scheme;
            o.DefaultChallengeScheme = McpAuthenticationDefaults.AuthenticationScheme;
        });
        builder.AddPolicyScheme(Scheme, "RuntimeAI", o => o.ForwardDefaultSelector = context => Select(context, options));
        builder.AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyScheme, "RuntimeAI API key", null);
        for (var i = 0; i < options.AuthIssuers.Count; i++)
        {
            var issuer = options.AuthIssuers[i];
            builder.AddJwtBearer(JwtScheme(i), o =>
            {
                o.Authority = issuer.Issuer;
                o.MetadataAddress = issuer.MetadataAddress ?? issuer.Issuer.TrimEnd('/') + "/.well-known/openid-configuration";
                // Plain http only for an issuer on this machine (development and tests).
                o.RequireHttpsMetadata = !IsLoopbackHttp(issuer.Issuer);
                o.MapInboundClaims = false;
                o.SaveToken = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = issuer.Issuer,
                    ValidateIssuer = true,
                    ValidAudience = options.ResourceUri,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ValidateIssuerSigningKey = true,
                    ClockSkew = ClockSkew,
                    NameClaimType = "sub",
                    RoleClaimType = "roles",
                };
            });
        }

        builder.AddMcp(o => o.Events.OnResourceMetadataRequest = context =>
        {
            // With API keys only, no resource URI is configured: describe the endpoint that was asked.
            var request = context.HttpContext.Request;
            context.ResourceMetadata = new ProtectedResourceMetadata
            {
                Resource = options.ResourceUri ?? $"{request.Scheme}://{request.Host}/mcp",
                AuthorizationServers = options.AuthIssuers.Select(i => i.Issuer).ToList(),
                BearerMethodsSupported = ["header"],
                ResourceName = "RuntimeAI",
            };
            return Task.CompletedTask;
        });
        // Authenticates with the default scheme; challenges with the MCP scheme (401 + resource_metadata).
        services.AddAuthorization(o => o.AddPolicy(Policy, p => p
            .RequireAuthenticatedUser()
            .RequireAssertion(context => context.Resource is HttpContext http
                && http.RequestServices.GetRequiredService<PrincipalResolver>().Resolve(context.User).Roles.Count > 0)));
        return services;
    }

    internal static string JwtScheme(int index) => "runtimeai-jwt-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static bool IsLoopbackHttp(string issuer) =>
        Uri.TryCreate(issuer, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback;

    private static string Select(HttpContext context, RuntimeAiServerOptions options)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (options.AuthIssuers.Count == 0 || token?.StartsWith(ApiKeySecret.Prefix, StringComparison.Ordinal) == true)
        {
            return ApiKeyScheme;
        }

        // Several issuers: route by the token's (unverified) iss; its handler then verifies everything.
        var issuer = token is null ? null : PeekIssuer(token);
        for (var i = 0; i < options.AuthIssuers.Count; i++)
        {
            if (string.Equals(options.AuthIssuers[i].Issuer, issuer, StringComparison.Ordinal))
            {
                return JwtScheme(i);
            }
        }

        return JwtScheme(0);
    }

    private static string? PeekIssuer(string token)
    {
        var parts = token.Split('.');
        if (parts.Length < 2)
        {
            return null;
        }

        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var document = JsonDocument.Parse(Convert.FromBase64String(payload));
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("iss", out var iss) && iss.ValueKind == JsonValueKind.String
                ? iss.GetString()
                : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Authenticates <c>Authorization: Bearer rtk_…</c> against the key store.</summary>
    private sealed class ApiKeyHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> options,
        ILoggerFactory logger,
        UrlEncoder encoder,
        ApiKeyAuthenticator authenticator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return AuthenticateResult.NoResult();
            }

            var (principal, failure) = await authenticator.AuthenticateAsync(header[7..].Trim(), Context.RequestAborted).ConfigureAwait(false);
            if (principal is null)
            {
                Logger.LogWarning("API key refused: {Reason}", failure);
                return AuthenticateResult.Fail(failure ?? "invalid API key");
            }

            var claims = new List<Claim>
            {
                new(PrincipalResolver.PrincipalClaim, principal.Name),
                // The MCP SDK binds a stateful session to its user by this claim.
                new(ClaimTypes.NameIdentifier, principal.Name),
                new(PrincipalResolver.KindClaim, principal.Kind == PrincipalKind.Human ? "human" : "agent"),
                new(PrincipalResolver.MethodClaim, "api_key"),
            };
            claims.AddRange(principal.RoleNames.Select(r => new Claim("runtimeai:role", r)));
            claims.AddRange(principal.Tenants.Select(t => new Claim(PrincipalResolver.TenantClaim, t)));
            var identity = new ClaimsIdentity(claims, ApiKeyScheme, PrincipalResolver.PrincipalClaim, "runtimeai:role");
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeyScheme));
        }
    }

    /// <summary>A short description of the authentication in force, for the start-up line.</summary>
    public static string Describe(RuntimeAiServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.AuthEnabled)
        {
            return "no authentication";
        }

        var parts = new StringBuilder();
        if (options.AuthIssuers.Count > 0)
        {
            parts.Append("tokens of ").Append(string.Join(", ", options.AuthIssuers.Select(i => i.Issuer))).Append(" for ").Append(options.ResourceUri);
        }

        if (options.ApiKeys)
        {
            parts.Append(parts.Length > 0 ? " and " : string.Empty).Append("API keys");
        }

        return parts.ToString();
    }
}
