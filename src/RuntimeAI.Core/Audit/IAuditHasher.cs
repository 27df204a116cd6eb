using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RuntimeAI.Core.Common;

namespace RuntimeAI.Core.Audit;

/// <summary>Computes the chain hash of an audit record (over everything but the hash itself).</summary>
public interface IAuditHasher
{
    /// <summary>The SHA-256 hex of the record's canonical form, including its predecessor's hash.</summary>
    string ComputeHash(AuditRecord record);
}

/// <summary>Constants of the audit chain.</summary>
public static class AuditHashes
{
    /// <summary>The predecessor hash of the first record.</summary>
    public static readonly string Genesis = new('0', 64);
}

/// <summary>
/// Hashes the record's serialized form (stable: source-generated, fixed property order) chained
/// to the previous hash. Replaced by a canonical-JSON hasher when the governance audit lands.
/// </summary>
public sealed class Sha256AuditHasher : IAuditHasher
{
    /// <inheritdoc />
    public string ComputeHash(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var json = JsonSerializer.Serialize(record with { Hash = string.Empty }, CoreJsonContext.Default.AuditRecord);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }
}
