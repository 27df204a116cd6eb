using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Tests.Policies;

public sealed class PolicyEvaluatorTests
{
    private static readonly Dictionary<TimeSpan, int> s_noMutations = new() { [TimeSpan.FromHours(1)] = 0 };

    private static PolicyRule Rule(string id, PolicyRuleKind kind, PolicySelector? selector = null, PolicyRuleParams? p = null)
        => new() { Id = id, Kind = kind, Selector = selector ?? new PolicySelector(), Params = p ?? new PolicyRuleParams() };

    private static Policy PolicyOf(string id, params PolicyRule[] rules)
        => new() { Id = id, Name = id, Rules = rules };

    private static PolicyInput Input(ActionType action = ActionType.Scale, AutonomyLevel level = AutonomyLevel.Autonomous, PolicyRuntimeFacts? runtime = null)
        => new()
        {
            Action = action,
            Autonomy = level,
            Runtime = runtime ?? new PolicyRuntimeFacts { Id = "rt_1", Type = RuntimeType.Vm, TenantId = "acme", Labels = new Dictionary<string, string> { ["env"] = "prod" } },
            Budget = new PolicyBudgetCounters { MutationsInWindow = s_noMutations },
        };

    /// <summary>Every cell of the decision table in docs/policies.md: level × deny × approval × allow.</summary>
    [Theory]
    // level        deny   approval allow  -> effect             rule ids
    [InlineData("advisor", false, false, false, "deny", "autonomy.advisor")]
    [InlineData("advisor", false, false, true, "deny", "autonomy.advisor")]
    [InlineData("advisor", false, true, false, "deny", "autonomy.advisor")]
    [InlineData("advisor", false, true, true, "deny", "autonomy.advisor")]
    [InlineData("advisor", true, false, false, "deny", "d")]
    [InlineData("advisor", true, false, true, "deny", "d")]
    [InlineData("advisor", true, true, false, "deny", "d")]
    [InlineData("advisor", true, true, true, "deny", "d")]
    [InlineData("copilot", false, false, false, "require_approval", "autonomy.copilot")]
    [InlineData("copilot", false, false, true, "require_approval", "autonomy.copilot")]
    [InlineData("copilot", false, true, false, "require_approval", "r,autonomy.copilot")]
    [InlineData("copilot", false, true, true, "require_approval", "r,autonomy.copilot")]
    [InlineData("copilot", true, false, false, "deny", "d")]
    [InlineData("copilot", true, false, true, "deny", "d")]
    [InlineData("copilot", true, true, false, "deny", "d")]
    [InlineData("copilot", true, true, true, "deny", "d")]
    [InlineData("guardian", false, false, false, "require_approval", "default.no_allow")]
    [InlineData("guardian", false, false, true, "allow", "a")]
    [InlineData("guardian", false, true, false, "require_approval", "r")]
    [InlineData("guardian", false, true, true, "require_approval", "r")]
    [InlineData("guardian", true, false, false, "deny", "d")]
    [InlineData("guardian", true, false, true, "deny", "d")]
    [InlineData("guardian", true, true, false, "deny", "d")]
    [InlineData("guardian", true, true, true, "deny", "d")]
    [InlineData("autonomous", false, false, false, "deny", "default.no_allow")]
    [InlineData("autonomous", false, false, true, "allow", "a")]
    [InlineData("autonomous", false, true, false, "require_approval", "r")]
    [InlineData("autonomous", false, true, true, "require_approval", "r")]
    [InlineData("autonomous", true, false, false, "deny", "d")]
    [InlineData("autonomous", true, false, true, "deny", "d")]
    [InlineData("autonomous", true, true, false, "deny", "d")]
    [InlineData("autonomous", true, true, true, "deny", "d")]
    public void Evaluate_DecisionTable(string level, bool deny, bool approval, bool allow, string effect, string ruleIds)
    {
        var rules = new List<PolicyRule>();
        if (deny)
        {
            rules.Add(Rule("d", PolicyRuleKind.DenyAction));
        }

        if (approval)
        {
            rules.Add(Rule("r", PolicyRuleKind.RequireApproval));
        }

        if (allow)
        {
            rules.Add(Rule("a", PolicyRuleKind.AllowAction));
        }

        Assert.True(PolicyNames.TryParseAutonomy(level, out var autonomy));
        var decision = PolicyEvaluator.Create([PolicyOf("p", [.. rules])]).Evaluate(Input(level: autonomy));

        Assert.Equal(effect, PolicyNames.Effect(decision.Effect));
        Assert.Equal(ruleIds.Split(','), decision.RuleIds);
        Assert.Equal(decision.RuleIds.Count, decision.Reasons.Count);
    }

    [Fact]
    public void Evaluate_AllowLimitedToAutonomous_DoesNotAllowAtGuardian()
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p", Rule("a", PolicyRuleKind.AllowAction, p: new() { AutonomyLevels = [AutonomyLevel.Autonomous] }))]);
        Assert.Equal(PolicyEffect.RequireApproval, evaluator.Evaluate(Input(level: AutonomyLevel.Guardian)).Effect);
        Assert.Equal(PolicyEffect.Allow, evaluator.Evaluate(Input(level: AutonomyLevel.Autonomous)).Effect);
    }

    [Fact]
    public void Evaluate_SeveralDenies_NamesAllOfThemInPolicyOrder()
    {
        var evaluator = PolicyEvaluator.Create([
            PolicyOf("p1", Rule("d1", PolicyRuleKind.DenyAction), Rule("a", PolicyRuleKind.AllowAction)),
            PolicyOf("p2", Rule("d2", PolicyRuleKind.DenyAction, p: new() { Reason = "no scaling on Fridays" })),
        ]);
        var decision = evaluator.Evaluate(Input());
        Assert.Equal(["d1", "d2"], decision.RuleIds);
        Assert.Equal("d2: no scaling on Fridays", decision.Reasons[1]);
    }

    public static TheoryData<PolicySelector, bool> Selectors => new()
    {
        { new PolicySelector(), true },
        { new PolicySelector { ActionTypes = [ActionType.Scale, ActionType.Stop] }, true },
        { new PolicySelector { ActionTypes = [ActionType.Delete] }, false },
        { new PolicySelector { RuntimeTypes = [RuntimeType.Vm] }, true },
        { new PolicySelector { RuntimeTypes = [RuntimeType.Vcluster] }, false },
        { new PolicySelector { Tenants = ["acme", "globex"] }, true },
        { new PolicySelector { Tenants = ["globex"] }, false },
        { new PolicySelector { Env = ["prod"] }, true },
        { new PolicySelector { Env = ["dev"] }, false },
        { new PolicySelector { RuntimeIds = ["rt_1"] }, true },
        { new PolicySelector { RuntimeIds = ["rt_2"] }, false },
        { new PolicySelector { Labels = new Dictionary<string, string> { ["env"] = "prod" } }, true },
        { new PolicySelector { Labels = new Dictionary<string, string> { ["env"] = "prod", ["team"] = "db" } }, false },
        { new PolicySelector { ActionTypes = [ActionType.Scale], Env = ["prod"], Tenants = ["globex"] }, false },
    };

    [Theory]
    [MemberData(nameof(Selectors))]
    public void Evaluate_Selector_MatchesWhenEveryFieldMatches(PolicySelector selector, bool matches)
    {
        var decision = PolicyEvaluator.Create([PolicyOf("p", Rule("d", PolicyRuleKind.DenyAction, selector))]).Evaluate(Input());
        Assert.Equal(matches, decision.RuleIds.Contains("d"));
    }

    [Theory]
    [InlineData("acme", null, true)]
    [InlineData("globex", null, false)]
    [InlineData(null, "prod", true)]
    [InlineData(null, "dev", false)]
    [InlineData("acme", "dev", false)]
    public void Evaluate_PolicyScope_TenantAndEnv(string? tenant, string? env, bool applies)
    {
        var policy = PolicyOf("p", Rule("d", PolicyRuleKind.DenyAction)) with { TenantId = tenant, ScopeEnv = env };
        Assert.Equal(applies, PolicyEvaluator.Create([policy]).Evaluate(Input()).RuleIds.Contains("d"));
    }

    [Fact]
    public void Evaluate_SelectorOnRuntimeId_DoesNotMatchRuntimeNotYetCreated()
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p", Rule("d", PolicyRuleKind.DenyAction, new() { RuntimeIds = ["rt_1"] }), Rule("a", PolicyRuleKind.AllowAction))]);
        Assert.Equal(PolicyEffect.Allow, evaluator.Evaluate(Input(ActionType.Create, runtime: new PolicyRuntimeFacts())).Effect);
    }

    [Theory]
    [InlineData(PolicyMode.Audit)]
    [InlineData(PolicyMode.Warn)]
    public void Evaluate_NonEnforcedDeny_OnlyWarns(PolicyMode mode)
    {
        var evaluator = PolicyEvaluator.Create([
            PolicyOf("trial", Rule("d", PolicyRuleKind.DenyAction)) with { Mode = mode },
            PolicyOf("base", Rule("a", PolicyRuleKind.AllowAction)),
        ]);
        var decision = evaluator.Evaluate(Input());
        Assert.Equal(PolicyEffect.Allow, decision.Effect);
        Assert.Equal(["a"], decision.RuleIds);
        var warning = Assert.Single(decision.Warnings);
        Assert.Equal(("d", "trial", mode, PolicyEffect.Deny), (warning.RuleId, warning.PolicyId, warning.Mode, warning.WouldBe));
        Assert.Contains("not enforced", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_NonEnforcedAllow_GrantsNothing()
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("trial", Rule("a", PolicyRuleKind.AllowAction)) with { Mode = PolicyMode.Audit }]);
        var decision = evaluator.Evaluate(Input());
        Assert.Equal(PolicyEffect.Deny, decision.Effect);
        Assert.Empty(decision.Warnings);
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(5, true)]
    public void Evaluate_MutationBudget_CountsTheActionItself(int alreadyDone, bool violated)
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p",
            Rule("budget", PolicyRuleKind.BudgetGuardrail, p: new() { MaxMutationsPerWindow = 5, Window = TimeSpan.FromHours(1) }),
            Rule("a", PolicyRuleKind.AllowAction))]);
        var input = Input() with { Budget = new() { MutationsInWindow = new Dictionary<TimeSpan, int> { [TimeSpan.FromHours(1)] = alreadyDone } } };
        var decision = evaluator.Evaluate(input);
        Assert.Equal(violated ? ["budget"] : ["a"], decision.RuleIds);
        if (violated)
        {
            Assert.Contains("5 mutations in the last 1h already; the budget allows 5 per 1h", decision.Reasons[0], StringComparison.Ordinal);
        }

        Assert.Equal([TimeSpan.FromHours(1)], evaluator.BudgetWindows);
    }

    [Theory]
    [InlineData(1, 10, false)] // 2 of 10 = 20% <= 25%
    [InlineData(2, 10, true)] // 3 of 10 = 30% > 25%
    [InlineData(0, 4, false)] // 1 of 4 = 25%
    [InlineData(0, 3, true)] // 1 of 3 = 33%
    [InlineData(0, 0, true)] // empty scope
    [InlineData(null, 10, true)] // counter missing: fail closed
    public void Evaluate_ChangedPercent_IsTheBlastRadius(int? changed, int inScope, bool violated)
    {
        var hour = TimeSpan.FromHours(1);
        var evaluator = PolicyEvaluator.Create([PolicyOf("p",
            Rule("radius", PolicyRuleKind.BudgetGuardrail, p: new() { MaxChangedPercent = 25, Window = hour }),
            Rule("a", PolicyRuleKind.AllowAction))]);
        var counts = changed is { } c ? new Dictionary<TimeSpan, int> { [hour] = c } : [];
        var decision = evaluator.Evaluate(Input() with { Budget = new() { RuntimesChangedInWindow = counts, RuntimesInScope = inScope } });
        Assert.Equal(violated ? ["radius"] : ["a"], decision.RuleIds);
        Assert.Equal([hour], evaluator.BudgetWindows);
    }

    [Fact]
    public void Evaluate_MutationBudgetCounterMissing_FailsClosed()
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p",
            Rule("budget", PolicyRuleKind.BudgetGuardrail, p: new() { MaxMutationsPerWindow = 5, Window = TimeSpan.FromMinutes(30) }),
            Rule("a", PolicyRuleKind.AllowAction))]);
        var decision = evaluator.Evaluate(Input());
        Assert.Equal(PolicyEffect.Deny, decision.Effect);
        Assert.Contains("not supplied", decision.Reasons[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("large", null, null, false)]
    [InlineData("xlarge", null, null, false)]
    [InlineData("2xlarge", null, null, true)]
    [InlineData("galactic", null, null, true)]
    [InlineData(null, 8, null, true)]
    [InlineData(null, null, 32768L, true)]
    [InlineData(null, 4, 16384L, false)]
    public void Evaluate_MaxSize(string? targetSize, int? targetVcpus, long? targetMemory, bool violated)
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p",
            Rule("size", PolicyRuleKind.BudgetGuardrail, p: new() { MaxSize = "xlarge" }),
            Rule("a", PolicyRuleKind.AllowAction))]);
        var runtime = new PolicyRuntimeFacts { Id = "rt_1", TargetSize = targetSize, TargetVcpus = targetVcpus, TargetMemoryMiB = targetMemory };
        Assert.Equal(violated ? PolicyEffect.Deny : PolicyEffect.Allow, evaluator.Evaluate(Input(runtime: runtime)).Effect);
    }

    [Theory]
    [InlineData(10, "medium", "xlarge", false)] // 10 + (4 - 1) = 13 <= 16
    [InlineData(14, "medium", "xlarge", true)] // 14 + 3 = 17 > 16
    [InlineData(20, "xlarge", "medium", false)] // shrinking is never blocked
    [InlineData(null, "medium", "xlarge", true)] // total unknown: fail closed
    public void Evaluate_TotalVcpuBudget_ChecksTheGrowth(int? total, string current, string target, bool violated)
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p",
            Rule("cap", PolicyRuleKind.BudgetGuardrail, p: new() { MaxTotalVcpu = 16, Effect = PolicyEffect.RequireApproval }),
            Rule("a", PolicyRuleKind.AllowAction))]);
        Assert.True(SizeTable.TryGet(current, out var size));
        var input = Input(runtime: new PolicyRuntimeFacts { Id = "rt_1", CurrentVcpus = size.Vcpus, CurrentMemoryMiB = size.MemoryMiB, TargetSize = target })
            with { Budget = new() { TotalVcpus = total } };
        var decision = evaluator.Evaluate(input);
        Assert.Equal(violated ? PolicyEffect.RequireApproval : PolicyEffect.Allow, decision.Effect);
    }

    [Fact]
    public void Evaluate_TotalMemoryBudget_OnCreate_CountsTheWholeNewRuntime()
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p",
            Rule("mem", PolicyRuleKind.BudgetGuardrail, p: new() { MaxTotalMemoryMiB = 65536 }),
            Rule("a", PolicyRuleKind.AllowAction))]);
        var create = Input(ActionType.Create, runtime: new PolicyRuntimeFacts { TargetSize = "xlarge" });
        Assert.Equal(PolicyEffect.Allow, evaluator.Evaluate(create with { Budget = new() { TotalMemoryMiB = 49152 } }).Effect);
        var denied = evaluator.Evaluate(create with { Budget = new() { TotalMemoryMiB = 49153 } });
        Assert.Equal(PolicyEffect.Deny, denied.Effect);
        Assert.Contains("above the limit of 64Gi", denied.Reasons[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public", null, true)]
    [InlineData(null, "open", true)]
    [InlineData("private", "restricted", false)]
    [InlineData(null, null, false)]
    public void Evaluate_DataEgress_DeniesPublicExposureAndOpenEgress(string? exposure, string? egress, bool denied)
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p", Rule("egress", PolicyRuleKind.DataEgress), Rule("a", PolicyRuleKind.AllowAction))]);
        var decision = evaluator.Evaluate(Input(ActionType.Create) with { RequestedExposure = exposure, RequestedEgress = egress });
        Assert.Equal(denied ? PolicyEffect.Deny : PolicyEffect.Allow, decision.Effect);
    }

    [Fact]
    public void Evaluate_DataEgressBothViolated_OneRuleIdTwoReasons()
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p", Rule("egress", PolicyRuleKind.DataEgress))]);
        var decision = evaluator.Evaluate(Input(ActionType.Create) with { RequestedExposure = "public", RequestedEgress = "open" });
        Assert.Equal(["egress"], decision.RuleIds);
        Assert.Contains("exposure 'public'", decision.Reasons[0], StringComparison.Ordinal);
        Assert.Contains("egress policy 'open'", decision.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Create_DuplicateRuleIds_Throws()
        => Assert.Throws<ArgumentException>(() => PolicyEvaluator.Create([PolicyOf("p1", Rule("x", PolicyRuleKind.DenyAction)), PolicyOf("p2", Rule("x", PolicyRuleKind.AllowAction))]));

    [Fact]
    public void ToJsonObject_UsesSnakeCaseNames()
    {
        var decision = PolicyEvaluator.Create([
            PolicyOf("p", Rule("r", PolicyRuleKind.RequireApproval)),
            PolicyOf("t", Rule("w", PolicyRuleKind.DenyAction)) with { Mode = PolicyMode.Warn },
        ]).Evaluate(Input());
        var json = decision.ToJsonObject().ToJsonString();
        Assert.StartsWith("""{"effect":"require_approval","rule_ids":["r"],"reasons":[""", json, StringComparison.Ordinal);
        Assert.Contains(""" "rule_id":"w","policy_id":"t","mode":"warn","would_be":"deny" """.Trim(), json, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_IsThreadSafe_SameDecisionFromManyThreads()
    {
        var evaluator = PolicyEvaluator.Create([PolicyOf("p",
            Rule("budget", PolicyRuleKind.BudgetGuardrail, p: new() { MaxSize = "large" }),
            Rule("a", PolicyRuleKind.AllowAction))]);
        var small = Input(runtime: new PolicyRuntimeFacts { Id = "rt_1", TargetSize = "small" });
        var huge = Input(runtime: new PolicyRuntimeFacts { Id = "rt_1", TargetSize = "2xlarge" });
        Parallel.For(0, 2000, i =>
        {
            var decision = evaluator.Evaluate(i % 2 == 0 ? small : huge);
            Assert.Equal(i % 2 == 0 ? PolicyEffect.Allow : PolicyEffect.Deny, decision.Effect);
        });
    }

    [Fact]
    public void PolicyRuntimeFacts_From_ReadsSizeResourcesAndLabels()
    {
        var runtime = new Runtime
        {
            Id = "rt_9",
            Name = "db",
            Type = RuntimeType.Vcluster,
            State = RuntimeState.Running,
            TenantId = "acme",
            Labels = new Dictionary<string, string> { ["env"] = "prod" },
            Spec = new RuntimeSpec { Size = "medium", Resources = new ResourceProfile { Memory = "6Gi" } },
            CreatedAt = DateTimeOffset.UnixEpoch,
        };

        var facts = PolicyRuntimeFacts.From(runtime, targetSize: "large");

        Assert.Equal(("rt_9", RuntimeType.Vcluster, "acme", "prod"), (facts.Id, facts.Type, facts.TenantId, facts.Env));
        Assert.Equal((1, 6144L, "large"), (facts.CurrentVcpus, facts.CurrentMemoryMiB, facts.TargetSize));
    }
}
