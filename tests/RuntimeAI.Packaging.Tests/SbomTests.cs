using System.Text.Json;

namespace RuntimeAI.Packaging.Tests;

/// <summary>The CycloneDX SBOM: valid against the CycloneDX schema, and it lists what the build really uses.</summary>
public sealed class SbomTests(PackageDirectory package)
{
    private string SbomPath => package.ArtifactPath($"runtimeai-{package.Version}.cdx.json");

    [Fact]
    public async Task Sbom_CycloneDxStrictSchema_Validates()
    {
        var result = await Validators.RunAsync("validate-sbom.mjs", SbomPath);

        Assert.True(result.ExitCode == 0, result.Describe("validate-sbom.mjs (CycloneDX library, strict JSON schema)"));
        Assert.StartsWith("valid CycloneDX 1.", result.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sbom_InvalidComponent_IsRejectedByTheValidator()
    {
        // The validator itself must be able to fail: a purl that is a number is not CycloneDX.
        var broken = Path.Combine(RepoPaths.NewTempDir("sbom"), "broken.cdx.json");
        var text = File.ReadAllText(SbomPath);
        var purl = $"pkg:nuget/ModelContextProtocol@{PackageDirectory.CentralPackageVersions()["ModelContextProtocol"]}";
        File.WriteAllText(broken, text.Replace($"\"purl\": \"{purl}\"", "\"purl\": 7", StringComparison.Ordinal));
        Assert.NotEqual(text, File.ReadAllText(broken));

        var result = await Validators.RunAsync("validate-sbom.mjs", broken);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("purl", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ModelContextProtocol")]
    [InlineData("ModelContextProtocol.AspNetCore")]
    [InlineData("KubernetesClient.Aot")]
    [InlineData("Microsoft.Data.Sqlite")]
    [InlineData("System.CommandLine")]
    [InlineData("YamlDotNet")]
    [InlineData("JsonSchema.Net")]
    [InlineData("Polly.Core")]
    [InlineData("Serilog")]
    [InlineData("OpenTelemetry")]
    public void Sbom_Components_ListThePackageReferenceAtItsCentralVersion(string id)
    {
        var expected = PackageDirectory.CentralPackageVersions()[id];
        using var bom = JsonDocument.Parse(File.ReadAllText(SbomPath));

        var component = bom.RootElement.GetProperty("components").EnumerateArray()
            .SingleOrDefault(c => c.GetProperty("name").GetString() == id);

        Assert.True(component.ValueKind == JsonValueKind.Object, $"{id} is not a component of the SBOM");
        Assert.Equal(expected, component.GetProperty("version").GetString());
        Assert.Equal($"pkg:nuget/{id}@{expected}", component.GetProperty("purl").GetString());
        Assert.Equal("required", component.GetProperty("scope").GetString());
        Assert.Contains(component.GetProperty("hashes").EnumerateArray(), h => h.GetProperty("alg").GetString() == "SHA-512");
    }

    [Fact]
    public void Sbom_Metadata_NamesRuntimeaiAtTheBuiltVersion()
    {
        using var bom = JsonDocument.Parse(File.ReadAllText(SbomPath));
        var root = bom.RootElement;

        Assert.Equal("CycloneDX", root.GetProperty("bomFormat").GetString());
        var component = root.GetProperty("metadata").GetProperty("component");
        Assert.Equal("runtimeai", component.GetProperty("name").GetString());
        Assert.Equal(package.Version, component.GetProperty("version").GetString());
        // Analyzers are build-time only: listed, but not as something the binary ships.
        var analyzer = root.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Microsoft.CodeAnalysis.BannedApiAnalyzers");
        Assert.Equal("excluded", analyzer.GetProperty("scope").GetString());
    }
}
