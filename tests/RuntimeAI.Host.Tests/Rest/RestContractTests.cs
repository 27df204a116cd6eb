using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using YamlDotNet.RepresentationModel;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// The REST API held against the brief's OpenAPI document (tests/RuntimeAI.Host.Tests/Rest/brief-openapi.yaml):
/// the generated /v1/openapi.json has every path, method, parameter, request and response schema of
/// the brief, compatibly (ours may add); and real answers of a scripted session validate against
/// the brief's component schemas with JsonSchema.Net (OpenAPI 3.1 schemas are JSON Schema 2020-12;
/// the brief's 3.0-style <c>nullable: true</c> is read as a "null" type).
/// </summary>
public sealed class RestContractTests(RestServer server) : IClassFixture<RestServer>
{
    private static readonly JsonObject s_brief = Brief();

    private static JsonObject Brief()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(TestPaths.RepoRoot, "tests", "RuntimeAI.Host.Tests", "Rest", "brief-openapi.yaml"));
        yaml.Load(reader);
        return (JsonObject)ToJson(yaml.Documents[0].RootNode)!;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, ToJson(p.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } scalar => scalar.Value switch
        {
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            "null" or "~" => null,
            var v when long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && v!.Count(c => c == '.') <= 1 => JsonValue.Create(d),
            var v => JsonValue.Create(v),
        },
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };

    [Fact]
    public async Task OpenApiDocument_HasEveryPathMethodParameterAndSchemaOfTheBrief()
    {
        var served = await server.GetAsync("/openapi.json", null);
        Assert.Equal(HttpStatusCode.OK, served.Status);
        var ours = (JsonObject)served.Json!;
        Served = ours;
        Assert.StartsWith("3.1", ours["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("/v1", ours["servers"]![0]!["url"]!.GetValue<string>());
        var problems = new List<string>();

        foreach (var (path, item) in s_brief["paths"]!.AsObject())
        {
            foreach (var (method, briefOp) in item!.AsObject())
            {
                var op = ours["paths"]?[path]?[method];
                if (op is null)
                {
                    problems.Add($"{method.ToUpperInvariant()} {path}: missing");
                    continue;
                }

                var where = $"{method.ToUpperInvariant()} {path}";
                if (briefOp!["operationId"]?.GetValue<string>() is { } operationId && op["operationId"]?.GetValue<string>() != operationId)
                {
                    problems.Add($"{where}: operationId {op["operationId"]} (brief {operationId})");
                }

                foreach (var parameter in briefOp["parameters"]?.AsArray() ?? [])
                {
                    var p = Resolve(s_brief, parameter!)!;
                    var name = p["name"]!.GetValue<string>();
                    var ourParameter = op["parameters"]?.AsArray().Select(x => Resolve(ours, x!)).FirstOrDefault(x => x?["name"]?.GetValue<string>() == name && x["in"]?.GetValue<string>() == p["in"]!.GetValue<string>());
                    if (ourParameter is null)
                    {
                        problems.Add($"{where}: parameter {name} in {p["in"]} missing");
                        continue;
                    }

                    Compatible(p["schema"]!, ourParameter["schema"], request: true, $"{where} parameter {name}", problems);
                }

                if (briefOp["requestBody"]?["content"]?["application/json"]?["schema"] is { } requestSchema)
                {
                    Compatible(requestSchema, op["requestBody"]?["content"]?["application/json"]?["schema"], request: true, $"{where} request body", problems);
                }

                foreach (var (status, response) in briefOp["responses"]!.AsObject())
                {
                    if (op["responses"]?[status] is not { } ourResponse)
                    {
                        problems.Add($"{where}: response {status} missing");
                        continue;
                    }

                    if (response!["content"]?["application/json"]?["schema"] is { } responseSchema)
                    {
                        Compatible(responseSchema, ourResponse["content"]?["application/json"]?["schema"], request: false, $"{where} response {status}", problems);
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>
    /// Ours is compatible with the brief's schema: the same type, every brief property (recursively),
    /// enums that accept every brief value (requests) or stay within them (responses), and required
    /// members no stricter (requests) or no looser (responses).
    /// </summary>
    private static void Compatible(JsonNode brief, JsonNode? ours, bool request, string where, List<string> problems, int depth = 0)
    {
        if (depth > 8)
        {
            return;
        }

        var b = Resolve(s_brief, brief)!;
        var o = NonNull(Resolve(Served!, ours));
        if (o is null)
        {
            problems.Add($"{where}: no schema");
            return;
        }

        var briefType = b["type"]?.GetValue<string>() ?? (b["properties"] is not null ? "object" : null);
        var ourTypes = Types(o);
        if (briefType is not null && ourTypes.Count > 0 && !ourTypes.Contains(briefType) && !(briefType == "number" && ourTypes.Contains("integer")))
        {
            problems.Add($"{where}: type {string.Join("|", ourTypes)} (brief {briefType})");
        }

        if (b["enum"] is JsonArray briefEnum)
        {
            var ourEnum = o["enum"]?.AsArray().Where(e => e is not null).Select(e => e!.ToString()).ToHashSet() ?? [];
            var briefValues = briefEnum.Where(e => e is not null).Select(e => e!.ToString()).ToHashSet();
            var bad = request ? briefValues.Except(ourEnum) : ourEnum.Except(briefValues);
            if (ourEnum.Count == 0 || bad.Any())
            {
                problems.Add($"{where}: enum [{string.Join(",", ourEnum)}] vs brief [{string.Join(",", briefValues)}]");
            }
        }

        if (b["items"] is { } briefItems)
        {
            Compatible(briefItems, o["items"], request, where + "[]", problems, depth + 1);
        }

        foreach (var (name, property) in b["properties"]?.AsObject() ?? [])
        {
            if (o["properties"]?[name] is not { } ourProperty)
            {
                problems.Add($"{where}: property {name} missing");
                continue;
            }

            Compatible(property!, ourProperty, request, $"{where}.{name}", problems, depth + 1);
        }

        var briefRequired = b["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
        var ourRequired = o["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
        var violations = request ? ourRequired.Except(briefRequired) : briefRequired.Except(ourRequired);
        foreach (var name in violations)
        {
            problems.Add($"{where}: '{name}' is {(request ? "required by us, optional in the brief" : "required by the brief, optional in ours")}");
        }
    }

    private static JsonObject? Served;

    private static HashSet<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonValue v => [v.GetValue<string>()],
        JsonArray a => a.Select(t => t!.GetValue<string>()).Where(t => t != "null").ToHashSet(),
        _ when schema["enum"] is not null => ["string"],
        _ => [],
    };

    /// <summary>The non-null branch of a <c>oneOf [null, X]</c>.</summary>
    private static JsonObject? NonNull(JsonObject? schema) =>
        schema?["oneOf"] is JsonArray branches && branches.Count == 2
            ? Resolve(Served!, branches.First(b => b?["type"]?.ToString() != "null")!)
            : schema;

    private static JsonObject? Resolve(JsonObject document, JsonNode? node)
    {
        for (var hops = 0; node is JsonObject o && o["$ref"]?.GetValue<string>() is { } reference && hops < 10; hops++)
        {
            node = reference.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries).Aggregate((JsonNode?)document, (n, part) => n?[part]);
        }

        return node as JsonObject;
    }

    [Fact]
    public async Task ScriptedSession_EveryAnswer_ValidatesAgainstTheBriefsSchemas()
    {
        Served = (JsonObject)(await server.GetAsync("/openapi.json", null)).Json!;
        var id = await server.CreateVmAsync(server.Operator, "contract-" + Guid.NewGuid().ToString("N")[..6]);
        var checks = new List<(string Schema, RestResponse Response)>
        {
            ("Runtime", await server.PostAsync("/runtimes", server.Operator, """{"name": "contract-new", "type": "vm", "spec": {"size": "small"}}""")),
            ("RuntimeListResponse", await server.GetAsync("/runtimes?page_size=5", server.Operator)),
            ("Runtime", await server.GetAsync($"/runtimes/{id}", server.Operator)),
            ("RuntimeStatus", await server.GetAsync($"/runtimes/{id}/status", server.Operator)),
            ("Operation", await server.PostAsync($"/runtimes/{id}/lifecycle/stop", server.Operator, """{"force": false}""")),
            ("Operation", await server.PostAsync($"/runtimes/{id}/lifecycle/start", server.Operator, """{"reason": "contract"}""")),
            ("Operation", await server.PostAsync($"/runtimes/{id}/lifecycle/scale", server.Operator, """{"size": "medium"}""")),
            ("Operation", await server.PostAsync($"/runtimes/{id}/lifecycle/snapshot", server.Operator, """{"name": "c1", "description": "contract"}""")),
            ("ActionPlan", await server.PostAsync($"/runtimes/{id}/actions/plan", server.Operator, """{"goal": "reduce cost"}""")),
            ("Operation", await server.PostAsync($"/runtimes/{id}/actions/execute", server.Operator, """{"actions": [{"type": "snapshot", "params": {"name": "c2"}}], "idempotency_key": "contract-1"}""")),
            ("PolicyListResponse", await server.GetAsync("/policies", server.Viewer)),
            ("Policy", await server.GetAsync("/policies/rest-tests", server.Viewer)),
        };
        var intent = await server.PostAsync($"/runtimes/{id}/intent", server.Operator, """{"goal": "reduce cost", "dry_run": true}""");
        checks.Add(("IntentResponse", intent));
        checks.Add(("IntentRecord", await server.GetAsync($"/runtimes/{id}/intent/{intent.Json!["intent_id"]}", server.Operator)));
        var operation = checks[4].Response.Json!["id"]!.GetValue<string>();
        checks.Add(("Operation", await server.GetAsync($"/operations/{operation}", server.Viewer)));
        checks.Add(("Operation", await server.SendAsync(HttpMethod.Delete, $"/runtimes/{id}", server.Operator)));
        var created = await server.PostAsync("/policies", server.Admin, """{"name": "contract policy", "tenant_id": null, "rules": [{"kind": "allow_action", "selector": null, "params": null}]}""");
        checks.Add(("Policy", created));

        var failures = new List<string>();
        foreach (var (schema, response) in checks)
        {
            Assert.True((int)response.Status < 300, $"{schema}: {response}");
            var results = Validator(schema).Evaluate(JsonSerializer.SerializeToElement(response.Json), new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!results.IsValid)
            {
                failures.Add($"{schema}: {response.Text}\n  {string.Join("\n  ", (results.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.Equal(HttpStatusCode.NoContent, (await server.SendAsync(HttpMethod.Delete, $"/policies/{created.Json!["id"]}", server.Admin)).Status);
    }

    /// <summary>One brief component schema as a JSON Schema 2020-12 document with every component under $defs.</summary>
    private static JsonSchema Validator(string component)
    {
        var defs = new JsonObject();
        foreach (var (name, schema) in s_brief["components"]!["schemas"]!.AsObject())
        {
            defs[name] = ToJsonSchema(schema!.DeepClone());
        }

        var root = new JsonObject { ["$schema"] = "https://json-schema.org/draft/2020-12/schema", ["$ref"] = $"#/$defs/{component}", ["$defs"] = defs };
        return JsonSchema.Build(JsonSerializer.SerializeToElement(root), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }

    private static JsonNode? ToJsonSchema(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var result = new JsonObject();
                var nullable = o["nullable"] is JsonValue n && n.GetValue<bool>();
                foreach (var (key, value) in o)
                {
                    if (key is "nullable" or "example")
                    {
                        continue;
                    }

                    result[key] = key == "$ref" ? value!.GetValue<string>().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal) : ToJsonSchema(value);
                }

                if (nullable)
                {
                    if (result["type"] is JsonValue t)
                    {
                        result["type"] = new JsonArray(t.GetValue<string>(), "null");
                    }
                    else if (result["$ref"] is not null)
                    {
                        result = new JsonObject { ["anyOf"] = new JsonArray(result, new JsonObject { ["type"] = "null" }) };
                    }
                }

                return result;
            case JsonArray a:
                return new JsonArray(a.Select(ToJsonSchema).ToArray());
            default:
                return node?.DeepClone();
        }
    }
}
