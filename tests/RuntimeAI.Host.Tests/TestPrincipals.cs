using RuntimeAI.Core.Identity;

namespace RuntimeAI.Host.Tests;

/// <summary>Principals for sessions that must not be the local user (whose CLI approvals would be self-approvals).</summary>
internal static class TestPrincipals
{
    /// <summary>An agent with its own key: not the OS user, so the user's <c>runtimeai approve</c> is a different party.</summary>
    public static Principal Agent { get; } = new()
    {
        Name = "key:test-agent",
        Kind = PrincipalKind.Agent,
        Roles = new HashSet<Role> { Role.Operator },
        AllTenants = true,
        AuthenticatedBy = "api_key",
        Identities = ["key:test-agent"],
    };
}
