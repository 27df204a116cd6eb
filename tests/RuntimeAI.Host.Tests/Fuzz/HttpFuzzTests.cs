using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;

namespace RuntimeAI.Host.Tests.Fuzz;

/// <summary>
/// The real executable over Streamable HTTP on loopback, fed the same generated JSON-RPC messages
/// as <see cref="StdioFuzzTests"/>, one POST each, four clients at a time: every request gets one
/// well-formed JSON-RPC answer with the right code (a body that is not JSON: -32700), nothing
/// leaks, the server stays up and the audit chain verifies. 8,000 requests in CI;
/// RUNTIMEAI_FUZZ_SCALE multiplies the budget.
/// </summary>
public sealed partial class HttpFuzzTests
{
    internal const int CiCases = 8_000;
    private const long BodyLimit = 1024 * 1024;

    [Fact]
    public async Task Http_GeneratedBodies_EveryRequestAnsweredRightlyAndTheAuditChainVerifies()
    {
        var dataDir = TestPaths.NewDataDir();
        string[] runtimeIds;
        var sent = 0;
        string? failure = null;
        await using (var server = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--autonomy", "autonomous", "--policies", TestPolicies.AllowAll()))
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
            var session = await InitializeAsync(http, server.McpEndpoint!);
            var listed = await PostAsync(http, server.McpEndpoint!, session,
                "{\"jsonrpc\":\"2.0\",\"id\":\"rts\",\"method\":\"tools/call\",\"params\":{\"name\":\"list_runtimes\",\"arguments\":{}}}");
            runtimeIds = [.. RuntimeIdRegex().Matches(listed.Body).Select(m => m.Value).Distinct()];
            Assert.NotEmpty(runtimeIds);
            var secrets = JsonRpcFuzz.SecretsOf(dataDir);
            long next = 0;
            var budget = CiCases * JsonRpcFuzz.Scale;
            // A second initialize on a session renegotiates its protocol version (the SDK allows it), after
            // which this client's version header no longer matches: initialize is fuzzed over stdio only.
            await JsonRpcFuzz.Case.Where(c => !c.Template.Contains("\"method\":\"initialize\"", StringComparison.Ordinal)).SampleAsync(async c =>
            {
                if (Volatile.Read(ref failure) is not null)
                {
                    return;
                }

                var n = Interlocked.Increment(ref next);
                var id = n % 2 == 0 ? (2_000_000 + n).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"\"h-{n}\"";
                var body = JsonRpcFuzz.Fill(c, id, runtimeIds[n % runtimeIds.Length]);
                try
                {
                    var answer = await PostAsync(http, server.McpEndpoint!, session, body);
                    Interlocked.Increment(ref sent);
                    Check(c, id, Encoding.UTF8.GetByteCount(body) > BodyLimit, answer, secrets);
                }
                catch (Exception ex) when (ex is Xunit.Sdk.IAssertionException or HttpRequestException or TaskCanceledException)
                {
                    Interlocked.CompareExchange(ref failure, $"{ex.Message}\nafter {sent} requests, for {c}", null);
                }
            }, iter: budget, threads: 4);

            Assert.True(failure is null, failure);
            Assert.True(sent >= budget, $"only {sent} requests were sent");
            Assert.True((await http.GetAsync(new Uri(server.McpEndpoint!, "/healthz"), TestContext.Current.CancellationToken)).IsSuccessStatusCode,
                $"the server stopped answering; stderr: {JsonRpcFuzz.Tail(server.Stderr)}");
        }

        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        Assert.True(code == 0, $"audit verify failed after {sent} fuzzed requests: {JsonRpcFuzz.Tail(stdout + stderr)}");
        TestContext.Current.SendDiagnosticMessage($"HTTP fuzz: {sent} requests, audit chain verified");
    }

    [Fact]
    public async Task Http_BodyThatIsNotJson_GetsParseErrorWithIdNull()
    {
        await using var server = await ServerProcess.StartHttpAsync(TestPaths.NewDataDir());
        using var http = new HttpClient();
        var session = await InitializeAsync(http, server.McpEndpoint!);

        var answer = await PostAsync(http, server.McpEndpoint!, session, "this is not json");

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        var error = Assert.Single(answer.Messages);
        Assert.Null(error["id"]);
        Assert.Equal(JsonRpcFuzz.ParseError, error["error"]!["code"]!.GetValue<int>());
    }

    private static void Check(FuzzCase c, string id, bool oversized, Answer answer, IReadOnlyCollection<string> secrets)
    {
        foreach (var m in answer.Messages)
        {
            JsonRpcFuzz.CheckAnswer(m.ToJsonString(), secrets);
        }

        var what = $"{c} answered HTTP {(int)answer.Status}: {JsonRpcFuzz.Shorten(answer.Body)}";
        Assert.True((int)answer.Status < 500, $"server error for {what}");
        if (oversized)
        {
            // Over the body limit: refused before it is read, as a JSON-RPC error without an id.
            Assert.True(answer.Status == HttpStatusCode.RequestEntityTooLarge && answer.Messages.Count == 1 && answer.Messages[0]["id"] is null, what);
            return;
        }

        switch (c.Expect)
        {
            case Expect.None:
                Assert.True(answer.Messages.Count == 0, $"no answer expected: {what}");
                break;
            case Expect.ReplyOrNull:
                Assert.True(answer.Messages.Count == 1, $"expected one answer to an odd id: {what}");
                break;
            case Expect.NullIdError:
                Assert.True(answer.Messages.Count == 1 && answer.Messages[0]["id"] is null
                    && answer.Messages[0]["error"]?["code"]?.GetValue<int>() == c.Codes[0], $"expected one error {c.Codes[0]} with id null: {what}");
                break;
            default:
                Assert.True(answer.Messages.Count == 1, $"expected one answer: {what}");
                var message = answer.Messages[0];
                var code = message["error"]?["code"]?.GetValue<int>();
                // Over HTTP the SDK refuses a message it cannot read as a whole before it knows the id.
                var idOk = message["id"]?.ToJsonString() == id || (message["id"] is null && code == JsonRpcFuzz.InvalidRequest && c.Codes.Contains(JsonRpcFuzz.InvalidRequest));
                Assert.True(idOk, $"answer with the wrong id (sent {id}): {what}");
                Assert.True(c.Codes.Length == 0 || (code is { } value && c.Codes.Contains(value)), $"expected error {string.Join(" or ", c.Codes)}: {what}");
                break;
        }
    }

    private sealed record Answer(HttpStatusCode Status, string Body, List<JsonObject> Messages, string? SessionId);

    private static async Task<string> InitializeAsync(HttpClient http, Uri endpoint)
    {
        var init = await PostAsync(http, endpoint, null,
            "{\"jsonrpc\":\"2.0\",\"id\":\"init\",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}");
        Assert.True(init.Status == HttpStatusCode.OK && init.SessionId is not null, JsonRpcFuzz.Shorten(init.Body));
        await PostAsync(http, endpoint, init.SessionId, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        return init.SessionId!;
    }

    private static async Task<Answer> PostAsync(HttpClient http, Uri endpoint, string? session, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, new UTF8Encoding(false), "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (session is not null)
        {
            request.Headers.Add("Mcp-Session-Id", session);
            request.Headers.Add("MCP-Protocol-Version", "2025-06-18");
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var messages = new List<JsonObject>();
        var payloads = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
            ? text.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].Trim())
            : text.Length > 0 ? [text] : [];
        foreach (var payload in payloads)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(payload) as JsonObject;
            Assert.True(node is not null, $"an HTTP answer is not a JSON object: {JsonRpcFuzz.Shorten(payload)}");
            // Requests and notifications the server sends on the stream are not answers.
            if (!node.ContainsKey("method"))
            {
                messages.Add(node);
            }
        }

        var sessionId = response.Headers.TryGetValues("Mcp-Session-Id", out var values) ? values.FirstOrDefault() : null;
        return new Answer(response.StatusCode, text, messages, sessionId);
    }

    [GeneratedRegex("rt_[0-9A-Za-z]{10,}")]
    private static partial Regex RuntimeIdRegex();
}
