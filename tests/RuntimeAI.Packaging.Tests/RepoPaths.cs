namespace RuntimeAI.Packaging.Tests;

/// <summary>Where the repository is, found from the test assembly upwards.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "runtimeai-packaging-tests", prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RuntimeAI.Mcp.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
