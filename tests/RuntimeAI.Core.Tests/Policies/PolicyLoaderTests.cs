using System.Text.Json.Nodes;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Tests.Policies;

public sealed class PolicyLoaderTests
{
    private static PolicyLoadResult Parse(params (string Name, string Text)[] files)
        => PolicyLoader.Parse(files.Select(f => new PolicySource(f.Name, f.Text)));

    [Fact]
    public void Parse_ValidYaml_ReadsEveryField()
    {
        var result = Parse(("p.yaml", """
            id: prod-safety
            name: Production safety
            tenant_id: acme
            scope_env: prod
            mode: warn
            rules:
              - id: budget
                kind: budget_guardrail
                selector:
                  runtime_types: [vm, vcluster]
                  labels: {tier: 1, pci: true, team: db}
                  tenants: acme
                  env: [prod]
                  action_types: [scale, create]
                  runtime_ids: [rt_1]
                params: {max_mutations_per_window: 5, window: 90m, max_total_vcpu: 16, max_total_memory: 64Gi, max_size: XLarge, effect: require_approval}
              - id: allow
                kind: allow_action
                params: {autonomy_levels: [autonomous], reason: "fine"}
              - id: egress
                kind: data_egress
                params: {deny_egress: [open, "any"]}
            """));

        Assert.True(result.Ok, string.Join('\n', result.Errors));
        var policy = Assert.Single(result.Policies);
        Assert.Equal(("prod-safety", "Production safety", "acme", "prod", PolicyMode.Warn), (policy.Id, policy.Name, policy.TenantId, policy.ScopeEnv, policy.Mode));
        var budget = policy.Rules[0];
        Assert.Equal(PolicyRuleKind.BudgetGuardrail, budget.Kind);
        Assert.Equal([RuntimeType.Vm, RuntimeType.Vcluster], budget.Selector.RuntimeTypes);
        Assert.Equal("1", budget.Selector.Labels["tier"]);
        Assert.Equal("true", budget.Selector.Labels["pci"]);
        Assert.Equal(["acme"], budget.Selector.Tenants);
        Assert.Equal([ActionType.Scale, ActionType.Create], budget.Selector.ActionTypes);
        Assert.Equal(["rt_1"], budget.Selector.RuntimeIds);
        Assert.Equal((5, TimeSpan.FromMinutes(90), 16, 65536L, "xlarge", PolicyEffect.RequireApproval),
            (budget.Params.MaxMutationsPerWindow, budget.Params.Window, budget.Params.MaxTotalVcpu, budget.Params.MaxTotalMemoryMiB, budget.Params.MaxSize, budget.Params.Effect));
        Assert.Equal([AutonomyLevel.Autonomous], policy.Rules[1].Params.AutonomyLevels);
        Assert.Equal(["open", "any"], policy.Rules[2].Params.DenyEgress);
        Assert.Null(policy.Rules[2].Params.DenyExposure);
    }

    [Fact]
    public void Parse_ManyMistakes_ListsEveryErrorWithRuleIndexAndFix()
    {
        var result = Parse(("bad.yaml", """
            id: bad policy
            mode: strict
            colour: red
            rules:
              - id: r1
                kind: deny_actions
              - kind: allow_action
                selector: {action_types: [reboot], runtime_types: [lambda], flavour: x}
                params: {autonomy_levels: [copilot], max_size: huge}
              - id: r3
                kind: budget_guardrail
                params: {max_mutations_per_window: -1, max_size: huge, max_total_memory: lots, effect: allow}
              - id: autonomy.sneaky
                kind: deny_action
              - id: r1
                kind: require_approval
            """));

        Assert.False(result.Ok);
        Assert.Empty(result.Policies);
        var lines = result.Errors.Select(e => e.ToString()).ToArray();
        string[] expected =
        [
            "bad.yaml: /colour: 'colour' is not a field of a policy; remove it or use one of: id, name, description, tenant_id, scope_env, mode, rules",
            "bad.yaml: /id: the policy id 'bad policy' has characters ids may not contain; use letters, digits, '.', '_', ':' and '-' (up to 128, starting with a letter or digit)",
            "bad.yaml: /mode: 'strict' is not a mode; use one of: enforce, audit, warn",
            "bad.yaml: /rules/0/kind (rule #0): 'deny_actions' is not a rule kind; use one of: deny_action, allow_action, require_approval, budget_guardrail, data_egress",
            "bad.yaml: /rules/1/id (rule #1): the rule has no 'id'; add an id such as deny-prod-delete",
            "bad.yaml: /rules/1/selector/flavour (rule #1): 'flavour' is not a field of a selector; remove it or use one of: runtime_types, labels, tenants, env, action_types, runtime_ids",
            "bad.yaml: /rules/1/selector/runtime_types/0 (rule #1): 'lambda' is not a runtime type; use one of: vm, vcluster, sandbox, agent_runtime",
            "bad.yaml: /rules/1/selector/action_types/0 (rule #1): 'reboot' is not an action type; use one of: start, stop, restart, scale, snapshot, restore, delete, create, migrate, rollout_restart, tune_policy, attach_observer, detach_observer",
            "bad.yaml: /rules/1/params/max_size (rule #1): 'max_size' is not a field of a allow_action params; remove it or use one of: reason, autonomy_levels",
            "bad.yaml: /rules/1/params/autonomy_levels/0 (rule #1): an allow has no effect at autonomy level copilot (advisor never executes; copilot always asks a human); use guardian or autonomous",
            "bad.yaml: /rules/1/params/autonomy_levels (rule #1): the list of autonomy levels is empty; list guardian and/or autonomous, or remove it for both",
            "bad.yaml: /rules/2/params/effect (rule #2): 'allow' is not an effect a violation can have; use deny or require_approval",
            "bad.yaml: /rules/2/params/max_mutations_per_window (rule #2): -1 is not a whole number of zero or more; write max_mutations_per_window as a number such as 10",
            "bad.yaml: /rules/2/params (rule #2): max_mutations_per_window and max_changed_percent need a window; set window with them, e.g. max_mutations_per_window: 5 and window: 1h",
            "bad.yaml: /rules/2/params/max_total_memory (rule #2): \"lots\" is not a memory quantity; write it like 64Gi or 512Mi (a bare number means MiB)",
            "bad.yaml: /rules/2/params/max_size (rule #2): 'huge' is not a size; use one of: nano, micro, small, medium, large, xlarge, 2xlarge",
            "bad.yaml: /rules/3/id (rule #3): the rule id 'autonomy.sneaky' uses a reserved prefix (autonomy. and default. name built-in decisions); choose another id",
            "bad.yaml: /rules/4/id (rule #4): the rule id 'r1' appears twice in this policy; give each rule a unique id",
        ];
        Assert.Equal(expected, lines);
    }

    [Fact]
    public void Parse_DuplicateIdsAcrossFiles_NamesTheOtherFile()
    {
        var result = Parse(
            ("a.yaml", "id: p\nrules: [{id: r, kind: deny_action}]"),
            ("b.json", """{"id":"p","rules":[{"id":"r","kind":"allow_action"}]}"""),
            ("c.json", """[{"id":"q","rules":[{"id":"r","kind":"allow_action"}]}]"""));

        Assert.Equal(["p"], result.Policies.Select(p => p.Id));
        Assert.Equal(
        [
            "b.json: /id: the policy id 'p' is already used in a.yaml; give each policy a unique id",
            "b.json: /rules/0/id (rule #0): the rule id 'r' is already used in a.yaml (policy p); give each rule a unique id (decisions name rules by id)",
            "c.json: /0/rules/0/id (rule #0): the rule id 'r' is already used in a.yaml (policy p); give each rule a unique id (decisions name rules by id)",
        ], result.Errors.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("x.yaml", "id: p\nrules: [\n", "invalid YAML at line")]
    [InlineData("x.json", "{\"id\": \"p\",", "invalid JSON at line")]
    [InlineData("x.yaml", "", "the file holds no policy")]
    [InlineData("x.yaml", "id: p\nid: q\nrules: []", "Duplicate key id")]
    [InlineData("x.yaml", "- just text", "a policy must be an object but this is text")]
    [InlineData("x.yaml", "policies: 3", "'policies' is not a list")]
    [InlineData("x.yaml", "id: p", "the policy has no 'rules'")]
    [InlineData("x.yaml", "id: p\nrules: [{id: b, kind: budget_guardrail}]", "a budget_guardrail needs params")]
    [InlineData("x.yaml", "id: p\nrules: [{id: b, kind: budget_guardrail, params: {reason: x}}]", "the budget_guardrail sets no limit")]
    [InlineData("x.yaml", "id: p\nrules: [{id: b, kind: budget_guardrail, params: {max_mutations_per_window: 3, window: 1w}}]", "'1w' is not a window")]
    [InlineData("x.yaml", "id: p\nrules: [{id: b, kind: budget_guardrail, params: {max_changed_percent: 120, window: 1h}}]", "120% is not a percentage")]
    [InlineData("x.yaml", "id: p\nrules: [{id: b, kind: budget_guardrail, params: {max_size: small, window: 1h}}]", "window is set but no limit uses it")]
    [InlineData("x.yaml", "id: p\nrules: [{id: b, kind: deny_action, selector: {labels: {env: [a, b]}}}]", "not text")]
    [InlineData("x.yaml", "id: p\nrules: [{id: b, kind: deny_action, selector: {tenants: [\"\"]}}]", "is not a non-empty text value")]
    public void Parse_Problem_IsReported(string name, string text, string expected)
    {
        var result = Parse((name, text));
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Problem.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_MultiDocumentYamlAndPoliciesList_AreBothRead()
    {
        var result = Parse(("m.yaml", """
            id: one
            rules: [{id: r1, kind: deny_action}]
            ---
            policies:
              - id: two
                rules: [{id: r2, kind: deny_action}]
              - id: three
                rules: [{id: r3, kind: deny_action}]
            """));
        Assert.True(result.Ok, string.Join('\n', result.Errors));
        Assert.Equal(["one", "two", "three"], result.Policies.Select(p => p.Id));
        Assert.Equal("one", result.Policies[0].Name);
    }

    [Fact]
    public void Parse_QuotedYamlScalars_StayText()
    {
        var result = Parse(("q.yaml", "id: \"123\"\nrules: [{id: '1', kind: deny_action, selector: {tenants: ['true']}}]"));
        Assert.True(result.Ok, string.Join('\n', result.Errors));
        Assert.Equal("123", result.Policies[0].Id);
        Assert.Equal(["true"], result.Policies[0].Rules[0].Selector.Tenants);
    }

    [Fact]
    public void Parse_UnquotedYamlNumberForText_SaysQuoteIt()
    {
        var result = Parse(("q.yaml", "id: 123\nrules: [{id: r, kind: deny_action}]"));
        var error = Assert.Single(result.Errors);
        Assert.Equal("q.yaml: /id: 'id' must be text but is a number; quote it", error.ToString());
    }

    [Fact]
    public void ParsePolicy_JsonNode_ForAdminTools()
    {
        var ok = PolicyLoader.ParsePolicy(JsonNode.Parse("""{"id":"p","rules":[{"id":"r","kind":"deny_action"}]}"""));
        Assert.True(ok.Ok);
        Assert.Equal(PolicyEffect.Deny, ok.CreateEvaluator().Evaluate(new PolicyInput { Action = ActionType.Stop, Autonomy = AutonomyLevel.Autonomous }).Effect);

        var bad = PolicyLoader.ParsePolicy(JsonNode.Parse("""{"rules":[]}"""), "put_policy");
        Assert.Equal(2, bad.Errors.Count);
        var ex = Assert.Throws<InvalidOperationException>(bad.CreateEvaluator);
        Assert.Contains("put_policy: /id: the policy has no 'id'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadDirectory_Missing_IsOneError()
    {
        var result = PolicyLoader.LoadDirectory("/nonexistent/policies");
        var error = Assert.Single(result.Errors);
        Assert.Contains("does not exist", error.Problem, StringComparison.Ordinal);
    }
}
