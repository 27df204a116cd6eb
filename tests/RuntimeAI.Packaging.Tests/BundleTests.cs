using System.Text.Json;
using ModelContextProtocol.Client;

namespace RuntimeAI.Packaging.Tests;

/// <summary>
/// <c>runtimeai bundle</c> (the air-gapped install), made by the packaged tool: what is in it, that its
/// checksums hold, and that it installs and runs in a network namespace without routes.
/// </summary>
public sealed class BundleTests(PackageDirectory package)
{
    private async Task<string> UnpackedBundleAsync()
    {
        var tool = await InstalledTool.PathAsync(package);
        var dir = RepoPaths.NewTempDir("bundle");
        var archive = Path.Combine(dir, "runtimeai-bundle.tar.gz");
        var made = await Processes.RunAsync(tool,
            ["bundle", "--output", archive, "--source", RepoPaths.Root, "--sbom", package.ArtifactPath($"runtimeai-{package.Version}.cdx.json")], dir);
        Assert.True(made.ExitCode == 0, made.Describe("runtimeai bundle"));
        Assert.Contains($"bundle written to {archive}", made.Stderr, StringComparison.Ordinal);
        var untar = await Processes.RunAsync("tar", ["-xzf", archive, "-C", dir]);
        Assert.True(untar.ExitCode == 0, untar.Describe("tar -xzf"));
        return Path.Combine(dir, $"runtimeai-{package.Version}-linux-x64");
    }

    [Fact]
    public async Task Bundle_Unpacked_HoldsBinarySbomCatalogSamplesDocsAndVerifiedChecksums()
    {
        var bundle = await UnpackedBundleAsync();

        foreach (var part in new[] { "bin/runtimeai", $"sbom/runtimeai-{package.Version}.cdx.json", "tools-catalog/index.json", "docs/packaging.md",
                     "samples/policies", "deploy/kubernetes/50-deployment.yaml", "install.sh", "SHA256SUMS", "bundle.json" })
        {
            Assert.True(File.Exists(Path.Combine(bundle, part)) || Directory.Exists(Path.Combine(bundle, part)), $"the bundle has no {part}");
        }

        Assert.Equal(Directory.GetFiles(Path.Combine(RepoPaths.Root, "tools-catalog")).Length, Directory.GetFiles(Path.Combine(bundle, "tools-catalog")).Length);
        var check = await Processes.RunAsync("sha256sum", ["--check", "--strict", "--quiet", "SHA256SUMS"], bundle);
        Assert.True(check.ExitCode == 0, check.Describe("sha256sum --check"));
        var listed = File.ReadAllLines(Path.Combine(bundle, "SHA256SUMS")).Length;
        var files = Directory.GetFiles(bundle, "*", SearchOption.AllDirectories).Length;
        Assert.Equal(files - 1, listed);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(bundle, "bundle.json")));
        Assert.Equal(package.Version, manifest.RootElement.GetProperty("version").GetString());
        Assert.Equal(package.Commit, manifest.RootElement.GetProperty("commit").GetString());
    }

    [Fact]
    public async Task Bundle_NoCatalogNoSbomWrongExtension_ExitsTwoNamingEveryProblemAndTheFix()
    {
        var tool = await InstalledTool.PathAsync(package);
        var empty = RepoPaths.NewTempDir("empty");

        var made = await Processes.RunAsync(tool, ["bundle", "--output", Path.Combine(empty, "bundle.zip"), "--source", empty], empty);

        Assert.Equal(2, made.ExitCode);
        Assert.Contains($"{empty} has no tools-catalog/index.json; run from the repository checkout or pass --source DIR", made.Stderr, StringComparison.Ordinal);
        Assert.Contains("run scripts/package.sh (--fast is enough) first, or pass --sbom FILE", made.Stderr, StringComparison.Ordinal);
        Assert.Contains("must end in .tar.gz", made.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(empty));
    }

    [Fact]
    public async Task InstallScript_FileChangedAfterBundling_RefusesNamingTheCause()
    {
        var bundle = await UnpackedBundleAsync();
        File.AppendAllText(Path.Combine(bundle, "tools-catalog", "index.json"), " ");

        var install = await Processes.RunAsync("sh", [Path.Combine(bundle, "install.sh"), Path.Combine(RepoPaths.NewTempDir("prefix"), "runtimeai")], bundle);

        Assert.Equal(1, install.ExitCode);
        Assert.Contains("does not match SHA256SUMS", install.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bundle_InNetworkNamespaceWithoutRoutes_InstallsAndServesToolsOverStdio()
    {
        var uid = await Processes.RunAsync("id", ["-u"]);
        Assert.SkipUnless(uid.Stdout.Trim() == "0", "ip netns needs root; run the tests as root to install the bundle in a network namespace without routes.");
        var ns = "rtai-airgap-" + Guid.NewGuid().ToString("N")[..8];
        var added = await Processes.RunAsync("ip", ["netns", "add", ns]);
        Assert.SkipWhen(added.ExitCode != 0, $"ip netns add is not available here ({added.Stderr.Trim()}): install iproute2 and run as root.");
        try
        {
            var bundle = await UnpackedBundleAsync();
            // Loopback only (the server's sandbox binds 127.0.0.1); no other link, no route out.
            Assert.Equal(0, (await Processes.RunAsync("ip", ["-n", ns, "link", "set", "lo", "up"])).ExitCode);
            var links = await Processes.RunAsync("ip", ["-n", ns, "-o", "link", "show"]);
            Assert.Equal(["lo"], links.Stdout.Trim().Split('\n').Select(l => l.Split(':')[1].Trim()).ToArray());
            var routes = await Processes.RunAsync("ip", ["-n", ns, "-4", "route", "show"]);
            Assert.Equal("", routes.Stdout.Trim());

            var prefix = Path.Combine(RepoPaths.NewTempDir("prefix"), "runtimeai");
            var install = await Processes.RunAsync("ip", ["netns", "exec", ns, "sh", Path.Combine(bundle, "install.sh"), prefix], bundle);
            Assert.True(install.ExitCode == 0, install.Describe("install.sh in the network namespace"));
            Assert.Contains($"installed runtimeai {package.Version} commit {package.Commit}", install.Stdout, StringComparison.Ordinal);

            var version = await Processes.RunAsync("ip", ["netns", "exec", ns, Path.Combine(prefix, "bin", "runtimeai"), "--version"]);
            Assert.True(version.ExitCode == 0, version.Describe("runtimeai --version in the network namespace"));
            Assert.StartsWith($"runtimeai {package.Version} commit {package.Commit}", version.Stdout.Trim(), StringComparison.Ordinal);

            await using var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
            {
                Command = "ip",
                Arguments = ["netns", "exec", ns, Path.Combine(prefix, "bin", "runtimeai"), "serve", "--transport", "stdio", "--data-dir", RepoPaths.NewTempDir("data")],
                Name = "runtimeai-airgapped",
                StandardErrorLines = _ => { },
            }), cancellationToken: TestContext.Current.CancellationToken);
            var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

            using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(prefix, "tools-catalog", "index.json")));
            var catalog = index.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToHashSet();
            Assert.Contains(tools, t => t.Name == "list_runtimes");
            Assert.All(tools, t => Assert.Contains(t.Name, catalog));
            var listed = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
            Assert.NotEqual(true, listed.IsError);
        }
        finally
        {
            await Processes.RunAsync("ip", ["netns", "delete", ns]);
        }
    }
}
