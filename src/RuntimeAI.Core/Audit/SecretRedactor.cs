using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RuntimeAI.Core.Audit;

/// <summary>
/// Replaces secrets in JSON trees and text with <see cref="Redacted"/>, so they never reach tool
/// output, the audit trail or logs. Two nets: by key name (password, token, secret, key,
/// kubeconfig, authorization, client-key-data, ...; the whole value goes, whatever its type) and
/// by value shape anywhere in a string (PEM blocks, bearer/basic credentials, JWTs, well-known
/// token formats, credentials in URLs, secret lines of a pasted kubeconfig). The data of a
/// Kubernetes Secret object is redacted as a whole. Thread-safe and pure.
/// </summary>
/// <remarks>
/// Redaction is deliberately greedy: a key such as <c>ssh_key</c> or <c>apiKey</c> is redacted even
/// when its value looks harmless. A few well-known non-secret names that contain a secret word
/// (<c>idempotency_key</c>, <c>page_token</c>, <c>next_page_token</c>, <c>public_key</c>,
/// <c>key_id</c>, <c>token_type</c>) are kept because the audit trail needs them.
/// </remarks>
public static partial class SecretRedactor
{
    /// <summary>The replacement text.</summary>
    public const string Redacted = "[REDACTED]";

    private static readonly HashSet<string> s_secretWords = new(StringComparer.Ordinal)
    {
        "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "tokens", "key", "keys",
        "apikey", "privatekey", "kubeconfig", "authorization", "auth", "credential", "credentials",
        "cookie", "cookies", "session", "sessionid", "signature", "otp", "pin", "bearer",
    };

    private static readonly HashSet<string> s_keepNames = new(StringComparer.Ordinal)
    {
        "idempotencykey", "pagetoken", "nextpagetoken", "publickey", "keyid", "tokentype",
        "sortkey", "authtype", "secretname", "secretref", "tokenexpiry", "expiresin",
    };

    /// <summary>
    /// Literal fragments (compared ignoring ASCII case) of which every value-shape pattern below needs
    /// at least one (JWTs and credentials in URLs: see <see cref="MayHoldSecret"/>): an ASCII text
    /// with none of them cannot match any pattern, so it skips the six
    /// regex passes (most strings of a tool result are ids, names, states and timestamps). Non-ASCII
    /// text always takes the regexes: case-insensitive regex matching knows equivalences (the Kelvin
    /// sign for k) that an ordinal comparison does not. Keep in step with the patterns.
    /// </summary>
    private static readonly SearchValues<string> s_patternFragments = SearchValues.Create(
        [
            "-----BEGIN", // PEM
            "bearer", "basic", "token", // Authorization schemes; "token" also covers secret lines
            "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "AKIA", "xox", "sk-", "glpat-", // known token formats
            "passw", "secret", "client-key-data", "private", "api", "access", // secret-named lines
        ],
        StringComparison.OrdinalIgnoreCase);

    /// <summary>Answers of <see cref="IsSecretName"/> for names seen before; bounded in count and name length, as names can come from the infrastructure.</summary>
    private static readonly ConcurrentDictionary<string, bool> s_nameVerdicts = new(StringComparer.Ordinal);

    private const int NameVerdictCapacity = 4096;

    /// <summary>True when a member with this name holds a secret (the name is split into words on separators and camelCase).</summary>
    /// <param name="name">A JSON member name, header name or label key.</param>
    /// <returns>Whether its value must be redacted.</returns>
    public static bool IsSecretName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (s_nameVerdicts.TryGetValue(name, out var known))
        {
            return known;
        }

        var verdict = JudgeName(name);
        if (name.Length <= 64 && s_nameVerdicts.Count < NameVerdictCapacity)
        {
            s_nameVerdicts.TryAdd(name, verdict);
        }

        return verdict;
    }

    private static bool JudgeName(string name)
    {
        var words = Words(name);
        if (words.Count == 0 || s_keepNames.Contains(string.Concat(words)))
        {
            return false;
        }

        // client-key-data, client_secret, x-api-key, aws_secret_access_key, privateKey, ...
        return words.Any(s_secretWords.Contains) || s_secretWords.Contains(string.Concat(words));
    }

    /// <summary>A redacted deep copy of a JSON tree; the input is not changed.</summary>
    /// <param name="node">The tree (object, array or value), or null.</param>
    /// <returns>The redacted copy.</returns>
    public static JsonNode? Redact(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => RedactObject(obj),
        JsonArray array => new JsonArray(array.Select(Redact).ToArray()),
        JsonValue value when value.GetValueKind() == JsonValueKind.String => JsonValue.Create(RedactText(value.GetValue<string>())),
        _ => node.DeepClone(),
    };

    /// <summary>
    /// <paramref name="node"/> itself when nothing in it would be redacted, else its redacted copy
    /// (<see cref="Redact(JsonNode?)"/>). For a result that is only read (serialized) afterwards: most
    /// tool results hold no secret, and copying every node of them cost more than looking at them.
    /// The caller must not change the returned tree, which may be the input.
    /// </summary>
    /// <param name="node">The tree, or null.</param>
    /// <returns>The same tree, or the redacted copy.</returns>
    public static JsonNode? RedactedOrSame(JsonNode? node) => NeedsRedaction(node) ? Redact(node) : node;

    /// <summary>True when <see cref="Redact(JsonNode?)"/> may change something in the tree (the same tests, without the copy).</summary>
    private static bool NeedsRedaction(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var isKubernetesSecret = IsKubernetesSecret(obj);
                foreach (var (name, value) in obj)
                {
                    if (HidesWholeValue(name, value, isKubernetesSecret) || NeedsRedaction(value))
                    {
                        return true;
                    }
                }

                return false;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (NeedsRedaction(item))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return MayHoldSecret(value.GetValue<string>());
            default:
                return false;
        }
    }

    /// <summary>True when a member's whole value goes: a secret name, or the data of a Kubernetes Secret.</summary>
    private static bool HidesWholeValue(string name, JsonNode? value, bool isKubernetesSecret) =>
        value is not null && (IsSecretName(name) || (isKubernetesSecret && name is "data" or "stringData"));

    private static bool IsKubernetesSecret(JsonObject obj) =>
        obj["kind"] is JsonValue kind && kind.GetValueKind() == JsonValueKind.String && kind.GetValue<string>() == "Secret";

    /// <summary>A redacted deep copy of a JSON object (e.g. tool arguments for the audit record).</summary>
    /// <param name="obj">The object, or null.</param>
    /// <returns>The redacted copy, or null.</returns>
    public static JsonObject? Redact(JsonObject? obj) => obj is null ? null : RedactObject(obj);

    /// <summary>Redacts secret-shaped parts of free text (log lines, error messages, console output).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The text with secrets replaced by <see cref="Redacted"/>.</returns>
    public static string RedactText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return MayHoldSecret(text) ? ApplyPatterns(text) : text;
    }

    /// <summary>False only when no value-shape pattern can match the text (see <see cref="s_patternFragments"/>).</summary>
    /// <remarks>
    /// Two patterns need a second character after their fragment: credentials in a URL an "@" after
    /// "://", a JWT a "." after "eyJ". The URIs results are full of (<c>qemu:///system</c>, a
    /// cluster's <c>https://</c> address) and the page tokens (base64 JSON, "eyJ…") have neither.
    /// </remarks>
    internal static bool MayHoldSecret(ReadOnlySpan<char> text) =>
        !text.IsEmpty && (!Ascii.IsValid(text) || text.IndexOfAny(s_patternFragments) >= 0
                          || FragmentFollowedBy(text, "://", '@') || FragmentFollowedBy(text, "eyJ", '.'));

    private static bool FragmentFollowedBy(ReadOnlySpan<char> text, string fragment, char next)
    {
        // The first occurrence decides: a later one has less text after it.
        var at = text.IndexOf(fragment, StringComparison.OrdinalIgnoreCase);
        return at >= 0 && text[(at + fragment.Length)..].Contains(next);
    }

    /// <summary>Every value-shape pattern over the text, in order (what <see cref="RedactText"/> does when the text may hold a secret).</summary>
    internal static string ApplyPatterns(string text)
    {
        var result = PemRegex().Replace(text, Redacted);
        result = JwtRegex().Replace(result, Redacted);
        result = AuthSchemeRegex().Replace(result, m => m.Groups["scheme"].Value + " " + Redacted);
        result = KnownTokenRegex().Replace(result, Redacted);
        result = UrlCredentialRegex().Replace(result, m => m.Groups["prefix"].Value + Redacted + "@");
        result = SecretLineRegex().Replace(result, m => m.Groups["prefix"].Value + Redacted);
        return result;
    }

    private static JsonObject RedactObject(JsonObject obj)
    {
        var isKubernetesSecret = IsKubernetesSecret(obj);
        var copy = new JsonObject();
        foreach (var (name, value) in obj)
        {
            if (HidesWholeValue(name, value, isKubernetesSecret))
            {
                copy[name] = isKubernetesSecret && value is JsonObject data ? RedactAllValues(data) : Redacted;
            }
            else
            {
                copy[name] = Redact(value);
            }
        }

        return copy;
    }

    private static JsonObject RedactAllValues(JsonObject data)
    {
        // Keep the keys of a Secret (which entries exist is useful); drop every value.
        var copy = new JsonObject();
        foreach (var (name, _) in data)
        {
            copy[name] = Redacted;
        }

        return copy;
    }

    private static List<string> Words(string name)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!char.IsLetterOrDigit(c))
            {
                Flush();
                continue;
            }

            // camelCase boundary: apiKey -> api, key; but keep runs of capitals (APIKey -> api, key).
            if (char.IsUpper(c) && current.Length > 0
                && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
            {
                Flush();
            }

            current.Append(char.ToLowerInvariant(c));
        }

        Flush();
        return words;

        void Flush()
        {
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
    }

    [GeneratedRegex(@"-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex PemRegex();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex JwtRegex();

    [GeneratedRegex(@"\b(?<scheme>[Bb]earer|[Bb]asic|[Tt]oken)\s+(?!\[REDACTED\])[A-Za-z0-9\-._~+/]{8,}=*", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex AuthSchemeRegex();

    [GeneratedRegex(@"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|glpat-[A-Za-z0-9_-]{20,})\b", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex KnownTokenRegex();

    [GeneratedRegex(@"(?<prefix>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex UrlCredentialRegex();

    // YAML/ini/env lines of secret-named keys, e.g. a kubeconfig pasted as text:
    // "    client-key-data: LS0t..." or "password = hunter2" or "DB_PASSWORD=x".
    [GeneratedRegex(@"(?im)(?<prefix>^[ \t-]*[""']?[A-Za-z0-9_.-]*(password|passwd|secret|token|client-key-data|private[_-]?key|api[_-]?key|access[_-]?key)[""']?[ \t]*[:=][ \t]*)(?!\[REDACTED\])(?![ \t]*$)[^\r\n]+", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SecretLineRegex();
}
