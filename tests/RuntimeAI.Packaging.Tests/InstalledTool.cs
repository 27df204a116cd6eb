namespace RuntimeAI.Packaging.Tests;

/// <summary>The tool package installed once per test run (dotnet tool install from the package's local feed).</summary>
internal static class InstalledTool
{
    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static string? s_executable;

    public static async Task<string> PathAsync(PackageDirectory package)
    {
        await s_gate.WaitAsync();
        try
        {
            if (s_executable is null)
            {
                var toolPath = RepoPaths.NewTempDir("tool");
                var install = await Processes.RunAsync("dotnet",
                    ["tool", "install", "runtimeai", "--version", package.Version, "--add-source", package.Path, "--tool-path", toolPath],
                    toolPath, TimeSpan.FromMinutes(3));
                Assert.True(install.ExitCode == 0, install.Describe("dotnet tool install"));
                s_executable = Path.Combine(toolPath, "runtimeai");
            }

            return s_executable;
        }
        finally
        {
            s_gate.Release();
        }
    }
}
