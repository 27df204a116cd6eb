namespace RuntimeAI.Core.Tests;

/// <summary>Locates files of the repository from the test's output directory.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Combine(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "RuntimeAI.Mcp.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("RuntimeAI.Mcp.sln not found above " + AppContext.BaseDirectory);
    }
}
