namespace RuntimeAI.Packaging.Tests;

/// <summary>
/// The npm validators (validators/package.json: the MCPB CLI, the CycloneDX library), installed from
/// the npm registry once per machine into the test project's validators/node_modules.
/// </summary>
internal static class Validators
{
    private static readonly Lazy<Task<string>> s_installed = new(InstallAsync);

    public static string Directory { get; } = Path.Combine(RepoPaths.Root, "tests", "RuntimeAI.Packaging.Tests", "validators");

    /// <summary>Runs a validator script or package binary with node; returns its result.</summary>
    public static async Task<ProcessResult> RunAsync(params string[] arguments)
    {
        var dir = await s_installed.Value;
        return await Processes.RunAsync("node", arguments, dir);
    }

    public static string Bin(string name) => Path.Combine(Directory, "node_modules", ".bin", name);

    private static async Task<string> InstallAsync()
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "@anthropic-ai", "mcpb"))
            || !System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "@cyclonedx", "cyclonedx-library")))
        {
            var install = await Processes.RunAsync("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"], Directory, TimeSpan.FromMinutes(4));
            if (install.ExitCode != 0)
            {
                throw new InvalidOperationException(install.Describe("npm install in " + Directory));
            }
        }

        return Directory;
    }
}
