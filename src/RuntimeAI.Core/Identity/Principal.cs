using System.Text.Json.Serialization;

namespace RuntimeAI.Core.Identity;

/// <summary>Whether a principal is a person or software acting on its own credentials.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PrincipalKind>))]
public enum PrincipalKind
{
    /// <summary>An AI agent, a CI job or any other program.</summary>
    [JsonStringEnumMemberName("agent")] Agent,
    /// <summary>A person (the CLI user, a user token from an authorization server).</summary>
    [JsonStringEnumMemberName("human")] Human,
}

/// <summary>What a principal may do. Admin implies every other role; operator and approver imply viewer.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Role>))]
public enum Role
{
    /// <summary>Observe and analyse (read-only tools).</summary>
    [JsonStringEnumMemberName("viewer")] Viewer,
    /// <summary>Viewer, plus recommend and execute within the autonomy level and policies.</summary>
    [JsonStringEnumMemberName("operator")] Operator,
    /// <summary>Viewer, plus deciding proposals somebody else made.</summary>
    [JsonStringEnumMemberName("approver")] Approver,
    /// <summary>Everything, plus policies, API keys and autonomy scopes.</summary>
    [JsonStringEnumMemberName("admin")] Admin,
}

/// <summary>
/// Who is calling, as the transport established it (never as the client claims): the name the
/// audit trail records, whether it is a person or an agent, its roles and the tenants it may see.
/// </summary>
public sealed record Principal
{
    /// <summary>The name recorded everywhere, e.g. <c>stdio:alice</c>, <c>human:alice</c>, <c>key:ci-deploy</c>, <c>client:agent-7</c>.</summary>
    public required string Name { get; init; }

    public required PrincipalKind Kind { get; init; }

    public required IReadOnlySet<Role> Roles { get; init; }

    /// <summary>The tenants this principal may see and change; ignored when <see cref="AllTenants"/>.</summary>
    public IReadOnlyList<string> Tenants { get; init; } = [];

    /// <summary>True for a principal not limited to tenants (the local user, an unscoped key).</summary>
    public bool AllTenants { get; init; }

    /// <summary>How the principal was established: os, api_key, jwt or unauthenticated.</summary>
    public required string AuthenticatedBy { get; init; }

    /// <summary>
    /// Every identity that answers for this principal's actions (its name, the OS account behind
    /// a local transport, the OAuth client a user token was issued to). Two principals that share
    /// one are the same party for separation of duties: one may never approve what the other asked.
    /// </summary>
    public required IReadOnlyList<string> Identities { get; init; }

    /// <summary>True when the principal holds <paramref name="role"/>, directly or through a role that implies it.</summary>
    public bool Has(Role role) => Roles.Contains(Role.Admin) || Roles.Contains(role)
        || (role == Role.Viewer && (Roles.Contains(Role.Operator) || Roles.Contains(Role.Approver)));

    /// <summary>True when the principal may see a runtime (or anything of it) of <paramref name="tenantId"/>; a runtime without a tenant is visible only to unscoped principals.</summary>
    public bool CanSee(string? tenantId) => AllTenants || (tenantId is not null && Tenants.Contains(tenantId, StringComparer.Ordinal));

    /// <summary>True when this principal and <paramref name="identities"/> share an identity (the same party).</summary>
    public bool IsSameParty(IEnumerable<string> identities)
    {
        ArgumentNullException.ThrowIfNull(identities);
        return identities.Any(i => Identities.Contains(i, StringComparer.Ordinal));
    }

    /// <summary>The roles as their wire names, in a stable order.</summary>
    public IEnumerable<string> RoleNames => Roles.Order().Select(RoleText.Name);

    /// <summary>The local OS account: <c>{transport}:{user}</c> on a local transport, <c>human:{user}</c> for the CLI.</summary>
    public static Principal Local(string name, PrincipalKind kind, string osUser, IEnumerable<Role> roles) => new()
    {
        Name = name,
        Kind = kind,
        Roles = roles.ToHashSet(),
        AllTenants = true,
        AuthenticatedBy = "os",
        Identities = [name, OsIdentity(osUser)],
    };

    /// <summary>The separation-of-duties identity of a local OS account.</summary>
    public static string OsIdentity(string osUser) => "os:" + osUser;
}

/// <summary>Role names on the wire and in configuration.</summary>
public static class RoleText
{
    public static string Name(Role role) => role switch
    {
        Role.Viewer => "viewer",
        Role.Operator => "operator",
        Role.Approver => "approver",
        Role.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? text, out Role role)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "viewer": role = Role.Viewer; return true;
            case "operator": role = Role.Operator; return true;
            case "approver": role = Role.Approver; return true;
            case "admin": role = Role.Admin; return true;
            default: role = default; return false;
        }
    }

    /// <summary>The valid names, for error messages.</summary>
    public const string Valid = "viewer, operator, approver, admin";
}
