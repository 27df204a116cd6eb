namespace RuntimeAI.Core.Governance;

/// <summary>
/// What every replica must share for the approval request state (MRTR) that travels through the
/// client between the prompt and the retry: the key that signs it, and the memory of which states
/// were already used. Both live in the store, so a state issued by one replica verifies on any
/// other exactly once.
/// </summary>
public interface IApprovalStateStore
{
    /// <summary>
    /// The store's signing key: <paramref name="candidate"/> is kept if the store has none yet
    /// (insert-if-absent), and whichever key was stored first is returned, so replicas starting
    /// together agree on one key.
    /// </summary>
    Task<byte[]> GetOrCreateKeyAsync(byte[] candidate, CancellationToken cancellationToken);

    /// <summary>
    /// Records <paramref name="nonce"/> as used until <paramref name="expiresAt"/>: true for the
    /// first caller on any replica, false for every later one. Records expired at
    /// <paramref name="now"/> are pruned (a state past its expiry is refused before it gets here).
    /// </summary>
    Task<bool> TryUseAsync(string nonce, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken);
}
