using System.Text.Json.Nodes;
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
    [InlineData("qemu:///system", false)]
    [InlineData("https://10.0.0.1:6443/readyz", false)]
    [InlineData("mailto:ops@example.com", false)]
    [InlineData("https://host/x then ops@example.com", true)]
    [InlineData("eyJvIjo1MH0", false)]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", true)]
    [InlineData("Bearer abcdefgh12345", true)]
    [InlineData("client-\u212Aey-data: x", true)]
    public void MayHoldSecret_SkipsOnlyTextNoPatternCanMatch(string text, bool mayHold)
    {
        Assert.Equal(mayHold, SecretRedactor.MayHoldSecret(text));
    }

    // Member names: harmless ones (most), secret ones, names kept on purpose, and the two a Kubernetes Secret hides.
    private static readonly string[] s_names =
    [
        "id", "name", "state", "items", "spec", "note", "status", "id", "name", "state", "items", "spec",
        "password", "apiKey", "client-key-data", "idempotency_key", "token_type", "secretName", "kind", "data", "stringData",
    ];

    /// <summary>A JSON tree read off a script of numbers: objects, arrays, strings (the texts above, and "Secret"), numbers, booleans, nulls.</summary>
    private static JsonNode? Tree(int[] script, string[] texts, ref int at, int depth)
    {
        var n = script[at++ % script.Length];
        switch (depth >= 4 ? 2 + (n % 4) : n % 6)
        {
            case 0:
                // Some objects are Kubernetes Secrets: their data is hidden whatever it holds.
                var obj = script[at++ % script.Length] % 4 == 0 ? new JsonObject { ["kind"] = "Secret" } : new JsonObject();
                for (var i = 0; i < n / 6 % 5; i++)
                {
                    obj[s_names[script[at++ % script.Length] % s_names.Length]] = Tree(script, texts, ref at, depth + 1);
                }

                return obj;
            case 1:
                var array = new JsonArray();
                for (var i = 0; i < n / 6 % 4; i++)
                {
                    array.Add(Tree(script, texts, ref at, depth + 1));
                }

                return array;
            case 2:
                return n % 7 == 0 ? JsonValue.Create("Secret") : JsonValue.Create(texts[n % texts.Length]);
            case 3:
                return JsonValue.Create(n);
            case 4:
                return JsonValue.Create(n % 2 == 0);
            default:
                return null;
        }
    }

    [Theory]
    [InlineData("""{"id":"rt_1","state":"running","tags":["a","b"],"size":{"vcpus":2}}""", false)]
    [InlineData("""{"id":"rt_1","spec":{"password":"x"}}""", true)]
    [InlineData("""{"items":[{"note":"Bearer abcdefgh12345"}]}""", true)]
    [InlineData("""{"kind":"Secret","data":{"tls.crt":"LS0t"}}""", true)]
    [InlineData("""{"kind":"Secret","stringData":"x"}""", true)]
    [InlineData("""{"kind":"ConfigMap","data":{"a":"b"}}""", false)]
    public void RedactedOrSame_CopiesOnlyWhatHoldsASecret(string json, bool copied)
    {
        var tree = JsonNode.Parse(json);

        var result = SecretRedactor.RedactedOrSame(tree);

        Assert.Equal(copied, !ReferenceEquals(tree, result));
        Assert.Equal(SecretRedactor.Redact(tree)!.ToJsonString(), result!.ToJsonString());
    }

    [Fact]
    public void RedactedOrSame_IsTheInputOnlyWhenRedactingChangesNothing_AndEqualsRedactOtherwise()
    {
        var same = 0;
        var copied = 0;
        Gen.Select(Gen.Int[0, 10_000].Array[1, 60], s_text.Array[1, 8]).Sample((script, texts) =>
        {
            var at = 0;
            var tree = Tree(script, texts, ref at, 0);
            var before = tree?.ToJsonString();
            var redacted = SecretRedactor.Redact(tree)?.ToJsonString();

            var result = SecretRedactor.RedactedOrSame(tree);

            Assert.Equal(redacted, result?.ToJsonString());
            Assert.Equal(before, tree?.ToJsonString()); // the input is never changed
            if (tree is not null && ReferenceEquals(result, tree))
            {
                Assert.Equal(before, redacted); // handed back as is only when there was nothing to redact
                same++;
            }
            else if (tree is not null)
            {
                copied++;
            }
        }, iter: 5_000);

        // Both ways were taken: the generator makes trees with and without secrets.
        Assert.True(same > 100, $"{same} trees came back as they were");
        Assert.True(copied > 100, $"{copied} trees were copied");
    }
}
