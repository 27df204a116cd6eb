using RuntimeAI.Core.Policies;

namespace RuntimeAI.Core.Tests.Policies;

public sealed class PolicySamplesTests
{
    [Fact]
    public void SamplePolicies_LoadWithoutErrors()
    {
        var result = PolicyLoader.LoadDirectory(TestPaths.Combine("samples", "policies"));
        Assert.True(result.Ok, string.Join('\n', result.Errors));
        Assert.Equal(["baseline", "keep-private", "vcluster-delete-trial", "prod-safety", "acme-capacity"], result.Policies.Select(p => p.Id));
    }

    [Fact]
    public void SamplePolicyTests_AllPass()
    {
        var report = PolicyTestRunner.RunDirectory(TestPaths.Combine("samples", "policy-tests"), TestPaths.Combine("samples", "policies"));
        Assert.True(report.Passed, report.ToText());
        Assert.True(report.Results.Count >= 19, report.ToText());
    }

    [Fact]
    public void RunDirectory_WrongExpectation_FailsThatCaseAndSaysWhy()
    {
        var evaluator = PolicyLoader.LoadDirectory(TestPaths.Combine("samples", "policies")).CreateEvaluator();
        var report = PolicyTestRunner.Run(evaluator, [new PolicySource("t.yaml", """
            cases:
              - name: wrong on purpose
                input: {action: delete, autonomy: autonomous, runtime: {labels: {env: prod}}, budget: {mutations_in_window: {1h: 0}}}
                expect: {effect: allow, rule_ids: [nope]}
              - name: right
                input: {action: delete, autonomy: autonomous, runtime: {labels: {env: prod}}, budget: {mutations_in_window: {1h: 0}}}
                expect: {effect: deny, rule_ids: [deny-prod-delete]}
            """)]);

        Assert.False(report.Passed);
        var failed = Assert.Single(report.Results, r => !r.Passed);
        Assert.Equal("wrong on purpose", failed.Name);
        Assert.Contains("expected allow but got deny", failed.Message, StringComparison.Ordinal);
        Assert.Contains("expected rule ids [nope] but got [deny-prod-delete]", failed.Message, StringComparison.Ordinal);
        Assert.Contains("1/2 cases passed", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_BadTestFile_ListsEveryError()
    {
        var report = PolicyTestRunner.Run(PolicyEvaluator.Empty, [new PolicySource("bad.yaml", """
            cases:
              - name: typos
                input: {action: reboot, autonomy: pilot, runtime: {type: lambda}, colour: red}
                expect: {effect: maybe}
            """)]);

        Assert.False(report.Passed);
        Assert.Empty(report.Results);
        var paths = report.Errors.Select(e => e.Path).ToArray();
        Assert.Equal(["/cases/0/input/colour", "/cases/0/input/action", "/cases/0/input/autonomy", "/cases/0/input/runtime/type", "/cases/0/expect/effect"], paths);
    }

    [Fact]
    public void RunDirectory_BrokenPolicies_ReportsPolicyErrorsAndRunsNothing()
    {
        var dir = Directory.CreateTempSubdirectory("policies");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "p.yaml"), "id: p\nrules: []\n");
            var report = PolicyTestRunner.RunDirectory(TestPaths.Combine("samples", "policy-tests"), dir.FullName);
            Assert.False(report.Passed);
            Assert.Empty(report.Results);
            Assert.Contains(report.Errors, e => e.Problem.Contains("empty rule list", StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
