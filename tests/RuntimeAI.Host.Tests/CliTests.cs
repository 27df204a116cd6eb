namespace RuntimeAI.Host.Tests;

/// <summary>The command line as a user meets it: one clear line, the right exit code, no stack trace.</summary>
public sealed class CliTests
{
    private static void AssertCleanError(string stderr, string expected)
    {
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsVersionCommitAndFlavour()
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync("--version");

        Assert.True(code == 0, stderr);
        var line = Assert.Single(stdout.Trim().Split('\n'));
        var match = System.Text.RegularExpressions.Regex.Match(line, "^runtimeai (?<version>[0-9]+\\.[0-9]+\\.[0-9]+\\S*) commit (?<commit>[0-9a-f]{40}|unknown) build (?<flavour>jit|aot) \\(\\.NET ");
        Assert.True(match.Success, line);
        // This test runs the JIT build made from a git clone: the commit is the clone's HEAD or an ancestor of it.
        Assert.Equal("jit", match.Groups["flavour"].Value);
        var head = await GitAsync("rev-parse", "HEAD");
        if (head is null)
        {
            Assert.Skip("git is not available to read HEAD; the format was checked");
        }

        var commit = match.Groups["commit"].Value;
        Assert.NotEqual("unknown", commit);
        Assert.True(await GitAsync("merge-base", "--is-ancestor", commit, "HEAD") is not null, $"{commit} is not HEAD ({head}) or an ancestor of it");
    }

    private static async Task<string?> GitAsync(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        try
        {
            using var git = System.Diagnostics.Process.Start(info)!;
            var output = await git.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await git.WaitForExitAsync(TestContext.Current.CancellationToken);
            return git.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    [Fact]
    public async Task UnknownFlag_ExitsTwoWithOneLine()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--bogus");

        Assert.Equal(2, code);
        AssertCleanError(stderr, "'--bogus'");
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task BadConfig_ListsEveryErrorAndExitsTwo()
    {
        var dir = TestPaths.NewDataDir();
        var config = Path.Combine(dir, "config.json");
        await File.WriteAllTextAsync(config, """{"transport": "carrier-pigeon", "autonomy": "yolo", "colour": 1}""", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--config", config, "--data-dir", dir);

        Assert.Equal(2, code);
        AssertCleanError(stderr, "3 configuration errors");
        Assert.Contains("carrier-pigeon", stderr, StringComparison.Ordinal);
        Assert.Contains("yolo", stderr, StringComparison.Ordinal);
        Assert.Contains("'colour' is not a known setting", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadAutonomyScopes_EveryProblemListed()
    {
        var dir = TestPaths.NewDataDir();
        var config = Path.Combine(dir, "config.json");
        await File.WriteAllTextAsync(config, """{"autonomy_scopes": [{"labels": {"env": "prod"}, "level": "yolo"}, {"level": "copilot"}]}""", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await ServerProcess.RunAsync("tools", "list", "--config", config, "--data-dir", dir);

        Assert.Equal(2, code);
        AssertCleanError(stderr, "autonomy_scopes'[0] has no valid level");
        Assert.Contains("autonomy_scopes'[1] selects every runtime", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AutonomyScopes_RaiseTheLevelForAScope_ExecuteToolsListed()
    {
        var dir = TestPaths.NewDataDir();
        var config = Path.Combine(dir, "config.json");
        await File.WriteAllTextAsync(config, """{"autonomy": "advisor", "autonomy_scopes": [{"labels": {"env": "dev"}, "level": "autonomous"}]}""", TestContext.Current.CancellationToken);

        var (code, stdout, _) = await ServerProcess.RunAsync("tools", "list", "--config", config, "--data-dir", dir);

        Assert.Equal(0, code);
        Assert.Contains("create_runtime", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreadableConfig_NamesTheFile()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--config", "/nonexistent/runtimeai.json");

        Assert.Equal(2, code);
        AssertCleanError(stderr, "config file '/nonexistent/runtimeai.json' cannot be read");
    }

    [Fact]
    public async Task DataDirNotWritable_SaysSoAndExitsTwo()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", "/proc/runtimeai-cannot-write");

        Assert.Equal(2, code);
        AssertCleanError(stderr, "is not writable");
    }

    [Fact]
    public async Task PortInUse_SaysSoAndExitsNonZero()
    {
        var dataDir = TestPaths.NewDataDir();
        await using var first = await ServerProcess.StartHttpAsync(dataDir);
        var url = $"http://127.0.0.1:{first.McpEndpoint!.Port}";

        var (code, _, stderr) = await ServerProcess.RunAsync("serve", "--transport", "http", "--urls", url, "--data-dir", TestPaths.NewDataDir());

        Assert.NotEqual(0, code);
        AssertCleanError(stderr, "already in use");
    }

    [Fact]
    public async Task Call_PrintsStructuredJsonAndExitsZero()
    {
        var dataDir = TestPaths.NewDataDir();
        await InventorySeed.AddRuntimesAsync(dataDir, 2);

        var (code, stdout, _) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", dataDir, "--args", """{"page_size": 1}""");

        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(1, doc.RootElement.GetProperty("items").GetArrayLength());
        Assert.NotNull(doc.RootElement.GetProperty("next_page_token").GetString());
    }

    [Fact]
    public async Task Call_ToolError_ExitsOne()
    {
        var (code, stdout, stderr) = await ServerProcess.RunAsync("call", "get_runtime", "--data-dir", TestPaths.NewDataDir(),
            "--args", """{"runtime_id": "rt_01ARZ3NDEKTSV4RRFFQ69G5FAV"}""");

        Assert.Equal(1, code);
        Assert.Contains("not_found", stdout, StringComparison.Ordinal);
        AssertCleanError(stderr, "does not exist");
    }

    [Fact]
    public async Task Call_InvalidArgs_ExitsTwoWithEveryViolation()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", TestPaths.NewDataDir(),
            "--args", """{"page_size": 0, "extra": true}""");

        Assert.Equal(2, code);
        AssertCleanError(stderr, "2 problems");
    }

    [Fact]
    public async Task Call_ArgsNotJson_ExitsTwo()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", TestPaths.NewDataDir(), "--args", "{page_size:");

        Assert.Equal(2, code);
        AssertCleanError(stderr, "--args is not valid JSON");
    }

    [Fact]
    public async Task CorruptDatabase_IsRefusedWithoutTouchingIt()
    {
        var dataDir = TestPaths.NewDataDir();
        var path = Path.Combine(dataDir, "runtimeai.db");
        var junk = new byte[8192];
        new Random(7).NextBytes(junk);
        await File.WriteAllBytesAsync(path, junk, TestContext.Current.CancellationToken);

        var (code, _, stderr) = await ServerProcess.RunAsync("call", "list_runtimes", "--data-dir", dataDir);

        Assert.Equal(2, code);
        AssertCleanError(stderr, "is not a readable RuntimeAI database");
        Assert.Equal(junk, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
    }
}
