using System.Security.Cryptography;
using System.Text;

namespace RuntimeAI.Core.Identity;

/// <summary>
/// A static API key for a CI job or script: the secret is shown once at creation and only its
/// SHA-256 is stored; it carries the roles and tenants of the principal <c>key:{Name}</c>.
/// </summary>
public sealed record ApiKey
{
    /// <summary>The public part of the key (<c>rtk_{Id}_…</c>), used to find it; not a secret.</summary>
    public required string Id { get; init; }

    /// <summary>Unique among keys; the principal is <c>key:{Name}</c>.</summary>
    public required string Name { get; init; }

    /// <summary>SHA-256 of the secret part, lower-case hex.</summary>
    public required string SecretHash { get; init; }

    public required PrincipalKind Kind { get; init; }

    public required IReadOnlyList<Role> Roles { get; init; }

    /// <summary>Empty means every tenant.</summary>
    public IReadOnlyList<string> Tenants { get; init; } = [];

    public required string CreatedBy { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    public string? RevokedBy { get; init; }

    /// <summary>The principal name this key authenticates as.</summary>
    public string PrincipalName => "key:" + Name;

    /// <summary>The principal this key authenticates as.</summary>
    public Principal ToPrincipal() => new()
    {
        Name = PrincipalName,
        Kind = Kind,
        Roles = Roles.ToHashSet(),
        Tenants = Tenants,
        AllTenants = Tenants.Count == 0,
        AuthenticatedBy = "api_key",
        Identities = [PrincipalName],
    };

    /// <summary>Null when the key may be used at <paramref name="now"/>; otherwise why not.</summary>
    public string? Unusable(DateTimeOffset now) =>
        RevokedAt is { } revoked ? $"API key '{Name}' was revoked at {revoked:u}"
        : ExpiresAt is { } expires && expires <= now ? $"API key '{Name}' expired at {expires:u}"
        : null;
}

/// <summary>Creating and parsing API key secrets: <c>rtk_{id}_{secret}</c>.</summary>
public static class ApiKeySecret
{
    /// <summary>Every key starts with this, so a bearer value can be told from a JWT at a glance.</summary>
    public const string Prefix = "rtk_";

    /// <summary>A new key id and the full secret to show once.</summary>
    public static (string Id, string Secret) New()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>Splits a presented key into its id and the hash of its secret part; false when it is not shaped like a key.</summary>
    public static bool TryParse(string? presented, out string id, out string secretHash)
    {
        id = secretHash = string.Empty;
        if (presented is null || !presented.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = presented[Prefix.Length..];
        var separator = rest.IndexOf('_', StringComparison.Ordinal);
        if (separator != 12 || rest.Length < separator + 20)
        {
            return false;
        }

        id = rest[..separator];
        secretHash = Hash(rest[(separator + 1)..]);
        return true;
    }

    /// <summary>The stored form of a secret part.</summary>
    public static string Hash(string secretPart) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secretPart)));

    /// <summary>Constant-time comparison of two hashes.</summary>
    public static bool Matches(string storedHash, string presentedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(storedHash), Encoding.ASCII.GetBytes(presentedHash));
}

/// <summary>The durable store of API keys.</summary>
public interface IApiKeyStore
{
    /// <summary>Adds a key; false when an unrevoked key of that name exists.</summary>
    Task<bool> AddAsync(ApiKey key, CancellationToken cancellationToken);

    Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Revokes the key with this id or name; null when none matches.</summary>
    Task<ApiKey?> RevokeAsync(string idOrName, string revokedBy, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>Checks a presented key against the store.</summary>
public sealed class ApiKeyAuthenticator(IApiKeyStore store, TimeProvider time)
{
    /// <summary>The key's principal, or null with the reason (never says whether the id exists).</summary>
    public async Task<(Principal? Principal, string? Failure)> AuthenticateAsync(string? presented, CancellationToken cancellationToken)
    {
        if (!ApiKeySecret.TryParse(presented, out var id, out var hash))
        {
            return (null, "not a RuntimeAI API key");
        }

        var key = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (key is null || !ApiKeySecret.Matches(key.SecretHash, hash))
        {
            return (null, "unknown API key");
        }

        return key.Unusable(time.GetUtcNow()) is { } why ? (null, why) : (key.ToPrincipal(), null);
    }
}
