using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Policies;

/// <summary>A problem in a policy (or policy test) file, with where it is and how to fix it.</summary>
/// <param name="File">The file (source name).</param>
/// <param name="Path">JSON pointer inside the file's document, e.g. <c>/rules/2/params/window</c>.</param>
/// <param name="RuleIndex">The index of the rule within its policy, when the problem is in a rule.</param>
/// <param name="Problem">What is wrong.</param>
/// <param name="Fix">What to do about it.</param>
public sealed record PolicyLoadError(string File, string Path, int? RuleIndex, string Problem, string Fix)
{
    /// <summary>One line: <c>file: /rules/2/params/window (rule #2): problem; fix</c> (no pointer when the whole file is at fault).</summary>
    /// <returns>The line.</returns>
    public override string ToString()
    {
        var rule = RuleIndex is { } i ? $" (rule #{i.ToString(CultureInfo.InvariantCulture)})" : "";
        return Path.Length == 0 ? $"{File}{rule}: {Problem}; {Fix}" : $"{File}: {Path}{rule}: {Problem}; {Fix}";
    }
}

/// <summary>Policies read from files, and every problem found in them.</summary>
public sealed record PolicyLoadResult
{
    /// <summary>The valid policies (a policy with any error is left out).</summary>
    public required IReadOnlyList<Policy> Policies { get; init; }

    /// <summary>Every problem found, in file order; empty when all is well.</summary>
    public required IReadOnlyList<PolicyLoadError> Errors { get; init; }

    /// <summary>True when there are no errors.</summary>
    public bool Ok => Errors.Count == 0;

    /// <summary>Compiles the policies, refusing to when any file had an error (fail closed).</summary>
    /// <returns>The evaluator.</returns>
    /// <exception cref="InvalidOperationException">There were errors; the message lists all of them.</exception>
    public PolicyEvaluator CreateEvaluator() => Ok
        ? PolicyEvaluator.Create(Policies)
        : throw new InvalidOperationException("The policies have errors:\n" + string.Join('\n', Errors));
}

/// <summary>
/// Reads policies from YAML or JSON. A file holds one policy object, an array of policies, or an
/// object with a <c>policies</c> array; a YAML file may also hold several documents. Validation
/// never stops at the first problem: every error is listed with its file, rule and fix.
/// </summary>
public static partial class PolicyLoader
{
    private static readonly string[] s_policyFields = ["id", "name", "description", "tenant_id", "scope_env", "mode", "rules"];
    private static readonly string[] s_ruleFields = ["id", "kind", "description", "selector", "params"];
    private static readonly string[] s_selectorFields = ["runtime_types", "labels", "tenants", "env", "action_types", "runtime_ids"];

    private static readonly Dictionary<PolicyRuleKind, string[]> s_paramsByKind = new()
    {
        [PolicyRuleKind.DenyAction] = ["reason"],
        [PolicyRuleKind.RequireApproval] = ["reason"],
        [PolicyRuleKind.AllowAction] = ["reason", "autonomy_levels"],
        [PolicyRuleKind.BudgetGuardrail] = ["reason", "effect", "max_mutations_per_window", "max_changed_percent", "window", "max_total_vcpu", "max_total_memory", "max_size"],
        [PolicyRuleKind.DataEgress] = ["reason", "effect", "deny_exposure", "deny_egress"],
    };

    /// <summary>Loads every .yaml, .yml and .json file under a directory.</summary>
    /// <param name="directory">The policies directory.</param>
    /// <returns>Policies and every error; a missing directory is one error.</returns>
    public static PolicyLoadResult LoadDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        try
        {
            return Parse(PolicySource.ReadDirectory(directory));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new PolicyLoadResult
            {
                Policies = [],
                Errors = [new PolicyLoadError(directory, "", null, ex.Message, "check the policies directory path and its permissions")],
            };
        }
    }

    /// <summary>Parses and validates policies from sources; rule and policy ids must be unique across all of them.</summary>
    /// <param name="sources">The files.</param>
    /// <returns>Policies and every error.</returns>
    public static PolicyLoadResult Parse(IEnumerable<PolicySource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var policies = new List<Policy>();
        var errors = new List<PolicyLoadError>();
        var policyIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var ruleIds = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var source in sources)
        {
            var (documents, syntaxError) = PolicyText.Parse(source);
            if (syntaxError is not null)
            {
                errors.Add(new(source.Name, "", null, syntaxError, "fix the syntax"));
                continue;
            }

            if (documents.Count == 0 || documents.All(d => d is null))
            {
                errors.Add(new(source.Name, "", null, "the file holds no policy", "add a policy or remove the file"));
                continue;
            }

            foreach (var (node, path) in PolicyNodes(documents, source.Name, errors))
            {
                var reader = new Reader(source.Name, errors);
                if (reader.ReadPolicy(node, path) is not { } policy)
                {
                    continue;
                }

                var ok = true;
                if (policyIds.TryGetValue(policy.Id, out var otherFile))
                {
                    errors.Add(new(source.Name, path + "/id", null, $"the policy id '{policy.Id}' is already used in {otherFile}", "give each policy a unique id"));
                    ok = false;
                }
                else
                {
                    policyIds[policy.Id] = source.Name;
                }

                for (var i = 0; i < policy.Rules.Count; i++)
                {
                    var id = policy.Rules[i].Id;
                    if (ruleIds.TryGetValue(id, out var where))
                    {
                        errors.Add(new(source.Name, $"{path}/rules/{i}/id", i, $"the rule id '{id}' is already used in {where}", "give each rule a unique id (decisions name rules by id)"));
                        ok = false;
                    }
                    else
                    {
                        ruleIds[id] = $"{source.Name} (policy {policy.Id})";
                    }
                }

                if (ok)
                {
                    policies.Add(policy);
                }
            }
        }

        return new PolicyLoadResult { Policies = policies, Errors = errors };
    }

    /// <summary>Parses and validates one policy given as JSON (e.g. the argument of an admin <c>put_policy</c> tool).</summary>
    /// <param name="node">The policy object.</param>
    /// <param name="sourceName">A name for error messages.</param>
    /// <returns>The policy, or errors.</returns>
    public static PolicyLoadResult ParsePolicy(JsonNode? node, string sourceName = "policy")
    {
        var errors = new List<PolicyLoadError>();
        var policy = new Reader(sourceName, errors).ReadPolicy(node, "");
        return new PolicyLoadResult { Policies = policy is null ? [] : [policy], Errors = errors };
    }

    private static IEnumerable<(JsonNode? Node, string Path)> PolicyNodes(IReadOnlyList<JsonNode?> documents, string file, List<PolicyLoadError> errors)
    {
        for (var d = 0; d < documents.Count; d++)
        {
            var doc = documents[d];
            var prefix = documents.Count > 1 ? $"/(document {d.ToString(CultureInfo.InvariantCulture)})" : "";
            switch (doc)
            {
                case null:
                    continue;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        yield return (array[i], $"{prefix}/{i.ToString(CultureInfo.InvariantCulture)}");
                    }

                    break;
                case JsonObject obj when obj.ContainsKey("policies") && !obj.ContainsKey("rules"):
                    if (obj["policies"] is JsonArray list)
                    {
                        for (var i = 0; i < list.Count; i++)
                        {
                            yield return (list[i], $"{prefix}/policies/{i.ToString(CultureInfo.InvariantCulture)}");
                        }
                    }
                    else
                    {
                        errors.Add(new(file, prefix + "/policies", null, "'policies' is not a list", "make it a list of policy objects"));
                    }

                    break;
                default:
                    yield return (doc, prefix);
                    break;
            }
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();

    /// <summary>Reads JSON nodes into the model, adding an error for each problem and carrying on.</summary>
    internal sealed class Reader(string file, List<PolicyLoadError> errors)
    {
        private int? _rule;

        public void Error(string path, string problem, string fix) => errors.Add(new(file, path, _rule, problem, fix));

        public Policy? ReadPolicy(JsonNode? node, string path)
        {
            _rule = null;
            if (node is not JsonObject obj)
            {
                Error(path, $"a policy must be an object but this is {Kind(node)}", "write the policy as a mapping with id, name, rules");
                return null;
            }

            var before = errors.Count;
            CheckFields(obj, path, s_policyFields, "policy");
            var id = ReadId(obj, path, "policy");
            var name = OptionalString(obj, "name", path) ?? id ?? "";
            OptionalString(obj, "description", path);
            var tenant = OptionalString(obj, "tenant_id", path);
            var env = OptionalString(obj, "scope_env", path);
            var mode = PolicyMode.Enforce;
            if (OptionalString(obj, "mode", path) is { } modeText && !PolicyNames.TryParseMode(modeText, out mode))
            {
                Error(path + "/mode", $"'{modeText}' is not a mode", $"use one of: {string.Join(", ", PolicyNames.ModeNames)}");
            }

            var rules = new List<PolicyRule>();
            if (obj["rules"] is not JsonArray ruleArray)
            {
                Error(path + "/rules", obj.ContainsKey("rules") ? "'rules' is not a list" : "the policy has no 'rules'", "add a list of rules");
            }
            else
            {
                if (ruleArray.Count == 0)
                {
                    Error(path + "/rules", "the policy has an empty rule list", "add at least one rule");
                }

                var ids = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < ruleArray.Count; i++)
                {
                    _rule = i;
                    var rulePath = $"{path}/rules/{i.ToString(CultureInfo.InvariantCulture)}";
                    if (ReadRule(ruleArray[i], rulePath) is { } rule)
                    {
                        rules.Add(rule);
                    }

                    // Checked on the raw id so a duplicate of an invalid rule is reported too.
                    if ((ruleArray[i] as JsonObject)?["id"] is JsonValue idValue && idValue.GetValueKind() == JsonValueKind.String
                        && !ids.Add(idValue.GetValue<string>()))
                    {
                        Error(rulePath + "/id", $"the rule id '{idValue.GetValue<string>()}' appears twice in this policy", "give each rule a unique id");
                    }
                }

                _rule = null;
            }

            return errors.Count > before || id is null
                ? null
                : new Policy { Id = id, Name = name, TenantId = tenant, ScopeEnv = env, Mode = mode, Rules = rules };
        }

        private PolicyRule? ReadRule(JsonNode? node, string path)
        {
            if (node is not JsonObject obj)
            {
                Error(path, $"a rule must be an object but this is {Kind(node)}", "write the rule as a mapping with id, kind, selector, params");
                return null;
            }

            var before = errors.Count;
            CheckFields(obj, path, s_ruleFields, "rule");
            var id = ReadId(obj, path, "rule");
            if (id is not null && (id.StartsWith("autonomy.", StringComparison.Ordinal) || id.StartsWith("default.", StringComparison.Ordinal)))
            {
                Error(path + "/id", $"the rule id '{id}' uses a reserved prefix (autonomy. and default. name built-in decisions)", "choose another id");
            }

            OptionalString(obj, "description", path);
            PolicyRuleKind? kind = null;
            if (obj["kind"] is null)
            {
                Error(path + "/kind", "the rule has no 'kind'", $"add kind: one of {string.Join(", ", PolicyNames.RuleKindNames)}");
            }
            else if (OptionalString(obj, "kind", path) is { } kindText)
            {
                if (PolicyNames.TryParseRuleKind(kindText, out var k))
                {
                    kind = k;
                }
                else
                {
                    Error(path + "/kind", $"'{kindText}' is not a rule kind", $"use one of: {string.Join(", ", PolicyNames.RuleKindNames)}");
                }
            }

            var selector = ReadSelector(obj["selector"], path + "/selector", obj.ContainsKey("selector"));
            var parameters = kind is { } known ? ReadParams(obj["params"], path + "/params", known, obj.ContainsKey("params")) : new PolicyRuleParams();

            return errors.Count > before || id is null || kind is null
                ? null
                : new PolicyRule { Id = id, Kind = kind.Value, Selector = selector, Params = parameters };
        }

        private PolicySelector ReadSelector(JsonNode? node, string path, bool present)
        {
            if (node is null)
            {
                if (present)
                {
                    Error(path, "the selector is empty", "remove it to match everything, or add fields");
                }

                return new PolicySelector();
            }

            if (node is not JsonObject obj)
            {
                Error(path, $"the selector must be an object but this is {Kind(node)}", $"use fields: {string.Join(", ", s_selectorFields)}");
                return new PolicySelector();
            }

            CheckFields(obj, path, s_selectorFields, "selector");
            var runtimeTypes = new List<RuntimeType>();
            foreach (var (text, p) in StringList(obj, "runtime_types", path))
            {
                if (PolicyNames.TryParseRuntimeType(text, out var t))
                {
                    runtimeTypes.Add(t);
                }
                else
                {
                    Error(p, $"'{text}' is not a runtime type", $"use one of: {string.Join(", ", PolicyNames.RuntimeTypeNames)}");
                }
            }

            var actions = new List<ActionType>();
            foreach (var (text, p) in StringList(obj, "action_types", path))
            {
                if (PolicyNames.TryParseAction(text, out var a))
                {
                    actions.Add(a);
                }
                else
                {
                    Error(p, $"'{text}' is not an action type", $"use one of: {string.Join(", ", PolicyNames.ActionNames)}");
                }
            }

            return new PolicySelector
            {
                RuntimeTypes = runtimeTypes,
                ActionTypes = actions,
                Tenants = StringList(obj, "tenants", path).Select(x => x.Value).ToArray(),
                Env = StringList(obj, "env", path).Select(x => x.Value).ToArray(),
                RuntimeIds = StringList(obj, "runtime_ids", path).Select(x => x.Value).ToArray(),
                Labels = StringMap(obj, "labels", path),
            };
        }

        private PolicyRuleParams ReadParams(JsonNode? node, string path, PolicyRuleKind kind, bool present)
        {
            var kindName = PolicyNames.RuleKind(kind);
            if (node is null)
            {
                if (kind == PolicyRuleKind.BudgetGuardrail)
                {
                    Error(path, "a budget_guardrail needs params", "add at least one of max_mutations_per_window or max_changed_percent (with window), max_total_vcpu, max_total_memory, max_size");
                }
                else if (present)
                {
                    Error(path, "params is empty", "remove it or add fields");
                }

                return new PolicyRuleParams();
            }

            if (node is not JsonObject obj)
            {
                Error(path, $"params must be an object but this is {Kind(node)}", $"use fields: {string.Join(", ", s_paramsByKind[kind])}");
                return new PolicyRuleParams();
            }

            CheckFields(obj, path, s_paramsByKind[kind], $"{kindName} params");
            var result = new PolicyRuleParams { Reason = OptionalString(obj, "reason", path) };

            PolicyEffect? effect = null;
            if (OptionalString(obj, "effect", path) is { } effectText)
            {
                if (PolicyNames.TryParseEffect(effectText, out var e) && e != PolicyEffect.Allow)
                {
                    effect = e;
                }
                else
                {
                    Error(path + "/effect", $"'{effectText}' is not an effect a violation can have", "use deny or require_approval");
                }
            }

            switch (kind)
            {
                case PolicyRuleKind.AllowAction:
                    List<AutonomyLevel>? levels = null;
                    if (obj.ContainsKey("autonomy_levels"))
                    {
                        levels = [];
                        foreach (var (text, p) in StringList(obj, "autonomy_levels", path))
                        {
                            if (!PolicyNames.TryParseAutonomy(text, out var level))
                            {
                                Error(p, $"'{text}' is not an autonomy level", "use guardian or autonomous");
                            }
                            else if (level is AutonomyLevel.Advisor or AutonomyLevel.Copilot)
                            {
                                Error(p, $"an allow has no effect at autonomy level {text} (advisor never executes; copilot always asks a human)", "use guardian or autonomous");
                            }
                            else
                            {
                                levels.Add(level);
                            }
                        }

                        if (levels.Count == 0)
                        {
                            Error(path + "/autonomy_levels", "the list of autonomy levels is empty", "list guardian and/or autonomous, or remove it for both");
                        }
                    }

                    return result with { AutonomyLevels = levels };

                case PolicyRuleKind.BudgetGuardrail:
                    var maxMutations = PositiveInt(obj, "max_mutations_per_window", path);
                    TimeSpan? window = null;
                    if (OptionalString(obj, "window", path) is { } windowText)
                    {
                        if (PolicyNames.TryParseWindow(windowText, out var w))
                        {
                            window = w;
                        }
                        else
                        {
                            Error(path + "/window", $"'{windowText}' is not a window", "write a whole number and a unit s, m, h or d, e.g. 1h");
                        }
                    }

                    var usesWindow = obj.ContainsKey("max_mutations_per_window") || obj.ContainsKey("max_changed_percent");
                    if (usesWindow != obj.ContainsKey("window"))
                    {
                        Error(path, usesWindow ? "max_mutations_per_window and max_changed_percent need a window" : "window is set but no limit uses it",
                            "set window with them, e.g. max_mutations_per_window: 5 and window: 1h");
                    }

                    var maxPercent = PositiveInt(obj, "max_changed_percent", path);
                    if (maxPercent is < 1 or > 100)
                    {
                        Error(path + "/max_changed_percent", $"{maxPercent}% is not a percentage of runtimes", "use a whole number from 1 to 100");
                    }

                    long? maxMemory = null;
                    if (obj["max_total_memory"] is { } memoryNode)
                    {
                        if (memoryNode is JsonValue v && v.TryGetValue<string>(out var q) && Quantity.TryParseMiB(q, out var mib))
                        {
                            maxMemory = mib;
                        }
                        else if (memoryNode is JsonValue n && n.GetValueKind() == JsonValueKind.Number && n.TryGetValue<long>(out var plain) && plain > 0)
                        {
                            maxMemory = plain;
                        }
                        else
                        {
                            Error(path + "/max_total_memory", $"{Show(memoryNode)} is not a memory quantity", "write it like 64Gi or 512Mi (a bare number means MiB)");
                        }
                    }

                    string? maxSize = null;
                    if (OptionalString(obj, "max_size", path) is { } sizeText)
                    {
                        if (SizeTable.TryGet(sizeText, out var size))
                        {
                            maxSize = size.Name;
                        }
                        else
                        {
                            Error(path + "/max_size", $"'{sizeText}' is not a size", $"use one of: {string.Join(", ", SizeTable.Names)}");
                        }
                    }

                    var maxVcpu = PositiveInt(obj, "max_total_vcpu", path);
                    if (!usesWindow && !obj.ContainsKey("max_total_vcpu") && !obj.ContainsKey("max_total_memory") && !obj.ContainsKey("max_size"))
                    {
                        Error(path, "the budget_guardrail sets no limit", "add at least one of max_mutations_per_window or max_changed_percent (with window), max_total_vcpu, max_total_memory, max_size");
                    }

                    return result with
                    {
                        Effect = effect,
                        MaxMutationsPerWindow = maxMutations,
                        MaxChangedPercent = maxPercent,
                        Window = window,
                        MaxTotalVcpu = maxVcpu,
                        MaxTotalMemoryMiB = maxMemory,
                        MaxSize = maxSize,
                    };

                case PolicyRuleKind.DataEgress:
                    return result with
                    {
                        Effect = effect,
                        DenyExposure = obj.ContainsKey("deny_exposure") ? StringList(obj, "deny_exposure", path).Select(x => x.Value).ToArray() : null,
                        DenyEgress = obj.ContainsKey("deny_egress") ? StringList(obj, "deny_egress", path).Select(x => x.Value).ToArray() : null,
                    };

                default:
                    return result;
            }
        }

        private string? ReadId(JsonObject obj, string path, string what)
        {
            if (obj["id"] is null)
            {
                Error(path + "/id", $"the {what} has no 'id'", $"add an id such as {(what == "rule" ? "deny-prod-delete" : "prod-safety")}");
                return null;
            }

            var id = OptionalString(obj, "id", path);
            if (id is not null && !IdRegex().IsMatch(id))
            {
                Error(path + "/id", $"the {what} id '{id}' has characters ids may not contain", "use letters, digits, '.', '_', ':' and '-' (up to 128, starting with a letter or digit)");
                return null;
            }

            return id;
        }

        public string? OptionalString(JsonObject obj, string name, string path)
        {
            var node = obj[name];
            if (node is null)
            {
                return null;
            }

            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            {
                var s = v.GetValue<string>();
                if (s.Length == 0)
                {
                    Error($"{path}/{name}", $"'{name}' is empty", "give it a value or remove it");
                    return null;
                }

                return s;
            }

            Error($"{path}/{name}", $"'{name}' must be text but is {Kind(node)}", "quote it");
            return null;
        }

        public int? PositiveInt(JsonObject obj, string name, string path)
        {
            var node = obj[name];
            if (node is null)
            {
                return null;
            }

            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n >= 0)
            {
                return n;
            }

            if (node is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var x) && x >= 0 && x <= int.MaxValue && Math.Floor(x) == x)
            {
                return (int)x;
            }

            Error($"{path}/{name}", $"{Show(node)} is not a whole number of zero or more", $"write {name} as a number such as 10");
            return null;
        }

        public IEnumerable<(string Value, string Path)> StringList(JsonObject obj, string name, string path)
        {
            var node = obj[name];
            var p = $"{path}/{name}";
            switch (node)
            {
                case null:
                    yield break;
                case JsonValue single when single.GetValueKind() == JsonValueKind.String:
                    yield return (single.GetValue<string>(), p); // a lone string is a one-item list
                    yield break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        var ip = $"{p}/{i.ToString(CultureInfo.InvariantCulture)}";
                        if (array[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length > 0)
                        {
                            yield return (v.GetValue<string>(), ip);
                        }
                        else
                        {
                            Error(ip, $"{Show(array[i])} is not a non-empty text value", "quote it or remove it");
                        }
                    }

                    yield break;
                default:
                    Error(p, $"'{name}' must be a list of text values but is {Kind(node)}", $"write {name}: [a, b]");
                    yield break;
            }
        }

        public Dictionary<string, string> StringMap(JsonObject obj, string name, string path)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            var node = obj[name];
            if (node is null)
            {
                return map;
            }

            if (node is not JsonObject labels)
            {
                Error($"{path}/{name}", $"'{name}' must be a mapping of key to value but is {Kind(node)}", $"write {name}: {{env: prod}}");
                return map;
            }

            foreach (var (key, value) in labels)
            {
                if (value is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                {
                    // YAML turns `tier: 1` or `pci: true` into numbers and booleans; labels are text.
                    map[key] = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString().ToLowerInvariant();
                }
                else
                {
                    Error($"{path}/{name}/{key}", $"the value of '{key}' is {Kind(value)}, not text", "give each key a single text value");
                }
            }

            return map;
        }

        public void CheckFields(JsonObject obj, string path, string[] allowed, string what)
        {
            foreach (var (key, _) in obj)
            {
                if (!allowed.Contains(key, StringComparer.Ordinal))
                {
                    Error($"{path}/{key}", $"'{key}' is not a field of a {what}", $"remove it or use one of: {string.Join(", ", allowed)}");
                }
            }
        }

        public static string Kind(JsonNode? node) => node switch
        {
            null => "null",
            JsonObject => "an object",
            JsonArray => "a list",
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => "text",
                JsonValueKind.Number => "a number",
                JsonValueKind.True or JsonValueKind.False => "a boolean",
                _ => "a value",
            },
            _ => "a value",
        };

        public static string Show(JsonNode? node)
        {
            var text = node?.ToJsonString() ?? "null";
            return text.Length > 40 ? text[..40] + "..." : text;
        }
    }
}
