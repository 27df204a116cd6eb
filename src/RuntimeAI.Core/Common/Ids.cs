using System.Security.Cryptography;

namespace RuntimeAI.Core.Common;

/// <summary>
/// Makes sortable ids (a ULID-like body of 48 bits of milliseconds and 80 random bits, Crockford
/// base32) with a prefix that says what the id names: rt_, op_, ev_, pol_, int_, prp_, aud_.
/// Time-ordered ids give lists a stable order that matches creation.
/// </summary>
public sealed class IdGenerator(TimeProvider time)
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>A new id with the given prefix (without the underscore).</summary>
    public string New(string prefix)
    {
        var ms = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds();
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        Span<char> chars = stackalloc char[26];
        for (var i = 9; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(ms & 31)];
            ms >>= 5;
        }

        var acc = new UInt128(0, 0);
        foreach (var b in random)
        {
            acc = (acc << 8) | b;
        }

        for (var i = 25; i >= 10; i--)
        {
            chars[i] = Alphabet[(int)(acc & 31)];
            acc >>= 5;
        }

        return string.Concat(prefix, "_", new string(chars));
    }
}
