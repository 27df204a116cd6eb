using System.Text.Json;
using System.Text.RegularExpressions;

namespace RuntimeAI.Packaging.Tests;

/// <summary>
/// server.json (MCP registry) and manifest.json (MCPB). The MCPB manifest is validated by the MCPB
/// CLI from the npm registry (its published schema). The registry's server.json schema is not
/// published on the npm registry, so server.json is checked here against the rules its published
/// documentation states (name, version, package, transport); see docs/packaging.md.
/// </summary>
public sealed partial class RegistryManifestTests(PackageDirectory package)
{
    private static string[] CatalogToolNames()
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "tools-catalog", "index.json")));
        return index.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task McpbManifest_McpbValidate_Passes()
    {
        var result = await Validators.RunAsync(Validators.Bin("mcpb"), "validate", package.ArtifactPath("manifest.json"));

        Assert.True(result.ExitCode == 0, result.Describe("mcpb validate manifest.json"));
        Assert.Contains("passes", result.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task McpbManifest_WithoutEntryPoint_McpbValidateFails()
    {
        var broken = Path.Combine(RepoPaths.NewTempDir("mcpb"), "manifest.json");
        File.WriteAllText(broken, File.ReadAllText(package.ArtifactPath("manifest.json")).Replace("\"entry_point\"", "\"entrypoint\"", StringComparison.Ordinal));

        var result = await Validators.RunAsync(Validators.Bin("mcpb"), "validate", broken);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("entry_point", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void McpbManifest_FilledFromTheBuild_VersionStdioBinaryAndEveryCatalogTool()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(package.ArtifactPath("manifest.json")));
        var root = manifest.RootElement;

        Assert.Equal(package.Version, root.GetProperty("version").GetString());
        var server = root.GetProperty("server");
        Assert.Equal("binary", server.GetProperty("type").GetString());
        Assert.Equal("runtimeai", server.GetProperty("entry_point").GetString());
        var args = server.GetProperty("mcp_config").GetProperty("args").EnumerateArray().Select(a => a.GetString()).ToArray();
        Assert.Equal(["serve", "--transport", "stdio"], args[..3]);
        var tools = root.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(CatalogToolNames(), tools);
        Assert.All(root.GetProperty("tools").EnumerateArray(), t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("description").GetString())));
    }

    [Fact]
    public void ServerJson_RegistryRules_NameVersionNugetPackageAndStdio()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(package.ArtifactPath("server.json")));
        var root = doc.RootElement;

        Assert.Matches(SchemaUrl(), root.GetProperty("$schema").GetString()!);
        // One slash; the namespace before it is reverse DNS; the server name is letters, digits, . _ -.
        Assert.Matches(ServerName(), root.GetProperty("name").GetString()!);
        var description = root.GetProperty("description").GetString()!;
        Assert.InRange(description.Length, 1, 100);
        Assert.Equal(package.Version, root.GetProperty("version").GetString());

        var nuget = Assert.Single(root.GetProperty("packages").EnumerateArray());
        Assert.Equal("nuget", nuget.GetProperty("registryType").GetString());
        Assert.Equal("runtimeai", nuget.GetProperty("identifier").GetString());
        Assert.Equal(package.Version, nuget.GetProperty("version").GetString());
        Assert.Equal("stdio", nuget.GetProperty("transport").GetProperty("type").GetString());
        Assert.True(File.Exists(package.ArtifactPath($"{nuget.GetProperty("identifier").GetString()}.{package.Version}.nupkg")),
            "server.json names a package this build did not produce");
        Assert.All(nuget.GetProperty("packageArguments").EnumerateArray(), a => Assert.Contains(a.GetProperty("type").GetString(), new[] { "positional", "named" }));
    }

    [GeneratedRegex(@"^https://static\.modelcontextprotocol\.io/schemas/\d{4}-\d{2}-\d{2}/server\.schema\.json$")]
    private static partial Regex SchemaUrl();

    [GeneratedRegex(@"^[a-zA-Z0-9.-]+\.[a-zA-Z0-9-]+/[a-zA-Z0-9._-]+$")]
    private static partial Regex ServerName();
}
