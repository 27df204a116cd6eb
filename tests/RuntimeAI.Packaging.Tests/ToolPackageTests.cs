namespace RuntimeAI.Packaging.Tests;

/// <summary>The .NET tool package, installed as a user would: from a local feed into a tool path.</summary>
public sealed class ToolPackageTests(PackageDirectory package)
{
    [Fact]
    public async Task Install_FromLocalFeed_RunsAndReportsVersionCommitAndJitFlavour()
    {
        Assert.True(File.Exists(package.ArtifactPath($"runtimeai.{package.Version}.nupkg")), $"runtimeai.{package.Version}.nupkg is missing from {package.Path}");
        var toolPath = RepoPaths.NewTempDir("tool");

        var install = await Processes.RunAsync("dotnet",
            ["tool", "install", "runtimeai", "--version", package.Version, "--add-source", package.Path, "--tool-path", toolPath],
            toolPath, TimeSpan.FromMinutes(3));
        Assert.True(install.ExitCode == 0, install.Describe("dotnet tool install"));

        var version = await Processes.RunAsync(Path.Combine(toolPath, "runtimeai"), ["--version"], toolPath);
        Assert.True(version.ExitCode == 0, version.Describe("runtimeai --version"));
        Assert.StartsWith($"runtimeai {package.Version} commit {package.Commit} build jit", version.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstalledTool_ToolsList_ShowsTheCatalogTools()
    {
        var tool = await InstalledTool.PathAsync(package);
        var toolPath = Path.GetDirectoryName(tool)!;

        var list = await Processes.RunAsync(tool, ["tools", "list", "--json", "--data-dir", RepoPaths.NewTempDir("data")], toolPath);

        Assert.True(list.ExitCode == 0, list.Describe("runtimeai tools list --json"));
        Assert.Contains("\"list_runtimes\"", list.Stdout, StringComparison.Ordinal);
    }
}
