using System.Text.Json;
using RuntimeAI.Core.Schema;

namespace RuntimeAI.Core.Tests.Schema;

public sealed class JsonSchemaValidatorTests
{
    private const string ListRuntimesSchema = """
        {
          "type": "object",
          "properties": {
            "runtime_id": { "type": "string", "minLength": 1 },
            "page_size": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 },
            "page_token": { "type": ["string", "null"] },
            "state": { "type": "string", "enum": ["running", "stopped"] },
            "labels": { "type": "object", "additionalProperties": { "type": "string", "maxLength": 3 } },
            "tags": { "type": "array", "items": { "type": "string", "pattern": "^[a-z]+$" }, "maxItems": 2, "uniqueItems": true }
          },
          "required": ["runtime_id"],
          "additionalProperties": false
        }
        """;

    private static IReadOnlyList<SchemaViolation> Validate(string schema, string instance)
    {
        using var s = JsonDocument.Parse(schema);
        using var i = JsonDocument.Parse(instance);
        return JsonSchemaValidator.Validate(s.RootElement, i.RootElement);
    }

    [Fact]
    public void Validate_ValueAboveMaximum_NamesPointerValueAndFix()
    {
        var v = Assert.Single(Validate("""{"properties":{"page_size":{"maximum":200}}}""", """{"page_size":500}"""));
        Assert.Equal("/page_size", v.InstancePointer);
        Assert.Equal("maximum", v.Keyword);
        Assert.StartsWith("/page_size: 500 is greater than the maximum 200", v.Message, StringComparison.Ordinal);
        Assert.Contains("at most 200", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryViolationWithoutShortCircuit()
    {
        var violations = Validate(ListRuntimesSchema, """
            {"page_size": 0, "state": "paused", "labels": {"env": "production", "x/y~z": 5},
             "tags": ["ok", "BAD", "ok"], "extra": true}
            """);

        var found = violations.Select(v => (v.InstancePointer, v.Keyword)).ToHashSet();
        Assert.Contains(("/runtime_id", "required"), found);
        Assert.Contains(("/page_size", "minimum"), found);
        Assert.Contains(("/state", "enum"), found);
        Assert.Contains(("/labels/env", "maxLength"), found);
        Assert.Contains(("/labels/x~1y~0z", "type"), found);
        Assert.Contains(("/tags", "maxItems"), found);
        Assert.Contains(("/tags/1", "pattern"), found);
        Assert.Contains(("/tags/2", "uniqueItems"), found);
        Assert.Contains(("/extra", "additionalProperties"), found);
        Assert.Equal(9, violations.Count);
    }

    [Fact]
    public void Validate_ValidInstance_ReturnsEmpty()
    {
        Assert.Empty(Validate(ListRuntimesSchema, """{"runtime_id":"rt_1","page_size":200,"page_token":null,"tags":["a","b"]}"""));
    }

    [Fact]
    public void Validate_UnknownProperty_ListsAllowedNames()
    {
        var v = Assert.Single(Validate(ListRuntimesSchema, """{"runtime_id":"rt_1","pagesize":5}"""));
        Assert.Equal("/pagesize: the property 'pagesize' is not allowed; remove it or use one of: runtime_id, page_size, page_token, state, labels, tags.", v.Message);
    }

    [Fact]
    public void Validate_MissingRequired_PointsWhereThePropertyBelongs()
    {
        var v = Assert.Single(Validate("""{"required":["runtime_id"]}""", "{}"));
        Assert.Equal("/runtime_id", v.InstancePointer);
        Assert.Equal("/runtime_id: the required property 'runtime_id' is missing; add it.", v.Message);
    }

    [Fact]
    public void Validate_RootTypeMismatch_UsesEmptyPointerAndSaysRoot()
    {
        var v = Assert.Single(Validate("""{"type":"object"}""", "[1]"));
        Assert.Equal("", v.InstancePointer);
        Assert.Equal("(root): expected object but got array an array; send a value of type object.", v.Message);
    }

    [Theory]
    [InlineData("1.0", true)]
    [InlineData("1", true)]
    [InlineData("1.5", false)]
    [InlineData("\"1\"", false)]
    public void Validate_Integer_AcceptsWholeFloats(string instance, bool valid)
        => Assert.Equal(valid, Validate("""{"type":"integer"}""", instance).Count == 0);

    [Theory]
    [InlineData("null", true)]
    [InlineData("\"x\"", true)]
    [InlineData("3", false)]
    public void Validate_TypeArray_ActsAsNullable(string instance, bool valid)
        => Assert.Equal(valid, Validate("""{"type":["string","null"]}""", instance).Count == 0);

    [Fact]
    public void Validate_LengthCountsCodePoints_NotUtf16Units()
    {
        // Two emoji are four UTF-16 code units but two characters.
        Assert.Empty(Validate("""{"maxLength":2,"minLength":2}""", "\"\uD83D\uDE00\uD83D\uDE01\""));
        var v = Assert.Single(Validate("""{"maxLength":1}""", "\"\uD83D\uDE00\uD83D\uDE01\""));
        Assert.Contains("has 2 characters", v.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"exclusiveMinimum":0}""", "0", "exclusiveMinimum")]
    [InlineData("""{"exclusiveMaximum":10}""", "10", "exclusiveMaximum")]
    [InlineData("""{"minimum":0,"exclusiveMinimum":true}""", "0", "exclusiveMinimum")]
    [InlineData("""{"const":"on"}""", "\"off\"", "const")]
    [InlineData("""{"multipleOf":0.5}""", "1.25", "multipleOf")]
    [InlineData("""{"not":{"type":"string"}}""", "\"s\"", "not")]
    [InlineData("""{"minProperties":1}""", "{}", "minProperties")]
    [InlineData("""{"minItems":1}""", "[]", "minItems")]
    [InlineData("false", "1", "false")]
    public void Validate_Keyword_ReportsThatKeyword(string schema, string instance, string keyword)
        => Assert.Equal(keyword, Assert.Single(Validate(schema, instance)).Keyword);

    [Theory]
    [InlineData("date-time", "2026-11-23T18:00:00Z", true)]
    [InlineData("date-time", "2026-11-23T18:00:00.123+05:30", true)]
    [InlineData("date-time", "2026-02-30T18:00:00Z", false)]
    [InlineData("date-time", "2026-11-23 18:00:00", false)]
    [InlineData("date-time", "2026-11-23T24:00:00Z", false)]
    [InlineData("uri", "https://example.com/a?b#c", true)]
    [InlineData("uri", "urn:isbn:0451450523", true)]
    [InlineData("uri", "/relative/path", false)]
    [InlineData("uri", "http://exa mple.com", false)]
    [InlineData("email", "ops@example.com", true)]
    [InlineData("email", "ops@@example.com", false)]
    [InlineData("email", "ops example@example.com", false)]
    [InlineData("uuid", "123e4567-e89b-12d3-a456-426614174000", true)]
    [InlineData("uuid", "123e4567e89b12d3a456426614174000", false)]
    [InlineData("hostname", "not a hostname", true)] // unknown to us: passes, as the spec allows
    public void Validate_Format(string format, string value, bool valid)
    {
        var violations = Validate($$"""{"format":"{{format}}"}""", JsonSerializer.Serialize(value));
        Assert.Equal(valid, violations.Count == 0);
        if (!valid)
        {
            Assert.Contains($"is not a valid {format}; send ", violations[0].Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_FormatOnNonString_Passes()
        => Assert.Empty(Validate("""{"format":"uuid"}""", "12"));

    [Theory]
    [InlineData("#/$defs/size")]
    [InlineData("#/definitions/size")]
    public void Validate_LocalRef_Resolves(string reference)
    {
        var schema = """
            {"$defs":{"size":{"enum":["small","large"]}},"definitions":{"size":{"enum":["small","large"]}},
             "properties":{"size":{"$ref":"REF"}}}
            """.Replace("REF", reference, StringComparison.Ordinal);
        Assert.Empty(Validate(schema, """{"size":"small"}"""));
        var v = Assert.Single(Validate(schema, """{"size":"huge"}"""));
        Assert.Equal(("/size", "enum"), (v.InstancePointer, v.Keyword));
        Assert.Equal("""/size: "huge" is not one of the allowed values; use one of: "small", "large".""", v.Message);
    }

    [Fact]
    public void Validate_RefSiblings_AreAppliedAsIn202012()
    {
        var schema = """{"$defs":{"n":{"type":"integer"}},"$ref":"#/$defs/n","maximum":3}""";
        Assert.Equal("maximum", Assert.Single(Validate(schema, "5")).Keyword);
    }

    [Theory]
    [InlineData("http://example.com/schema.json")]
    [InlineData("#/$defs/missing")]
    [InlineData("#anchor")]
    public void Validate_UnsupportedOrBrokenRef_FailsClosed(string reference)
    {
        var v = Assert.Single(Validate($$"""{"$ref":"{{reference}}"}""", "1"));
        Assert.Equal("$ref", v.Keyword);
        Assert.Contains("cannot be resolved", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RefCycle_ReportsInsteadOfOverflowing()
    {
        var v = Assert.Single(Validate("""{"$ref":"#"}""", "1"));
        Assert.Equal("$ref", v.Keyword);
    }

    [Fact]
    public void Validate_InvalidPattern_FailsClosed()
    {
        var v = Assert.Single(Validate("""{"pattern":"(unclosed"}""", "\"x\""));
        Assert.Contains("not a valid regular expression", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CatastrophicPattern_TimesOutAndFailsClosed()
    {
        var v = Assert.Single(Validate("""{"pattern":"^(a+)+$"}""", JsonSerializer.Serialize(new string('a', 40) + "!")));
        Assert.Equal("pattern", v.Keyword);
    }

    [Fact]
    public void Validate_AnyOfNoMatch_SummarizesEachAlternative()
    {
        var v = Assert.Single(Validate("""{"anyOf":[{"type":"string"},{"type":"integer","minimum":5}]}""", "1"));
        Assert.Equal("anyOf", v.Keyword);
        Assert.Contains("#0: (root): expected string", v.Message, StringComparison.Ordinal);
        Assert.Contains("#1: (root): 1 is less than the minimum 5", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OneOfTwoMatches_SaysWhichMatched()
    {
        var v = Assert.Single(Validate("""{"oneOf":[{"type":"integer"},{"minimum":0}]}""", "3"));
        Assert.Contains("matches shapes #0 and #1", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AllOf_ReportsViolationsOfEveryBranch()
    {
        var violations = Validate("""{"allOf":[{"required":["a"]},{"required":["b"]}]}""", "{}");
        Assert.Equal(["/a", "/b"], violations.Select(v => v.InstancePointer));
    }

    [Fact]
    public void Compile_ValidatorOutlivesTheSchemaDocument_AndIsReusable()
    {
        JsonSchemaValidator validator;
        using (var doc = JsonDocument.Parse("""{"type":"object","required":["x"]}"""))
        {
            validator = JsonSchemaValidator.Compile(doc.RootElement);
        }

        using var ok = JsonDocument.Parse("""{"x":1}""");
        using var bad = JsonDocument.Parse("{}");
        Assert.Empty(validator.Validate(ok.RootElement));
        Assert.Single(validator.Validate(bad.RootElement));
        Parallel.For(0, 100, _ => Assert.Single(validator.Validate(bad.RootElement)));
    }

    [Fact]
    public void Describe_JoinsMessagesOnePerLine()
    {
        var violations = Validate("""{"required":["a","b"]}""", "{}");
        Assert.Equal(
            "/a: the required property 'a' is missing; add it.\n/b: the required property 'b' is missing; add it.",
            JsonSchemaValidator.Describe(violations));
    }

    [Fact]
    public void Validate_SecretNamedProperty_NeverEchoesTheValue()
    {
        var violations = Validate(
            """{"properties":{"password":{"type":"string","pattern":"^[a-z]+$","format":"uuid","enum":["a"]},"api_token":{"type":"integer"}}}""",
            """{"password":"Hunter2-planted","api_token":"tok-planted"}""");
        Assert.Equal(4, violations.Count);
        Assert.All(violations, v => Assert.DoesNotContain("planted", v.Message, StringComparison.Ordinal));
        Assert.Contains("/password: the value does not match the pattern ^[a-z]+$", violations.Select(v => v.Message.Split(';')[0]));
    }

    [Fact]
    public void Validate_PrefixItemsThenItems_AppliesByPosition()
    {
        const string schema = """{"prefixItems":[{"type":"string"},{"type":"integer"}],"items":{"type":"boolean"}}""";
        Assert.Empty(Validate(schema, """["a", 1, true, false]"""));
        var violations = Validate(schema, """[1, "a", 3]""");
        Assert.Equal(["/0", "/1", "/2"], violations.Select(v => v.InstancePointer));
    }
}
