namespace RuntimeAI.Host.Tests;

/// <summary>--kubeconfig/--context, the kubeconfig config key and RUNTIMEAI_KUBECONFIG.</summary>
public sealed class KubeconfigConfigTests
{
    private static string Kubeconfig()
    {
        var dir = TestPaths.NewDataDir();
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "kubeconfig");
        File.WriteAllText(path, "apiVersion: v1\nkind: Config\n");
        return path;
    }

    [Fact]
    public void Load_OneFileSeveralContexts_OneBackendPerContext()
    {
        var file = Kubeconfig();

        var config = ServerConfig.Load(new ServerConfig.Flags { Kubeconfig = [file], Context = ["prod", "staging"] }, new Dictionary<string, string?>());

        Assert.Empty(config.Errors);
        Assert.Equal([$"{file}#prod", $"{file}#staging"], config.Options.Kubeconfigs);
    }

    [Fact]
    public void Load_FilesAndContexts_PairInOrderAndTheRestUseCurrentContext()
    {
        var (a, b) = (Kubeconfig(), Kubeconfig());

        var config = ServerConfig.Load(new ServerConfig.Flags { Kubeconfig = [a, b], Context = ["east"] }, new Dictionary<string, string?>());

        Assert.Empty(config.Errors);
        Assert.Equal([$"{a}#east", b], config.Options.Kubeconfigs);
    }

    [Fact]
    public void Load_ConfigFileThenEnvironment_EnvironmentWins()
    {
        var (a, b) = (Kubeconfig(), Kubeconfig());
        var configFile = Path.Combine(Path.GetDirectoryName(a)!, "config.json");
        File.WriteAllText(configFile, $$"""{"kubeconfig": ["{{a}}#lab"]}""");

        var fromFile = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = configFile }, new Dictionary<string, string?>());
        var fromEnv = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = configFile }, new Dictionary<string, string?> { ["RUNTIMEAI_KUBECONFIG"] = $"{b}#x, {a}" });

        Assert.Equal([$"{a}#lab"], fromFile.Options.Kubeconfigs);
        Assert.Equal([$"{b}#x", a], fromEnv.Options.Kubeconfigs);
    }

    [Fact]
    public void Load_MissingFileAndStrayContext_ReportsBothWithTheFix()
    {
        var missing = ServerConfig.Load(new ServerConfig.Flags { Kubeconfig = ["/nonexistent/kubeconfig"] }, new Dictionary<string, string?>());
        var stray = ServerConfig.Load(new ServerConfig.Flags { Context = ["prod"] }, new Dictionary<string, string?>());

        Assert.Contains("kubeconfig '/nonexistent/kubeconfig' does not exist; pass --kubeconfig FILE with a kubeconfig kubectl can read (e.g. ~/.kube/config)", missing.Errors);
        Assert.Contains("--context needs --kubeconfig FILE (the file whose context it names)", stray.Errors);
    }
}
