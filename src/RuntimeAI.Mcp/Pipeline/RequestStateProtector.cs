using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RuntimeAI.Core.Governance;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Protects the MRTR request state that travels through the client between the approval prompt
/// and the retry: HMAC-SHA256 over (nonce, principal, plan digest, expiry), so the state cannot
/// be forged, moved to another principal or plan, reused, or kept past a few minutes. With an
/// <see cref="IApprovalStateStore"/> the used nonces live in the store, so a state is redeemed once
/// across every replica sharing it (and across restarts); without one, in this process only.
/// </summary>
internal sealed class RequestStateProtector
{
    /// <summary>How long a human has to answer the prompt.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly IApprovalStateStore? _store;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _used = new(StringComparer.Ordinal);

    public RequestStateProtector(byte[] key, TimeProvider time, IApprovalStateStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        _time = time;
        _store = store;
    }

    /// <summary>
    /// The key from the file the operator named, when one is named: it wins over every other
    /// source (a key kept outside the database cannot be read from a copy of the database, and the
    /// operator rotates it). Otherwise, on a shared store (postgres) null: the key comes from the
    /// store (<see cref="FromStore"/>); on the embedded store, <c>{dataDir}/mrtr.key</c> as before.
    /// </summary>
    public static byte[]? LoadFileKey(string? keyFile, string store, string dataDir)
    {
        if (!string.IsNullOrEmpty(keyFile))
        {
            return ReadKeyFile(keyFile, "RUNTIMEAI_APPROVAL_KEY_FILE or approval_key_file");
        }

        return string.Equals(store, "postgres", StringComparison.Ordinal) ? null : DataDirKey(dataDir);
    }

    /// <summary>The key every replica shares, from the store (the first replica's random key wins).</summary>
    public static async Task<byte[]> FromStoreAsync(IApprovalStateStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        return await store.GetOrCreateKeyAsync(RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blocking form of <see cref="FromStoreAsync"/>, for the composition root (start-up).</summary>
    public static byte[] FromStore(IApprovalStateStore store) => FromStoreAsync(store, CancellationToken.None).GetAwaiter().GetResult();

    private static byte[] ReadKeyFile(string path, string source)
    {
        byte[] key;
        try
        {
            key = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"the approval key file '{path}' cannot be read ({ex.Message}); check {source}");
        }

        CheckOwnerOnly(path);
        if (key.Length < 32)
        {
            throw new InvalidOperationException(
                $"the approval key file '{path}' holds {key.Length} bytes; it needs at least 32 random bytes (e.g. 'head -c 32 /dev/urandom > {path}; chmod 600 {path}')");
        }

        return key;
    }

    private static void CheckOwnerOnly(string path)
    {
        // A key others can read lets them forge approvals: refuse it rather than use it.
        if (!OperatingSystem.IsWindows()
            && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            throw new InvalidOperationException(
                $"the approval key {path} is readable or writable by other users, who could forge approvals; run 'chmod 600 {path}' (or delete it to make a new one) and start again");
        }
    }

    /// <summary>Loads the key from <c>{dataDir}/mrtr.key</c>, creating it (owner-only) on first use.</summary>
    public static RequestStateProtector ForDataDir(string dataDir, TimeProvider time) => new(DataDirKey(dataDir), time);

    private static byte[] DataDirKey(string dataDir)
    {
        var path = Path.Combine(dataDir, "mrtr.key");
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var stream = new FileStream(path, fileOptions);
                stream.Write(fresh);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first; use theirs.
            }
        }

        CheckOwnerOnly(path);
        return File.ReadAllBytes(path);
    }

    public string Issue(string principal, string digest)
    {
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var expires = (_time.GetUtcNow() + Lifetime).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        // The principal is encoded: a name may contain '|' (an OAuth subject is any string).
        var payload = string.Join('|', nonce, Encode(Encoding.UTF8.GetBytes(principal)), digest, expires);
        return Encode(Encoding.UTF8.GetBytes(payload)) + "." + Encode(Sign(payload));
    }

    /// <summary>Checks and consumes a state: (true, "") once; (false, the reason) when it must be refused.</summary>
    public async Task<(bool Ok, string Reason)> TryRedeemAsync(string state, string principal, string digest, CancellationToken cancellationToken)
    {
        if (!Check(state, principal, digest, out var nonce, out var expires, out var reason))
        {
            return (false, reason);
        }

        var now = _time.GetUtcNow();
        var first = _store is not null
            ? await _store.TryUseAsync(nonce, expires, now, cancellationToken).ConfigureAwait(false)
            : TryUseInProcess(nonce, expires, now);
        return first ? (true, string.Empty) : (false, "the approval was already used; an approval runs once");
    }

    private bool TryUseInProcess(string nonce, DateTimeOffset expires, DateTimeOffset now)
    {
        foreach (var stale in _used.Where(u => u.Value < now).Select(u => u.Key).ToList())
        {
            _used.TryRemove(stale, out _);
        }

        return _used.TryAdd(nonce, expires);
    }

    /// <summary>Signature, shape, principal, plan and expiry; the nonce and expiry when all hold.</summary>
    private bool Check(string state, string principal, string digest, out string nonce, out DateTimeOffset expires, out string reason)
    {
        nonce = string.Empty;
        expires = default;
        var parts = state.Split('.');
        string payload;
        try
        {
            payload = Encoding.UTF8.GetString(Decode(parts[0]));
            if (parts.Length != 2 || !CryptographicOperations.FixedTimeEquals(Decode(parts[1]), Sign(payload)))
            {
                reason = "the approval state was altered; ask again";
                return false;
            }
        }
        catch (FormatException)
        {
            reason = "the approval state is not one this server issued; ask again";
            return false;
        }

        var fields = payload.Split('|');
        if (fields.Length != 4)
        {
            reason = "the approval state is not one this server issued; ask again";
            return false;
        }

        expires = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(fields[3], CultureInfo.InvariantCulture));
        var now = _time.GetUtcNow();

        if (!string.Equals(fields[1], Encode(Encoding.UTF8.GetBytes(principal)), StringComparison.Ordinal))
        {
            reason = "the approval was given to another principal";
        }
        else if (!string.Equals(fields[2], digest, StringComparison.Ordinal))
        {
            reason = "the approval was for a different change; the plan must not change between prompt and retry";
        }
        else if (expires < now)
        {
            reason = $"the approval expired at {expires:u}; ask again";
        }
        else
        {
            nonce = fields[0];
            reason = string.Empty;
            return true;
        }

        return false;
    }

    private byte[] Sign(string payload) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(payload));

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Decode(string text)
    {
        var b64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '='));
    }
}
