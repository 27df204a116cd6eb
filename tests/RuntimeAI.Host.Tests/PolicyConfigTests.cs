namespace RuntimeAI.Host.Tests;

/// <summary>The policy settings of the layered config: policies_dir and admins from file, environment and flags.</summary>
public sealed class PolicyConfigTests
{
    private static string SamplePolicies => Path.Combine(TestPaths.RepoRoot, "samples", "policies");

    [Fact]
    public void Load_ConfigFileKeys_AreRead()
    {
        var dir = TestPaths.NewDataDir();
        var file = Path.Combine(dir, "config.json");
        File.WriteAllText(file, $$"""{"policies_dir": "{{SamplePolicies}}", "admins": ["http:alice", "ops@example.com"]}""");

        var config = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = file }, new Dictionary<string, string?>());

        Assert.Empty(config.Errors);
        Assert.Equal(SamplePolicies, config.Options.PoliciesDir);
        Assert.Equal(["http:alice", "ops@example.com"], config.Options.Admins);
    }

    [Fact]
    public void Load_EnvironmentThenFlag_FlagWinsAndAdminsSplitOnCommas()
    {
        var environment = new Dictionary<string, string?>
        {
            ["RUNTIMEAI_POLICIES_DIR"] = "/nonexistent/from-env",
            ["RUNTIMEAI_ADMINS"] = "http:alice, stdio:bob",
        };

        var fromEnv = ServerConfig.Load(new ServerConfig.Flags(), environment);
        var fromFlag = ServerConfig.Load(new ServerConfig.Flags { PoliciesDir = SamplePolicies }, environment);

        Assert.Contains(fromEnv.Errors, e => e.Contains("/nonexistent/from-env", StringComparison.Ordinal));
        Assert.Equal(["http:alice", "stdio:bob"], fromEnv.Options.Admins);
        Assert.Empty(fromFlag.Errors);
        Assert.Equal(SamplePolicies, fromFlag.Options.PoliciesDir);
    }

    [Fact]
    public void Load_AdminsNotAList_IsAnError()
    {
        var dir = TestPaths.NewDataDir();
        var file = Path.Combine(dir, "config.json");
        File.WriteAllText(file, """{"admins": "http:alice"}""");

        var config = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = file }, new Dictionary<string, string?>());

        Assert.Contains(config.Errors, e => e.Contains("'admins' must be an array of strings", StringComparison.Ordinal));
    }
}
