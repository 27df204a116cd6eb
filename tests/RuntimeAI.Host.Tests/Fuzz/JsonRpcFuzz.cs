using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Host.Tests.Fuzz;

/// <summary>What a client must observe for one fuzzed line.</summary>
internal enum Expect
{
    /// <summary>Exactly one answer, carrying the request's id.</summary>
    Reply,

    /// <summary>Exactly one error answer with id null (the id could not be read).</summary>
    NullIdError,

    /// <summary>No answer (a notification, or a response the client sent).</summary>
    None,

    /// <summary>Exactly one answer, with the odd id echoed or with id null.</summary>
    ReplyOrNull,
}

/// <summary>
/// One generated JSON-RPC line. <see cref="Template"/> holds <see cref="IdSlot"/> where the
/// runner puts a fresh request id, and <see cref="RuntimeSlot"/> where it puts a real runtime id.
/// <see cref="Codes"/> are the error codes allowed in the answer (empty: any but internal error;
/// a result is then also fine).
/// </summary>
internal sealed record FuzzCase(string Kind, string Template, Expect Expect, int[] Codes)
{
    public const string IdSlot = "\u0001ID\u0001";
    public const string RuntimeSlot = "rt_\u0001RT\u0001";

    /// <summary>ASCII only: control characters and lone surrogates in a test message break the test runner's report.</summary>
    public override string ToString() => $"{Kind}: {JsonRpcFuzz.Shorten(Template)}";
}

/// <summary>
/// CsCheck generators of JSON-RPC lines for the server's boundary, and the checks every answer
/// must pass. The lines cover malformed JSON, wrong shapes, deep nesting, huge values, unknown
/// fields, unicode edge cases, out-of-range numbers and arguments that are not objects, for every
/// tool of the catalog (its own property names with values of every kind).
/// </summary>
internal static partial class JsonRpcFuzz
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;

    /// <summary>The CI budget is multiplied by RUNTIMEAI_FUZZ_SCALE (e.g. 50 for a long run).</summary>
    public static int Scale { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("RUNTIMEAI_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;

    private static readonly string[] ToolNames = [.. ToolCatalog.All.Select(t => t.Name)];

    private static readonly Dictionary<string, string[]> ToolProperties = ToolCatalog.All.ToDictionary(
        t => t.Name,
        t => t.InputSchema["properties"] is JsonObject p ? [.. p.Select(kv => kv.Key)] : Array.Empty<string>());

    private static readonly string[] EnumStrings = [.. ToolCatalog.All
        .SelectMany(t => Descendants(t.InputSchema))
        .OfType<JsonObject>()
        .Where(o => o["enum"] is JsonArray)
        .SelectMany(o => o["enum"]!.AsArray().Select(v => v?.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null))
        .OfType<string>()
        .Distinct()];

    private static readonly string[] Methods =
    [
        "tools/list", "ping", "resources/list", "resources/read", "resources/templates/list", "prompts/list", "prompts/get",
        "logging/setLevel", "completion/complete", "resources/subscribe", "initialize", "tools/call", "no/such/method", "",
    ];

    private static readonly string[] NotificationMethods =
    [
        "notifications/initialized", "notifications/roots/list_changed", "notifications/progress", "notifications/no_such", "tools/list",
    ];

    private static readonly string[] Edgy =
    [
        "", " ", "\u0000", "\ud800", "\udfff", "\ud83d\ude00", "\u202e\u202d", "\u200b", "\ufeff", "e\u0301\u0301\u0301", "\uffff",
        "../../etc/passwd", "'; DROP TABLE audit;--", "${jndi:ldap://x}", "%s%n%x", "<script>", "\\", "\"", "rt_", "op_", "prp_",
        "rt_00000000000000000000000000", "nano", "2xlarge", "vm", "vcluster", "\t\r\n", "ＡＢＣ", "null", "true", "0", "-1",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "1.5", "1e400", "-1e400", "1e-400", "123456789012345678901234567890", "9007199254740993",
        "2147483648", "-2147483649", "9223372036854775808", "0.0000001", "1E2", "200", "201", "100000",
    ];

    /// <summary>A JSON scalar as text, never huge.</summary>
    private static readonly Gen<string> SmallScalar = Gen.Frequency(
        (1, Gen.OneOf("null", "true", "false")),
        (3, Gen.OneOf(Numbers)),
        (2, Gen.Long.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture))),
        (3, Gen.OneOf(Edgy).Select(Quote)),
        (2, Gen.OneOf(EnumStrings.Length == 0 ? ["x"] : EnumStrings).Select(Quote)),
        (2, Gen.String.Select(Quote)),
        (1, Gen.Char.Array[0, 40].Select(c => Quote(new string(c)))),
        (1, Gen.Const(Quote(FuzzCase.RuntimeSlot))));

    /// <summary>A JSON scalar as text, now and then a huge string.</summary>
    private static readonly Gen<string> Scalar = Gen.Frequency(
        (30, SmallScalar),
        (1, Gen.Int[1_000, 100_000].Select(n => Quote(new string('a', n)))),
        (1, Gen.Int[100, 5_000].Select(n => Quote(string.Concat(Enumerable.Repeat("\ud83d\ude00\u0000\"", n))))));

    /// <summary>Any JSON value as text, nested up to a few levels.</summary>
    private static readonly Gen<string> Value = Gen.Recursive<string>((depth, self) => depth >= 3
        ? Scalar
        : Gen.Frequency(
            (5, Scalar),
            (1, self.Array[0, 5].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(Gen.OneOf(Edgy), self).Array[0, 5].Select(Object))));

    /// <summary>Nesting deeper than any reader limit: arrays, objects or both.</summary>
    private static readonly Gen<string> Deep = Gen.Select(Gen.Int[65, 5_000], Gen.Int[0, 2]).Select((depth, shape) => shape switch
    {
        0 => new string('[', depth) + new string(']', depth),
        1 => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth),
        _ => string.Concat(Enumerable.Repeat("[{\"a\":", depth)) + "1" + string.Concat(Enumerable.Repeat("}]", depth)),
    });

    /// <summary>A tool's arguments object: its own property names (and unknown ones, and repeats) with values of every kind.</summary>
    private static Gen<string> ArgumentsFor(string tool)
    {
        var names = ToolProperties.TryGetValue(tool, out var p) && p.Length > 0 ? p : ["x"];
        var key = Gen.Frequency((8, Gen.OneOf(names)), (1, Gen.OneOf(Edgy)), (1, Gen.String[0, 20]));
        var value = Gen.Frequency((6, Value), (1, Deep), (1, ActionsArray));
        return Gen.Select(key, value).Array[0, 6].Select(Object);
    }

    /// <summary>Lists of action-shaped objects for execute_actions, from a few to a thousand.</summary>
    private static readonly Gen<string> ActionsArray = Gen.Select(Gen.Int[0, 1_000], Gen.OneOf("snapshot", "scale", "stop", "start", "restore", "explode", ""), SmallScalar)
        .Select((n, type, param) => "[" + string.Join(",", Enumerable.Repeat($"{{\"type\":{Quote(type)},\"params\":{{\"x\":{param}}}}}", n)) + "]");

    private static Gen<FuzzCase> ToolCall { get; } = Gen.Frequency((9, Gen.OneOf(ToolNames)), (1, Gen.OneOf(Edgy)))
        .SelectMany(name => ArgumentsFor(name).Select(args => new FuzzCase(
            "tools/call " + name, Request("tools/call", $"{{\"name\":{Quote(name)},\"arguments\":{args}}}"), Expect.Reply, [])));

    private static Gen<FuzzCase> ArgumentsNotObject { get; } = Gen.Select(Gen.OneOf(ToolNames), Gen.Frequency((3, Scalar.Where(s => s != "null")), (1, Value.Where(v => v.StartsWith('[')))))
        .Select((name, args) => new FuzzCase("arguments not an object", Request("tools/call", $"{{\"name\":{Quote(name)},\"arguments\":{args}}}"), Expect.Reply, [InvalidParams]));

    private static Gen<FuzzCase> ParamsNotObject { get; } = Gen.Select(Gen.OneOf(Methods), Gen.Frequency((3, Scalar.Where(s => s != "null")), (1, Value.Where(v => v.StartsWith('[')))))
        .Select((method, parameters) => new FuzzCase("params not an object", Request(method, parameters), Expect.Reply, [InvalidParams, MethodNotFound]));

    private static Gen<FuzzCase> OtherMethod { get; } = Gen.Select(Gen.OneOf(Methods), Gen.Frequency((1, Gen.Const("")), (4, Gen.Select(Gen.OneOf("name", "uri", "cursor", "level", "ref", "argument", "arguments", "protocolVersion", "capabilities", "clientInfo", "_meta", "x"), Value).Array[0, 5].Select(Object))))
        .Select((method, parameters) => new FuzzCase("method " + method, parameters.Length == 0 ? RequestWithoutParams(method) : Request(method, parameters), Expect.Reply, []));

    private static Gen<FuzzCase> Notification { get; } = Gen.Select(Gen.OneOf(NotificationMethods), Gen.Select(Gen.OneOf("progressToken", "progress", "x", "requestId"), Value).Array[0, 3].Select(Object))
        .Select((method, parameters) => new FuzzCase("notification " + method, $"{{\"jsonrpc\":\"2.0\",\"method\":{Quote(method)},\"params\":{parameters}}}", Expect.None, []));

    private static Gen<FuzzCase> NotJson { get; } = Gen.Frequency(
        (2, Gen.Select(ToolCall, Gen.Double[0, 1]).Select((c, at) => Truncate(c.Template, at))),
        (2, Gen.String[1, 200].Select(s => "#" + s)),
        (1, Gen.OneOf("{", "}", "[", "{\"jsonrpc\":\"2.0\",", "{'jsonrpc':'2.0'}", "{\"a\":1}}", "{\"a\" 1}", "nul", "tru", "01", "+1", ".5", "NaN", "Infinity", "\"unterminated", "{\"a\":1,}", "[1,]", "\ud800", "\u00ff\u00fe", "{\"a\":1} {\"b\":2}")),
        (1, Deep.Select(d => d[..^1])))
        .Select(line => new FuzzCase("not JSON", OneLine(line), Expect.NullIdError, [ParseError]));

    private static Gen<FuzzCase> JsonNotMessage { get; } = Gen.Frequency(
        (2, Scalar),
        (1, Value.Where(v => v.StartsWith('['))),
        (1, Gen.Select(Gen.OneOf("jsonrpc", "params", "foo", "Method", "ID"), Value).Array[0, 4].Select(Object)),
        (1, Gen.OneOf("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"method\":5}", "[]", "{}")))
        .Select(line => new FuzzCase("JSON, not a message", OneLine(line), Expect.NullIdError, [InvalidRequest]));

    private static Gen<FuzzCase> BadRequestWithId { get; } = Gen.Frequency(
        (1, Gen.Const($"{{\"jsonrpc\":\"2.0\",\"id\":{FuzzCase.IdSlot}}}")),
        (1, Scalar.Where(s => !s.StartsWith('"')).Select(m => $"{{\"jsonrpc\":\"2.0\",\"id\":{FuzzCase.IdSlot},\"method\":{m}}}")),
        (2, Deep.Select(d => Request("tools/call", $"{{\"name\":\"list_runtimes\",\"arguments\":{{\"page_token\":{d}}}}}"))),
        (1, Deep.Select(d => Request("ping", $"{{\"x\":{d}}}"))))
        .Select(line => new FuzzCase("bad request with an id", OneLine(line), Expect.Reply, [InvalidRequest, InvalidParams]));

    /// <summary>The id echo texts an odd-id request may be answered with (besides null).</summary>
    private static readonly HashSet<string> OddIdEchoes = new(StringComparer.Ordinal) { "0", "1.5", "1e400", "99999999999999999999", "-1" };

    private static Gen<FuzzCase> OddId { get; } = Gen.OneOf("-0", "1.5", "1e400", "99999999999999999999", "-1", "\"\\ud800\"", "\"\\udfff\\ud800\"", "false", "{}", "[]", "null")
        .Select(id => new FuzzCase("odd id", $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}", Expect.ReplyOrNull, []));

    private static Gen<FuzzCase> ClientResponse { get; } = Gen.OneOf(
            "{\"jsonrpc\":\"2.0\",\"id\":\"never-sent\",\"result\":{}}",
            "{\"jsonrpc\":\"2.0\",\"id\":987654321,\"error\":{\"code\":-1,\"message\":\"x\"}}")
        .Select(line => new FuzzCase("response from the client", line, Expect.None, []));

    /// <summary>Every kind of line, weighted towards tool calls.</summary>
    public static Gen<FuzzCase> Case { get; } = Gen.Frequency(
        (10, ToolCall),
        (2, ArgumentsNotObject),
        (1, ParamsNotObject),
        (3, OtherMethod),
        (1, Notification),
        (2, NotJson),
        (2, JsonNotMessage),
        (1, BadRequestWithId),
        (1, OddId),
        (1, ClientResponse));

    private static string Request(string method, string parameters) =>
        $"{{\"jsonrpc\":\"2.0\",\"id\":{FuzzCase.IdSlot},\"method\":{Quote(method)},\"params\":{parameters}}}";

    private static string RequestWithoutParams(string method) =>
        $"{{\"jsonrpc\":\"2.0\",\"id\":{FuzzCase.IdSlot},\"method\":{Quote(method)}}}";

    private static string Object((string Key, string Value)[] members) =>
        "{" + string.Join(",", members.Select(m => Quote(m.Key) + ":" + m.Value)) + "}";

    private static string Quote(string s) => JsonValue.Create(s).ToJsonString();

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');

    private static string Truncate(string line, double at)
    {
        // A proper prefix of a JSON object is never valid JSON; never cut inside the id slot.
        var cut = Math.Clamp((int)(line.Length * at), 1, line.Length - 1);
        var slot = line.IndexOf(FuzzCase.IdSlot, StringComparison.Ordinal);
        if (slot >= 0 && cut > slot && cut < slot + FuzzCase.IdSlot.Length)
        {
            cut = slot;
        }

        return OneLine(line[..cut]);
    }

    private static IEnumerable<JsonNode?> Descendants(JsonNode? node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(kv => kv.Value),
            JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children)
        {
            foreach (var d in Descendants(child))
            {
                yield return d;
            }
        }
    }

    /// <summary>
    /// Checks one answer line and returns it parsed: a JSON-RPC 2.0 object with either a result or
    /// an error (integer code, message), never an internal error, never a stack trace, exception
    /// type or any of the given secrets.
    /// </summary>
    public static JsonObject CheckAnswer(string line, IReadOnlyCollection<string> secrets)
    {
        var node = JsonNode.Parse(line, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }) as JsonObject;
        Assert.True(node is not null, $"an answer is not a JSON object: {Shorten(line)}");
        Assert.True(node["jsonrpc"]?.GetValue<string>() == "2.0", $"answer without jsonrpc 2.0: {Shorten(line)}");
        Assert.True(node.ContainsKey("id"), $"answer without id: {Shorten(line)}");
        Assert.True(node.ContainsKey("result") ^ node.ContainsKey("error"), $"answer needs exactly one of result and error: {Shorten(line)}");
        if (node["error"] is { } error)
        {
            var code = error["code"]?.GetValue<int>();
            var message = error["message"]?.GetValue<string>();
            Assert.True(code is not null && !string.IsNullOrWhiteSpace(message), $"error without code or message: {Shorten(line)}");
            Assert.True(code != InternalError, $"internal error (an unhandled exception) instead of a named problem: {Shorten(line)}");
        }

        Assert.False(StackTrace().IsMatch(line), $"stack trace or exception type in an answer: {Shorten(line)}");
        foreach (var secret in secrets)
        {
            Assert.False(line.Contains(secret, StringComparison.Ordinal), $"a secret leaked in an answer: {Shorten(line)}");
        }

        return node;
    }

    /// <summary>Checks the answers to one batch against what each case expects.</summary>
    public static void CheckBatch(IReadOnlyList<(FuzzCase Case, string Id)> batch, IReadOnlyList<JsonObject> answers)
    {
        var byId = answers.Where(a => a["id"] is not null).GroupBy(a => a["id"]!.ToJsonString()).ToDictionary(g => g.Key, g => g.ToList());
        var nullIdCodes = answers.Where(a => a["id"] is null).Select(a => a["error"]?["code"]?.GetValue<int>() ?? 0).Order().ToList();
        var problems = new List<string>();
        foreach (var (c, id) in batch.Where(b => b.Case.Expect == Expect.Reply))
        {
            if (!byId.Remove(id, out var mine))
            {
                problems.Add($"no answer to {c} (id {id})");
                continue;
            }

            if (mine.Count != 1)
            {
                problems.Add($"{mine.Count} answers to {c}");
            }

            var code = mine[0]["error"]?["code"]?.GetValue<int>();
            if (c.Codes.Length > 0 && !(code is { } value && c.Codes.Contains(value)))
            {
                problems.Add($"expected error {string.Join(" or ", c.Codes)} for {c}, got {Shorten(mine[0].ToJsonString())}");
            }
        }

        // Odd ids: each gets one answer, echoing the id or with id null.
        var odd = batch.Count(b => b.Case.Expect == Expect.ReplyOrNull);
        var oddEchoed = 0;
        foreach (var echo in OddIdEchoes)
        {
            if (byId.Remove(echo, out var echoed))
            {
                oddEchoed += echoed.Count;
            }
        }

        foreach (var (id, unexpected) in byId)
        {
            var to = batch.FirstOrDefault(b => b.Id == id).Case;
            problems.Add($"answer to {(to is null ? "an id never sent" : to.ToString())} (id {Shorten(id)}), which expects none: {Shorten(unexpected[0].ToJsonString())}");
        }

        var expectedNull = batch.Where(b => b.Case.Expect == Expect.NullIdError).Select(b => b.Case).ToList();
        var expectedCodes = expectedNull.Select(c => c.Codes[0]).Concat(Enumerable.Repeat(InvalidRequest, Math.Max(0, odd - oddEchoed))).Order().ToList();
        if (oddEchoed > odd)
        {
            problems.Add($"{oddEchoed} answers echo an odd id, for {odd} odd-id requests");
        }

        if (!expectedCodes.SequenceEqual(nullIdCodes))
        {
            problems.Add($"id-null errors: expected [{string.Join(",", expectedCodes)}], got [{string.Join(",", nullIdCodes)}] for: {string.Join(" | ", expectedNull)}; " +
                         $"answers: {Shorten(string.Join(" | ", answers.Where(a => a["id"] is null).Select(a => a.ToJsonString())))}");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The line to send, with a fresh id and a real runtime id in their slots.</summary>
    public static string Fill(FuzzCase c, string id, string runtimeId) =>
        c.Template.Replace(FuzzCase.IdSlot, id, StringComparison.Ordinal).Replace(FuzzCase.RuntimeSlot, runtimeId, StringComparison.Ordinal);

    /// <summary>Secrets of a data dir that no answer may contain (the MRTR key, in every common encoding).</summary>
    public static List<string> SecretsOf(string dataDir)
    {
        var secrets = new List<string>();
        foreach (var file in Directory.EnumerateFiles(dataDir, "*.key", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            secrets.Add(Convert.ToBase64String(bytes));
            secrets.Add(Convert.ToHexString(bytes));
            secrets.Add(Convert.ToHexStringLower(bytes));
            var text = Encoding.UTF8.GetString(bytes).Trim();
            if (text.Length >= 16)
            {
                secrets.Add(text);
            }
        }

        return secrets;
    }

    /// <summary>The last 2,000 characters, as an ASCII JSON string.</summary>
    public static string Tail(string s) => Quote(s.Length > 2_000 ? "..." + s[^2_000..] : s);

    /// <summary>At most 500 characters, as an ASCII JSON string (safe in any test report).</summary>
    public static string Shorten(string s) => Quote(s.Length > 500 ? s[..500] + "..." : s);

    [GeneratedRegex(@"(\bat [A-Za-z_][\w.`<>]*\(|\b[A-Z]\w*Exception\b|\.cs:line \d)")]
    private static partial Regex StackTrace();
}
