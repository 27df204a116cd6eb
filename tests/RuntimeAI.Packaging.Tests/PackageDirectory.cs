using System.Xml.Linq;

[assembly: AssemblyFixture(typeof(RuntimeAI.Packaging.Tests.PackageDirectory))]

namespace RuntimeAI.Packaging.Tests;

/// <summary>
/// What scripts/package.sh produced, made once for the whole test assembly. RUNTIMEAI_PACKAGE_DIR
/// names a directory the script already filled (<c>scripts/package.sh --check</c> sets it, with the
/// NativeAOT archive); otherwise the fixture runs <c>scripts/package.sh --fast</c> into a temporary
/// directory: the tool package, SBOM and manifests, without the minutes-long AOT link.
/// </summary>
public sealed class PackageDirectory : IAsyncLifetime
{
    /// <summary>The directory holding the artifacts and their SHA256SUMS.</summary>
    public string Path { get; private set; } = "";

    /// <summary>The version the build stamped (Directory.Build.props).</summary>
    public string Version { get; } = ReadVersion();

    /// <summary>The commit the artifacts were built from.</summary>
    public string Commit { get; private set; } = "";

    /// <summary>True when the directory holds the NativeAOT archive (not built by --fast).</summary>
    public bool HasAotArchive => File.Exists(AotArchive);

    public string AotArchive => System.IO.Path.Combine(Path, $"runtimeai-{Version}-linux-x64.tar.gz");

    public string ArtifactPath(string name) => System.IO.Path.Combine(Path, name);

    public async ValueTask InitializeAsync()
    {
        var head = await Processes.RunAsync("git", ["rev-parse", "HEAD"], RepoPaths.Root);
        Commit = head.ExitCode == 0 ? head.Stdout.Trim() : "unknown";

        var given = Environment.GetEnvironmentVariable("RUNTIMEAI_PACKAGE_DIR");
        if (!string.IsNullOrEmpty(given))
        {
            Path = System.IO.Path.GetFullPath(given);
            return;
        }

        Path = RepoPaths.NewTempDir("package");
        var run = await Processes.RunAsync("bash", ["scripts/package.sh", "--fast", "--output", Path], RepoPaths.Root, TimeSpan.FromMinutes(8));
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException(run.Describe("scripts/package.sh --fast"));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The central package versions (Directory.Packages.props): what the SBOM must list.</summary>
    public static IReadOnlyDictionary<string, string> CentralPackageVersions() =>
        XDocument.Load(System.IO.Path.Combine(RepoPaths.Root, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!, StringComparer.OrdinalIgnoreCase);

    private static string ReadVersion() =>
        XDocument.Load(System.IO.Path.Combine(RepoPaths.Root, "Directory.Build.props")).Descendants("Version").Single().Value;
}
