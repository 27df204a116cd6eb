namespace RuntimeAI.Host.Tests;

/// <summary>Policy directories for tests.</summary>
internal static class TestPolicies
{
    /// <summary>A directory with one policy that allows every action at every level above advisor.</summary>
    public static string AllowAll()
    {
        var dir = TestPaths.NewDataDir();
        File.WriteAllText(Path.Combine(dir, "allow-all.yaml"), """
            id: test-allow-all
            name: Allow every action (tests)
            rules:
              - id: allow-all
                kind: allow_action
            """);
        return dir;
    }

    /// <summary>A directory with the given YAML as one policy file.</summary>
    public static string With(string yaml)
    {
        var dir = TestPaths.NewDataDir();
        File.WriteAllText(Path.Combine(dir, "policy.yaml"), yaml);
        return dir;
    }
}
