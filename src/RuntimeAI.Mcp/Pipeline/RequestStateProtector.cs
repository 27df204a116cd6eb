using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Protects the MRTR request state that travels through the client between the approval prompt
/// and the retry: HMAC-SHA256 over (nonce, principal, plan digest, expiry), so the state cannot
/// be forged, moved to another principal or plan, reused, or kept past a few minutes.
/// </summary>
internal sealed class RequestStateProtector
{
    /// <summary>How long a human has to answer the prompt.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _used = new(StringComparer.Ordinal);

    public RequestStateProtector(byte[] key, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        _time = time;
    }

    /// <summary>Loads the key from <c>{dataDir}/mrtr.key</c>, creating it (owner-only) on first use.</summary>
    public static RequestStateProtector ForDataDir(string dataDir, TimeProvider time)
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

        // A key others can read lets them forge approvals: refuse it rather than use it.
        if (!OperatingSystem.IsWindows()
            && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            throw new InvalidOperationException(
                $"the approval key {path} is readable or writable by other users, who could forge approvals; run 'chmod 600 {path}' (or delete it to make a new one) and start again");
        }

        return new RequestStateProtector(File.ReadAllBytes(path), time);
    }

    public string Issue(string principal, string digest)
    {
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var expires = (_time.GetUtcNow() + Lifetime).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        // The principal is encoded: a name may contain '|' (an OAuth subject is any string).
        var payload = string.Join('|', nonce, Encode(Encoding.UTF8.GetBytes(principal)), digest, expires);
        return Encode(Encoding.UTF8.GetBytes(payload)) + "." + Encode(Sign(payload));
    }

    /// <summary>Checks and consumes a state; false with the reason when it must be refused.</summary>
    public bool TryRedeem(string state, string principal, string digest, out string reason)
    {
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

        var expires = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(fields[3], CultureInfo.InvariantCulture));
        var now = _time.GetUtcNow();
        foreach (var stale in _used.Where(u => u.Value < now).Select(u => u.Key).ToList())
        {
            _used.TryRemove(stale, out _);
        }

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
        else if (!_used.TryAdd(fields[0], expires))
        {
            reason = "the approval was already used; an approval runs once";
        }
        else
        {
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
