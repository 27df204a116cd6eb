using System.Text.Json;
using RuntimeAI.Core.Schema;

namespace RuntimeAI.Core.Tests.Schema;

/// <summary>
/// Runs the official JSON-Schema-Test-Suite cases for the keywords our tool schemas use, through
/// <see cref="JsonSchemaValidator"/> (JsonSchema.Net behind our adapter). The npm package json-schema-test-suite@0.0.10 carries the draft-04 files (the newest
/// drafts are not published to npm); the validator accepts the draft-04 forms, and the few cases
/// where draft-04 and 2020-12 disagree are excluded below with the reason.
/// Fetch the files first: scripts/fetch-json-schema-test-suite.sh
/// </summary>
public sealed class JsonSchemaTestSuiteTests
{
    private const string FetchCommand = "scripts/fetch-json-schema-test-suite.sh";

    /// <summary>Files (under tests/draft4) for the keywords the validator words and our schemas use.</summary>
    private static readonly string[] s_files =
    [
        "type.json", "enum.json", "required.json", "properties.json", "patternProperties.json",
        "additionalProperties.json", "minProperties.json", "maxProperties.json",
        "minimum.json", "maximum.json", "multipleOf.json", "minLength.json", "maxLength.json",
        "pattern.json", "items.json", "minItems.json", "maxItems.json", "uniqueItems.json",
        "allOf.json", "anyOf.json", "oneOf.json", "not.json", "ref.json", "default.json",
        "optional/bignum.json", "optional/format.json", "optional/zeroTerminatedFloats.json",
    ];

    /// <summary>Groups of optional/format.json for the formats we implement; the others are skipped.</summary>
    private static readonly string[] s_formatGroups =
    [
        "validation of date-time strings", "validation of URIs", "validation of e-mail addresses",
    ];

    /// <summary>Cases that are out of scope, keyed "file | group | test" ("*" = whole group).</summary>
    private static readonly Dictionary<string, string> s_excluded = new(StringComparer.Ordinal)
    {
        ["ref.json | remote ref, containing refs itself | *"] =
            "remote $ref (the draft-04 meta-schema over HTTP); only local references are supported, remote ones fail closed",
        ["optional/format.json | validation of URIs | a valid protocol-relative URI"] =
            "draft-04 accepted a URI reference for format uri; draft 6+ (our target) requires a scheme",
        ["optional/zeroTerminatedFloats.json | some languages do not distinguish between different types of numeric value | a float is not an integer even without fractional part"] =
            "draft-04 only; draft 6+ (our target) says 1.0 is an integer",
    };

    public static IEnumerable<object[]> Cases()
    {
        var dir = SuiteDirectory();
        if (dir is null)
        {
            yield return ["(missing)", 0, 0, "", ""];
            yield break;
        }

        foreach (var file in s_files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, file)));
            var gi = -1;
            foreach (var group in doc.RootElement.EnumerateArray())
            {
                gi++;
                var groupName = group.GetProperty("description").GetString()!;
                if (file == "optional/format.json" && !s_formatGroups.Contains(groupName))
                {
                    continue;
                }

                var ti = -1;
                foreach (var test in group.GetProperty("tests").EnumerateArray())
                {
                    ti++;
                    yield return [file, gi, ti, groupName, test.GetProperty("description").GetString()!];
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SuiteCase_MatchesExpectedValidity(string file, int groupIndex, int testIndex, string group, string test)
    {
        var dir = SuiteDirectory();
        Assert.True(dir is not null, $"The JSON-Schema-Test-Suite files are missing. Run `{FetchCommand}` from the repository root first.");

        if (s_excluded.TryGetValue($"{file} | {group} | *", out var reason) || s_excluded.TryGetValue($"{file} | {group} | {test}", out reason))
        {
            Assert.Skip($"out of scope: {reason}");
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir!, file)));
        var g = doc.RootElement[groupIndex];
        var t = g.GetProperty("tests")[testIndex];
        var expected = t.GetProperty("valid").GetBoolean();

        var violations = JsonSchemaValidator.Validate(g.GetProperty("schema"), t.GetProperty("data"));

        Assert.True(expected == (violations.Count == 0),
            $"{file} / {group} / {test}: expected {(expected ? "valid" : "invalid")}, got " +
            (violations.Count == 0 ? "valid" : JsonSchemaValidator.Describe(violations)));
    }

    [Fact]
    public void SuiteFiles_ArePresent_AndEveryExclusionStillExists()
    {
        var dir = SuiteDirectory();
        Assert.True(dir is not null, $"The JSON-Schema-Test-Suite files are missing. Run `{FetchCommand}` from the repository root first.");
        var cases = Cases().Select(c => $"{c[0]} | {c[3]} | {c[4]}").ToList();
        Assert.True(cases.Count > 200, $"only {cases.Count} suite cases found");
        foreach (var key in s_excluded.Keys)
        {
            var prefix = key.EndsWith(" | *", StringComparison.Ordinal) ? key[..^1] : key;
            Assert.Contains(cases, c => c.StartsWith(prefix, StringComparison.Ordinal));
        }
    }

    private static string? SuiteDirectory()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "RuntimeAI.Mcp.sln")))
            {
                var suite = Path.Combine(d.FullName, ".tools", "json-schema-test-suite", "node_modules", "json-schema-test-suite", "tests", "draft4");
                return File.Exists(Path.Combine(suite, "type.json")) ? suite : null;
            }
        }

        return null;
    }
}
