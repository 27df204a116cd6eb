
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
