using CsCheck;
using RuntimeAI.Core.Audit;

namespace RuntimeAI.Core.Tests.Audit;

/// <summary>
/// The fragment pre-check of <see cref="SecretRedactor.RedactText"/> never lets a secret through: for
/// generated texts built from the patterns' own pieces, near misses, case changes and non-ASCII
/// look-alikes, the result equals running every pattern.
/// </summary>
public sealed class SecretRedactorFastPathTests
{
    private static readonly string[] s_pieces =
    [
        "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "-----BEGIN", "eyJ", "eyJhbGciOiJIUzI1NiJ9", ".",
        "Bearer ", "bearer ", "Basic ", "Token ", "token", "ghp_", "github_pat_", "AKIA", "xoxb-", "sk-", "glpat-",
        "https://", "://", "user:", "@", "password", "PASSWORD", "passwd", "secret", "client-key-data", "private_key", "api-key",
        "access_key", ": ", "=", "\n", " ", "\t", "-", "_", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP",
        "\u212Aey", "to\u212Aen", "\u017Fecret", "é", "rt_01M987HHG1NF3FH4FKF04D83H5", "running", "2026-12-07T14:45:49Z",
    ];

    // One text per pattern that the pattern matches: alone among harmless words, each must be redacted.
    private static readonly string[] s_instances =
    [
        "-----BEGIN CERTIFICATE-----\nMIIB", "eyJabcd.efghi.jk", "Bearer abcdefgh12", "basic dXNlcjpwYXNz", "token abcdefgh1234",
        "ghp_" + new string('a', 36), "gho_" + new string('B', 30), "github_pat_" + new string('c', 30), "AKIA" + new string('Z', 16),
        "xoxb-1234567890", "sk-" + new string('d', 24), "glpat-" + new string('e', 20), "postgres://admin:hunter2@db",
        "password: x", "passwd=x", "DB_PASSWORD=x", "client_secret: x", "token: x", "client-key-data: LS0t", "private_key: x",
        "privatekey = x", "api-key: x", "apikey: x", "api_key: x", "access_key: x", "accesskey=x", "  - 'password': x",
    ];

    private static readonly string[] s_harmless = ["", " ", "\n", "rt_01M98", "running", "2026-12-07", "name: web", "a=b", "é", "\t"];

    private static readonly Gen<string> s_instance = Gen.Select(
        Gen.Int[0, s_harmless.Length - 1].Array[0, 3], Gen.Int[0, s_instances.Length - 1], Gen.Bool.Array[64], Gen.Int[0, s_harmless.Length - 1].Array[0, 3],
        (before, i, upper, after) =>
        {
            // Some case changes: case-sensitive patterns may stop matching, which both paths must agree on.
            var chars = s_instances[i].ToCharArray();
            for (var c = 0; c < chars.Length && c < upper.Length; c++)
            {
                chars[c] = upper[c] && c % 3 == 0 ? char.ToUpperInvariant(chars[c]) : chars[c];
            }

            return string.Concat(before.Select(b => s_harmless[b])) + new string(chars) + string.Concat(after.Select(a => s_harmless[a]));
        });

    private static readonly Gen<string> s_text = Gen.Frequency(
        (3, s_instance),
        (3, Gen.Int[0, s_pieces.Length - 1].Array[0, 12].Select(ix => string.Concat(ix.Select(i => s_pieces[i])))),
        (1, Gen.String[Gen.Char["aeiklnoprstyzABEIKJ_-:=/@. \n"], 0, 80]),
        (1, Gen.String));

    [Fact]
    public void EveryPatternInstance_IsRedactedAlone()
    {
        foreach (var instance in s_instances)
        {
            Assert.NotEqual(instance, SecretRedactor.RedactText(instance));
        }
    }

    [Fact]
    public void RedactText_WithThePreCheck_EqualsEveryPatternApplied()
    {
        s_text.Sample(text => Assert.Equal(SecretRedactor.ApplyPatterns(text), SecretRedactor.RedactText(text)), iter: 20_000);
    }

    [Theory]
    [InlineData("rt_01M987HHG1NF3FH4FKF04D83H5", false)]
    [InlineData("running", false)]
    [InlineData("2026-12-07T14:45:49.2782734+00:00", false)]
    [InlineData("", false)]
    [InlineData("see https://u:p@host", true)]
    [InlineData("Bearer abcdefgh12345", true)]
    [InlineData("client-\u212Aey-data: x", true)]
    public void MayHoldSecret_SkipsOnlyTextNoPatternCanMatch(string text, bool mayHold)
    {
        Assert.Equal(mayHold, SecretRedactor.MayHoldSecret(text));
    }
}
