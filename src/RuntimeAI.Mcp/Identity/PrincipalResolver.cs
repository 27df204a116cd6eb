using System.Security.Claims;
using RuntimeAI.Core.Identity;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Mcp.Identity;

/// <summary>
/// Turns what the transport established into a <see cref="Principal"/>: an authenticated user
/// (validated bearer token or API key) from its claims, otherwise the local OS account behind the
/// transport. Never from anything the client says about itself.
/// </summary>
public sealed class PrincipalResolver(RuntimeAiServerOptions options)
{
    /// <summary>Claim types the API key handler issues (and a token may carry).</summary>
    public const string PrincipalClaim = "runtimeai:principal";

    /// <summary>The kind claim: agent or human.</summary>
    public const string KindClaim = "runtimeai:kind";

    /// <summary>One claim per tenant.</summary>
    public const string TenantClaim = "runtimeai:tenant";

    /// <summary>One claim per separation-of-duties identity.</summary>
    public const string IdentityClaim = "runtimeai:identity";

    /// <summary>How the principal was authenticated (api_key, jwt).</summary>
    public const string MethodClaim = "runtimeai:auth";

    private static readonly string[] s_roleClaims = [ClaimTypes.Role, "role", "roles", "runtimeai:role"];
    private static readonly string[] s_tenantClaims = [TenantClaim, "tenant", "tenants", "tenant_id"];

    /// <summary>The OS account this process runs as.</summary>
    public static string OsUser => Environment.UserName;

    /// <summary>The caller of one request.</summary>
    public Principal Resolve(ClaimsPrincipal? user)
    {
        if (user?.Identity is { IsAuthenticated: true })
        {
            return FromClaims(user);
        }

        if (options.LocalPrincipal is { } local)
        {
            return local;
        }

        if (options.TransportLabel == InProcessTransport)
        {
            // The CLI is the person at the keyboard, who can already write the store and the policy files.
            return Principal.Local("human:" + OsUser, PrincipalKind.Human, OsUser, [Role.Admin]);
        }

        var name = $"{options.TransportLabel}:{OsUser}";
        return Principal.Local(name, PrincipalKind.Agent, OsUser, ConfiguredRoles(name, [Role.Operator]));
    }

    /// <summary>The transport label of <c>runtimeai call</c> and the other in-process CLI sessions.</summary>
    public const string InProcessTransport = "in-process";

    private Principal FromClaims(ClaimsPrincipal user)
    {
        var method = user.FindFirst(MethodClaim)?.Value ?? "jwt";
        string name;
        PrincipalKind kind;
        var identities = new List<string>();
        if (user.FindFirst(PrincipalClaim)?.Value is { } explicitName)
        {
            name = explicitName;
            kind = user.FindFirst(KindClaim)?.Value == "human" ? PrincipalKind.Human : PrincipalKind.Agent;
        }
        else
        {
            // An OAuth access token: a client-credentials token names the client itself (an agent);
            // a user token names the user and the client (agent) it was issued to.
            var subject = user.FindFirst("sub")?.Value ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value;
            var client = user.FindFirst("client_id")?.Value ?? user.FindFirst("azp")?.Value;
            if (subject is null || string.Equals(subject, client, StringComparison.Ordinal))
            {
                name = "client:" + (client ?? subject ?? "unknown");
                kind = PrincipalKind.Agent;
            }
            else
            {
                name = "user:" + subject;
                kind = PrincipalKind.Human;
                if (client is not null)
                {
                    identities.Add("client:" + client);
                }
            }
        }

        identities.Insert(0, name);
        identities.AddRange(user.FindAll(IdentityClaim).Select(c => c.Value));
        var roles = new HashSet<Role>();
        foreach (var claim in s_roleClaims.SelectMany(user.FindAll))
        {
            foreach (var value in claim.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
            {
                if (RoleText.TryParse(value, out var role))
                {
                    roles.Add(role);
                }
            }
        }

        var tenants = s_tenantClaims.SelectMany(user.FindAll)
            .SelectMany(c => c.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal).ToList();
        return new Principal
        {
            Name = name,
            Kind = kind,
            Roles = ConfiguredRoles(name, roles),
            Tenants = tenants.Where(t => t != "*").ToList(),
            AllTenants = tenants.Count == 0 || tenants.Contains("*"),
            AuthenticatedBy = method,
            Identities = identities.Distinct(StringComparer.Ordinal).ToList(),
        };
    }

    private HashSet<Role> ConfiguredRoles(string name, IEnumerable<Role> initial)
    {
        var roles = initial.ToHashSet();
        if (options.Admins.Contains(name, StringComparer.Ordinal))
        {
            roles.Add(Role.Admin);
        }

        if (options.Roles.TryGetValue(name, out var configured))
        {
            roles.UnionWith(configured);
        }

        return roles;
    }
}
