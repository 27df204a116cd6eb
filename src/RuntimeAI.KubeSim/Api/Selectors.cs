using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Api;

/// <summary>A parsed label selector: equality, set-based (in, notin) and existence requirements.</summary>
internal sealed class LabelSelector
{
    private readonly List<(string Key, string Op, string[] Values)> _requirements = [];

    public static LabelSelector Everything { get; } = new();

    public bool IsEmpty => _requirements.Count == 0;

    /// <summary>Parses the string form used in <c>?labelSelector=</c>.</summary>
    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var term in SplitTerms(text))
        {
            var t = term.Trim();
            if (t.Length == 0)
            {
                continue;
            }

            var inIdx = IndexOfWord(t, " in ");
            var notInIdx = IndexOfWord(t, " notin ");
            if (notInIdx > 0 || inIdx > 0)
            {
                var notIn = notInIdx > 0;
                var idx = notIn ? notInIdx : inIdx;
                var key = t[..idx].Trim();
                var rest = t[(idx + (notIn ? 7 : 4))..].Trim();
                if (!rest.StartsWith('(') || !rest.EndsWith(')'))
                {
                    throw KubeApiException.BadRequest($"unable to parse requirement: invalid label selector \"{text}\"");
                }

                var values = rest[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                selector._requirements.Add((key, notIn ? "notin" : "in", values));
            }
            else if (t.Contains("!=", StringComparison.Ordinal))
            {
                var parts = t.Split("!=", 2);
                selector._requirements.Add((parts[0].Trim(), "!=", [parts[1].Trim()]));
            }
            else if (t.Contains('=', StringComparison.Ordinal))
            {
                var parts = t.Split(t.Contains("==", StringComparison.Ordinal) ? "==" : "=", 2);
                selector._requirements.Add((parts[0].Trim(), "=", [parts[1].Trim()]));
            }
            else if (t.StartsWith('!'))
            {
                selector._requirements.Add((t[1..].Trim(), "!", []));
            }
            else
            {
                selector._requirements.Add((t, "exists", []));
            }
        }

        return selector;
    }

    /// <summary>Builds a selector from the structured form (<c>matchLabels</c>, <c>matchExpressions</c>).</summary>
    public static LabelSelector FromObject(JsonNode? node)
    {
        var selector = new LabelSelector();
        if (node is not JsonObject o)
        {
            return selector;
        }

        foreach (var (k, v) in Json.StringMap(o["matchLabels"]))
        {
            selector._requirements.Add((k, "=", [v]));
        }

        foreach (var e in (o["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = Json.Str(e, "key") ?? string.Empty;
            var values = (e["values"] as JsonArray ?? []).Select(v => Json.Str(v) ?? string.Empty).ToArray();
            var op = Json.Str(e, "operator") switch
            {
                "In" => "in",
                "NotIn" => "notin",
                "Exists" => "exists",
                "DoesNotExist" => "!",
                var other => throw KubeApiException.BadRequest($"unsupported selector operator {other}"),
            };
            selector._requirements.Add((key, op, values));
        }

        return selector;
    }

    /// <summary>A selector that matches a plain label map, as services and older specs use.</summary>
    public static LabelSelector FromMap(IReadOnlyDictionary<string, string> map)
    {
        var selector = new LabelSelector();
        foreach (var (k, v) in map)
        {
            selector._requirements.Add((k, "=", [v]));
        }

        return selector;
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, op, values) in _requirements)
        {
            var has = labels.TryGetValue(key, out var value);
            var ok = op switch
            {
                "=" => has && value == values[0],
                "!=" => !has || value != values[0],
                "in" => has && values.Contains(value),
                "notin" => !has || !values.Contains(value),
                "exists" => has,
                "!" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    public bool Matches(JsonObject obj) => Matches(Json.Labels(obj));

    private static int IndexOfWord(string s, string word) => s.IndexOf(word, StringComparison.Ordinal);

    private static IEnumerable<string> SplitTerms(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }
}

/// <summary>A parsed field selector (<c>metadata.name=x,status.phase!=Running</c>) evaluated against any dotted path.</summary>
internal sealed class FieldSelector
{
    private readonly List<(string Path, bool Equal, string Value)> _terms = [];

    public static FieldSelector Parse(string? text)
    {
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var term in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (term.Contains("!=", StringComparison.Ordinal))
            {
                var p = term.Split("!=", 2);
                selector._terms.Add((p[0].Trim(), false, p[1].Trim()));
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                var p = term.Split(term.Contains("==", StringComparison.Ordinal) ? "==" : "=", 2);
                selector._terms.Add((p[0].Trim(), true, p[1].Trim()));
            }
            else
            {
                throw KubeApiException.BadRequest($"invalid field selector: '{term}'");
            }
        }

        return selector;
    }

    /// <summary>The name an exact <c>metadata.name=</c> term pins, which lets a watch skip unrelated objects early.</summary>
    public string? ExactName => _terms.FirstOrDefault(t => t.Path == "metadata.name" && t.Equal).Value;

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, equal, value) in _terms)
        {
            var actual = Json.Str(obj, path.Split('.')) ?? string.Empty;
            if ((actual == value) != equal)
            {
                return false;
            }
        }

        return true;
    }
}
