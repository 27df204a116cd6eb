using System.Diagnostics;

namespace RuntimeAI.Host.Tests;

/// <summary>samples/ci/ as a CI job runs it: the deploy-gate script against the built server, and the policy repository's tests.</summary>
public sealed class CiSampleTests
{
    private static readonly string s_sample = Path.Combine(TestPaths.RepoRoot, "samples", "ci");

    private static async Task<(int Code, string Stdout, string Stderr)> GateAsync(string dataDir, string? apiKey, params string[] args)
    {
        if (!File.Exists("/usr/bin/jq") && !File.Exists("/usr/local/bin/jq"))
        {
            Assert.Skip("jq is not installed; samples/ci/deploy-gate.sh needs it to read runtimeai's JSON");
        }

        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(s_sample, "deploy-gate.sh"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["RUNTIMEAI"] = TestPaths.Executable;
        info.Environment["RUNTIMEAI_DATA_DIR"] = dataDir;
        info.Environment["RUNTIMEAI_SANDBOX"] = "true";
        info.Environment.Remove("RUNTIMEAI_CONFIG");
        info.Environment.Remove("RUNTIMEAI_API_KEY");
        if (apiKey is not null)
        {
            info.Environment["RUNTIMEAI_API_KEY"] = apiKey;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task DeployGate_ExitCodes_OkRefusedAndUsage()
    {
        var dataDir = TestPaths.NewDataDir();
        var (keyCode, key, keyErr) = await ServerProcess.RunAsync("keys", "create", "--name", "ci", "--role", "viewer", "--data-dir", dataDir);
        Assert.True(keyCode == 0, keyErr);
        key = key.Trim();

        // The sandbox's libvirt test driver has one running VM named "test".
        var ok = await GateAsync(dataDir, key, "test");
        Assert.True(ok.Code == 0, ok.Stderr);
        Assert.Matches("deploy-gate: runtime 'test' \\(rt_[0-9A-Z]+\\) is running", ok.Stdout);

        var wrongState = await GateAsync(dataDir, key, "test", "stopped");
        Assert.Equal(1, wrongState.Code);
        Assert.Contains("is running, expected stopped", wrongState.Stderr, StringComparison.Ordinal);

        var missing = await GateAsync(dataDir, key, "no-such-runtime");
        Assert.Equal(1, missing.Code);
        Assert.Contains("no runtime named 'no-such-runtime'", missing.Stderr, StringComparison.Ordinal);

        var noKey = await GateAsync(dataDir, null, "test");
        Assert.Equal(2, noKey.Code);
        Assert.Contains("RUNTIMEAI_API_KEY is not set", noKey.Stderr, StringComparison.Ordinal);

        var noArgs = await GateAsync(dataDir, key);
        Assert.Equal(2, noArgs.Code);
        Assert.Contains("usage: deploy-gate.sh", noArgs.Stderr, StringComparison.Ordinal);

        var badKey = await GateAsync(dataDir, "rtk_not-a-key", "test");
        Assert.Equal(2, badKey.Code);
        Assert.Contains("--api-key refused", badKey.Stderr, StringComparison.Ordinal);

        // Every call of the gate is on the audit trail as the key's principal, with the CI reasoning.
        var (auditCode, audit, auditErr) = await ServerProcess.RunAsync("audit", "export", "--data-dir", dataDir);
        Assert.True(auditCode == 0, auditErr);
        Assert.Contains("key:ci", audit, StringComparison.Ordinal);
        Assert.Contains("deploy gate for test", audit, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("staging")]
    [InlineData("prod")]
    public async Task PolicyRepository_EachEnvironment_ValidatesAndItsTestsPass(string environment)
    {
        var root = Path.Combine(s_sample, "policies", environment);

        var (validateCode, _, validateErr) = await ServerProcess.RunAsync("policy", "validate", Path.Combine(root, "policies"));
        var (code, stdout, stderr) = await ServerProcess.RunAsync("policy", "test", Path.Combine(root, "tests"), "--policies", Path.Combine(root, "policies"));

        Assert.True(validateCode == 0, validateErr);
        Assert.True(code == 0, stdout + stderr);
        Assert.Matches("([4-9]|[1-9][0-9])/\\1 cases passed, 0 errors: OK", stdout);
        Assert.DoesNotContain("FAIL", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyRepository_BrokenExpectation_FailsWithExitOne()
    {
        var dir = TestPaths.NewDataDir();
        var tests = Directory.CreateDirectory(Path.Combine(dir, "tests")).FullName;
        await File.WriteAllTextAsync(Path.Combine(tests, "wrong.yaml"), """
            cases:
              - name: prod delete is allowed (wrong on purpose)
                input: {action: delete, autonomy: autonomous, runtime: {id: rt_db1, type: vm, labels: {env: prod}}}
                expect: {effect: allow}
            """, TestContext.Current.CancellationToken);

        var (code, stdout, _) = await ServerProcess.RunAsync("policy", "test", tests, "--policies", Path.Combine(s_sample, "policies", "prod", "policies"));

        Assert.Equal(1, code);
        Assert.Contains("FAIL", stdout, StringComparison.Ordinal);
    }
}
