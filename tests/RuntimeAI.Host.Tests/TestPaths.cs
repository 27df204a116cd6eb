namespace RuntimeAI.Host.Tests;

/// <summary>Where the repository and the built <c>runtimeai</c> executable are.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The apphost built next to this test run (same configuration).</summary>
    public static string Executable
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepoRoot, "src", "RuntimeAI.Host", "bin", configuration, "net10.0", "runtimeai");
            return File.Exists(path) ? path : throw new FileNotFoundException($"build src/RuntimeAI.Host first: {path} is missing");
        }
    }

    public static string NewDataDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "runtimeai-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RuntimeAI.Mcp.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
