using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Policies;

/// <summary>The outcome of one policy test case.</summary>
/// <param name="File">The test file.</param>
/// <param name="Name">The case name.</param>
/// <param name="Passed">Whether the decision matched the expectation.</param>
/// <param name="Expected">The expected effect.</param>
/// <param name="ExpectedRuleIds">The expected rule ids (compared as a set), or null when the case does not check them.</param>
/// <param name="Actual">The decision the evaluator made.</param>
/// <param name="Message">Empty on success; otherwise what differed.</param>
public sealed record PolicyTestResult(
    string File,
    string Name,
    bool Passed,
    PolicyEffect Expected,
    IReadOnlyList<string>? ExpectedRuleIds,
    PolicyDecision Actual,
    string Message);

/// <summary>The outcome of a policy test run.</summary>
public sealed record PolicyTestReport
{
    /// <summary>One result per case, in file order.</summary>
    public required IReadOnlyList<PolicyTestResult> Results { get; init; }

    /// <summary>Problems in the policy files or the test files (cases that could not be read).</summary>
    public required IReadOnlyList<PolicyLoadError> Errors { get; init; }

    /// <summary>True when there are cases, all pass, and no file had an error.</summary>
    public bool Passed => Errors.Count == 0 && Results.Count > 0 && Results.All(r => r.Passed);

    /// <summary>A plain-text report: one line per case, the errors, and a summary line.</summary>
    /// <returns>The text.</returns>
    public string ToText()
    {
        var sb = new StringBuilder();
        foreach (var r in Results)
        {
            sb.Append(r.Passed ? "PASS " : "FAIL ").Append(r.File).Append(": ").Append(r.Name);
            if (!r.Passed)
            {
                sb.Append(" -- ").Append(r.Message);
            }

            sb.Append('\n');
        }

        foreach (var e in Errors)
        {
            sb.Append("ERROR ").Append(e).Append('\n');
        }

        var passed = Results.Count(r => r.Passed);
        sb.Append(CultureInfo.InvariantCulture, $"{passed}/{Results.Count} cases passed, {Errors.Count} errors: {(Passed ? "OK" : "FAILED")}");
        return sb.ToString();
    }
}

/// <summary>
/// Runs policy test cases (the engine of <c>runtimeai policy test</c>) so a policy author can check
/// rules without a server. A test file (YAML or JSON) holds <c>cases</c>, each with a <c>name</c>,
/// an <c>input</c> and an <c>expect</c> of <c>effect</c>, optional <c>rule_ids</c> (a set) and
/// optional <c>warnings</c> (the rule ids of audit/warn-mode would-be verdicts, a set). See
/// docs/policies.md for the input fields.
/// </summary>
public static class PolicyTestRunner
{
    private static readonly string[] s_caseFields = ["name", "description", "input", "expect"];
    private static readonly string[] s_expectFields = ["effect", "rule_ids", "warnings"];
    private static readonly string[] s_inputFields = ["action", "autonomy", "runtime", "exposure", "egress", "budget"];
    private static readonly string[] s_runtimeFields = ["id", "type", "tenant_id", "labels", "size", "vcpus", "memory", "target_size", "target_vcpus", "target_memory"];
    private static readonly string[] s_budgetFields = ["mutations_in_window", "runtimes_changed_in_window", "runtimes_in_scope", "total_vcpu", "total_memory"];

    /// <summary>Loads the policies of one directory and runs the test files of another.</summary>
    /// <param name="testsDirectory">Directory of test files (.yaml, .yml, .json).</param>
    /// <param name="policiesDirectory">Directory of policy files.</param>
    /// <returns>The report; policy errors are reported and no case runs.</returns>
    public static PolicyTestReport RunDirectory(string testsDirectory, string policiesDirectory)
    {
        var policies = PolicyLoader.LoadDirectory(policiesDirectory);
        if (!policies.Ok)
        {
            return new PolicyTestReport { Results = [], Errors = policies.Errors };
        }

        IReadOnlyList<PolicySource> tests;
        try
        {
            tests = PolicySource.ReadDirectory(testsDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new PolicyTestReport { Results = [], Errors = [new PolicyLoadError(testsDirectory, "", null, ex.Message, "pass the directory that holds the test files")] };
        }

        return Run(policies.CreateEvaluator(), tests);
    }

    /// <summary>Runs the cases of the given test files against an evaluator.</summary>
    /// <param name="evaluator">The compiled policies.</param>
    /// <param name="testSources">Test files.</param>
    /// <returns>The report.</returns>
    public static PolicyTestReport Run(PolicyEvaluator evaluator, IEnumerable<PolicySource> testSources)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(testSources);
        var results = new List<PolicyTestResult>();
        var errors = new List<PolicyLoadError>();
        foreach (var source in testSources)
        {
            var (documents, syntaxError) = PolicyText.Parse(source);
            if (syntaxError is not null)
            {
                errors.Add(new(source.Name, "", null, syntaxError, "fix the syntax"));
                continue;
            }

            var reader = new PolicyLoader.Reader(source.Name, errors);
            foreach (var doc in documents)
            {
                var (cases, path) = doc switch
                {
                    JsonArray a => (a, ""),
                    JsonObject o when o["cases"] is JsonArray a => (a, "/cases"),
                    _ => ((JsonArray?)null, ""),
                };
                if (cases is null)
                {
                    if (doc is not null)
                    {
                        errors.Add(new(source.Name, "", null, "the file holds no 'cases' list", "write cases: [{name, input, expect}]"));
                    }

                    continue;
                }

                for (var i = 0; i < cases.Count; i++)
                {
                    var casePath = $"{path}/{i.ToString(CultureInfo.InvariantCulture)}";
                    if (ReadCase(reader, cases[i], casePath, errors) is { } c)
                    {
                        results.Add(Check(source.Name, c, evaluator.Evaluate(c.Input)));
                    }
                }
            }
        }

        return new PolicyTestReport { Results = results, Errors = errors };
    }

    private static PolicyTestResult Check(string file, TestCase c, PolicyDecision actual)
    {
        var problems = new List<string>();
        if (actual.Effect != c.Effect)
        {
            problems.Add($"expected {PolicyNames.Effect(c.Effect)} but got {PolicyNames.Effect(actual.Effect)}");
        }

        if (c.RuleIds is not null && !SameSet(c.RuleIds, actual.RuleIds))
        {
            problems.Add($"expected rule ids [{string.Join(", ", c.RuleIds)}] but got [{string.Join(", ", actual.RuleIds)}]");
        }

        var warned = actual.Warnings.Select(w => w.RuleId).Distinct().ToArray();
        if (c.Warnings is not null && !SameSet(c.Warnings, warned))
        {
            problems.Add($"expected warnings from [{string.Join(", ", c.Warnings)}] but got [{string.Join(", ", warned)}]");
        }

        if (problems.Count > 0)
        {
            problems.Add("reasons: " + string.Join(" | ", actual.Reasons));
        }

        return new PolicyTestResult(file, c.Name, problems.Count == 0, c.Effect, c.RuleIds, actual, string.Join("; ", problems));
    }

    private static bool SameSet(IReadOnlyList<string> a, IReadOnlyList<string> b)
        => a.ToHashSet(StringComparer.Ordinal).SetEquals(b);

    private sealed record TestCase(string Name, PolicyInput Input, PolicyEffect Effect, IReadOnlyList<string>? RuleIds, IReadOnlyList<string>? Warnings);

    private static TestCase? ReadCase(PolicyLoader.Reader reader, JsonNode? node, string path, List<PolicyLoadError> errors)
    {
        var before = errors.Count;
        if (node is not JsonObject obj)
        {
            reader.Error(path, $"a case must be an object but this is {PolicyLoader.Reader.Kind(node)}", "write {name, input, expect}");
            return null;
        }

        reader.CheckFields(obj, path, s_caseFields, "test case");
        var name = reader.OptionalString(obj, "name", path) ?? $"case {path}";
        reader.OptionalString(obj, "description", path);
        var input = ReadInput(reader, obj["input"], path + "/input");

        PolicyEffect effect = default;
        IReadOnlyList<string>? ruleIds = null, warnings = null;
        if (obj["expect"] is not JsonObject expect)
        {
            reader.Error(path + "/expect", "the case has no 'expect' object", "add expect: {effect: allow|deny|require_approval, rule_ids: [...]}");
        }
        else
        {
            reader.CheckFields(expect, path + "/expect", s_expectFields, "expectation");
            var effectText = reader.OptionalString(expect, "effect", path + "/expect");
            if (!PolicyNames.TryParseEffect(effectText, out effect))
            {
                reader.Error(path + "/expect/effect", effectText is null ? "the expected effect is missing" : $"'{effectText}' is not an effect", $"use one of: {string.Join(", ", PolicyNames.EffectNames)}");
            }

            if (expect.ContainsKey("rule_ids"))
            {
                ruleIds = reader.StringList(expect, "rule_ids", path + "/expect").Select(x => x.Value).ToArray();
            }

            if (expect.ContainsKey("warnings"))
            {
                warnings = reader.StringList(expect, "warnings", path + "/expect").Select(x => x.Value).ToArray();
            }
        }

        return errors.Count > before || input is null ? null : new TestCase(name, input, effect, ruleIds, warnings);
    }

    private static PolicyInput? ReadInput(PolicyLoader.Reader reader, JsonNode? node, string path)
    {
        if (node is not JsonObject obj)
        {
            reader.Error(path, "the case has no 'input' object", "add input: {action, autonomy, runtime, ...}");
            return null;
        }

        reader.CheckFields(obj, path, s_inputFields, "policy input");
        var actionText = reader.OptionalString(obj, "action", path);
        if (!PolicyNames.TryParseAction(actionText, out var action))
        {
            reader.Error(path + "/action", actionText is null ? "the action is missing" : $"'{actionText}' is not an action type", $"use one of: {string.Join(", ", PolicyNames.ActionNames)}");
        }

        var levelText = reader.OptionalString(obj, "autonomy", path);
        if (!PolicyNames.TryParseAutonomy(levelText, out var level))
        {
            reader.Error(path + "/autonomy", levelText is null ? "the autonomy level is missing" : $"'{levelText}' is not an autonomy level", $"use one of: {string.Join(", ", PolicyNames.AutonomyNames)}");
        }

        var runtime = new PolicyRuntimeFacts();
        if (obj["runtime"] is JsonObject rt)
        {
            var rp = path + "/runtime";
            reader.CheckFields(rt, rp, s_runtimeFields, "runtime");
            RuntimeType? type = null;
            if (reader.OptionalString(rt, "type", rp) is { } typeText)
            {
                if (PolicyNames.TryParseRuntimeType(typeText, out var t))
                {
                    type = t;
                }
                else
                {
                    reader.Error(rp + "/type", $"'{typeText}' is not a runtime type", $"use one of: {string.Join(", ", PolicyNames.RuntimeTypeNames)}");
                }
            }

            var size = reader.OptionalString(rt, "size", rp);
            var current = size is not null && SizeTable.TryGet(size, out var s) ? s : null;
            if (size is not null && current is null)
            {
                reader.Error(rp + "/size", $"'{size}' is not a size", $"use one of: {string.Join(", ", SizeTable.Names)}");
            }

            runtime = new PolicyRuntimeFacts
            {
                Id = reader.OptionalString(rt, "id", rp),
                Type = type,
                TenantId = reader.OptionalString(rt, "tenant_id", rp),
                Labels = reader.StringMap(rt, "labels", rp),
                CurrentVcpus = reader.PositiveInt(rt, "vcpus", rp) ?? current?.Vcpus,
                CurrentMemoryMiB = Memory(reader, rt, "memory", rp) ?? current?.MemoryMiB,
                TargetSize = reader.OptionalString(rt, "target_size", rp),
                TargetVcpus = reader.PositiveInt(rt, "target_vcpus", rp),
                TargetMemoryMiB = Memory(reader, rt, "target_memory", rp),
            };
        }
        else if (obj.ContainsKey("runtime"))
        {
            reader.Error(path + "/runtime", "'runtime' must be an object", "write runtime: {id, type, tenant_id, labels, size, target_size}");
        }

        var budget = new PolicyBudgetCounters();
        if (obj["budget"] is JsonObject b)
        {
            var bp = path + "/budget";
            reader.CheckFields(b, bp, s_budgetFields, "budget");
            budget = new PolicyBudgetCounters
            {
                MutationsInWindow = WindowCounts(reader, b, "mutations_in_window", bp),
                RuntimesChangedInWindow = WindowCounts(reader, b, "runtimes_changed_in_window", bp),
                RuntimesInScope = reader.PositiveInt(b, "runtimes_in_scope", bp),
                TotalVcpus = reader.PositiveInt(b, "total_vcpu", bp),
                TotalMemoryMiB = Memory(reader, b, "total_memory", bp),
            };
        }

        return new PolicyInput
        {
            Action = action,
            Autonomy = level,
            Runtime = runtime,
            RequestedExposure = reader.OptionalString(obj, "exposure", path),
            RequestedEgress = reader.OptionalString(obj, "egress", path),
            Budget = budget,
        };
    }

    private static Dictionary<TimeSpan, int> WindowCounts(PolicyLoader.Reader reader, JsonObject budget, string name, string path)
    {
        var windows = new Dictionary<TimeSpan, int>();
        if (budget[name] is JsonObject counts)
        {
            foreach (var (key, _) in counts)
            {
                if (!PolicyNames.TryParseWindow(key, out var w))
                {
                    reader.Error($"{path}/{name}/{key}", $"'{key}' is not a window", "write a whole number and a unit s, m, h or d, e.g. 1h");
                }
                else if (reader.PositiveInt(counts, key, $"{path}/{name}") is { } n)
                {
                    windows[w] = n;
                }
            }
        }
        else if (budget.ContainsKey(name))
        {
            reader.Error($"{path}/{name}", $"'{name}' must map a window to a count", $"write {name}: {{1h: 3}}");
        }

        return windows;
    }

    private static long? Memory(PolicyLoader.Reader reader, JsonObject obj, string name, string path)
    {
        var node = obj[name];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && Quantity.TryParseMiB(v.GetValue<string>(), out var mib))
        {
            return mib;
        }

        if (node is JsonValue n && n.GetValueKind() == JsonValueKind.Number && n.TryGetValue<long>(out var plain) && plain >= 0)
        {
            return plain;
        }

        reader.Error($"{path}/{name}", $"{PolicyLoader.Reader.Show(node)} is not a memory quantity", "write it like 8Gi or 512Mi (a bare number means MiB)");
        return null;
    }
}
