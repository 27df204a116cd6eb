namespace RuntimeAI.Host.Tests;

/// <summary><c>runtimeai policy test|validate</c> and <c>serve --policies</c> through the real executable.</summary>
public sealed class PolicyCommandTests
{
    private static string SamplePolicies => Path.Combine(TestPaths.RepoRoot, "samples", "policies");

    private static string SampleTests => Path.Combine(TestPaths.RepoRoot, "samples", "policy-tests");

    /// <summary>A copy of the sample policies with three mistakes in two files.</summary>
    private static string BrokenPolicies()
    {
        var dir = TestPaths.NewDataDir();
        foreach (var file in Directory.GetFiles(SamplePolicies))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        var prod = Path.Combine(dir, "prod-safety.yaml");
        File.WriteAllText(prod, File.ReadAllText(prod)
            .Replace("kind: deny_action", "kind: deny_actions", StringComparison.Ordinal)
            .Replace("window: 1h\n      max_size", "window: soon\n      max_size", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(dir, "typo.json"), """{"id": "typo", "rules": [{"id": "r", "kind": "allow_action", "selector": {"colour": "red"}}]}""");
        return dir;
    }

    [Fact]
    public async Task PolicyTest_Samples_AllPassExitZero()
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync("policy", "test", SampleTests, "--policies", SamplePolicies);

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("PASS ", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL ", stdout, StringComparison.Ordinal);
        Assert.Contains("OK", stdout.Trim().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_ChangedPolicy_FailingCasesExitOne()
    {
        var dir = TestPaths.NewDataDir();
        foreach (var file in Directory.GetFiles(SamplePolicies).Where(f => !f.EndsWith("prod-safety.yaml", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        var (code, stdout, _) = await ServerProcess.RunAsync("policy", "test", SampleTests, "--policies", dir);

        Assert.Equal(1, code);
        Assert.Contains("FAIL prod.yaml: deleting a prod runtime is denied at every level", stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_BrokenPolicies_ListsEveryErrorExitTwo()
    {
        var (code, stdout, _) = await ServerProcess.RunAsync("policy", "test", SampleTests, "--policies", BrokenPolicies());

        Assert.Equal(2, code);
        Assert.Contains("deny_actions", stdout, StringComparison.Ordinal);
        Assert.Contains("soon", stdout, StringComparison.Ordinal);
        Assert.Contains("typo.json: /rules/0/selector/colour", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyValidate_Samples_Ok_Broken_ListsEveryErrorExitTwo()
    {
        var ok = await ServerProcess.RunAsync("policy", "validate", SamplePolicies);
        var broken = await ServerProcess.RunAsync("policy", "validate", BrokenPolicies());

        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("5 policies", ok.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, broken.ExitCode);
        var errors = broken.Stdout.Trim().Split('\n');
        Assert.Equal(3, errors.Length);
        Assert.All(errors, e => Assert.StartsWith("ERROR ", e, StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("prod-safety.yaml: /rules/0/kind (rule #0)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("prod-safety.yaml: /rules/2/params/window (rule #2)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("typo.json: /rules/0/selector/colour (rule #0)", StringComparison.Ordinal));
        Assert.Contains("3 policy errors", broken.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_MissingDirectory_OneLineExitTwo()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("policy", "test", "/nonexistent/tests", "--policies", SamplePolicies);

        Assert.Equal(2, code);
        Assert.Contains("'/nonexistent/tests' is not a directory", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Serve_BrokenPolicies_RefusesToStartListingEveryError()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--policies", BrokenPolicies(), "--data-dir", TestPaths.NewDataDir());

        Assert.Equal(2, code);
        Assert.Contains("3 configuration errors", stderr, StringComparison.Ordinal);
        Assert.Contains("/prod-safety.yaml: /rules/0/kind (rule #0)", stderr, StringComparison.Ordinal);
        Assert.Contains("/prod-safety.yaml: /rules/2/params/window (rule #2)", stderr, StringComparison.Ordinal);
        Assert.Contains("/typo.json: /rules/0/selector/colour (rule #0)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_PoliciesFlag_ListsFilePolicies()
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync("call", "list_policies", "--policies", SamplePolicies, "--data-dir", TestPaths.NewDataDir());

        Assert.True(code == 0, stderr);
        Assert.Contains("\"prod-safety\"", stdout, StringComparison.Ordinal);
    }
}
