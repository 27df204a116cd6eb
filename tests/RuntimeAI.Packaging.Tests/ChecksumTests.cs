namespace RuntimeAI.Packaging.Tests;

/// <summary>SHA256SUMS covers every artifact, verifies with sha256sum, and catches a changed byte.</summary>
public sealed class ChecksumTests(PackageDirectory package)
{
    [Fact]
    public async Task Sha256Sums_CheckedBySha256sum_EveryArtifactVerifies()
    {
        var check = await Processes.RunAsync("sha256sum", ["--check", "--strict", "SHA256SUMS"], package.Path);

        Assert.True(check.ExitCode == 0, check.Describe("sha256sum --check"));
        var listed = File.ReadAllLines(package.ArtifactPath("SHA256SUMS")).Select(l => l.Split("  ", 2)[1]).Order(StringComparer.Ordinal).ToArray();
        var present = Directory.GetFiles(package.Path).Select(Path.GetFileName).Where(n => n != "SHA256SUMS").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(present, listed);
        Assert.Contains($"runtimeai.{package.Version}.nupkg", listed);
        Assert.Contains($"runtimeai-{package.Version}.cdx.json", listed);
        Assert.Contains("server.json", listed);
        Assert.Contains("manifest.json", listed);
    }

    [Fact]
    public async Task Sha256Sums_ArtifactChangedAfterwards_CheckFailsNamingIt()
    {
        var copy = RepoPaths.NewTempDir("tampered");
        foreach (var file in Directory.GetFiles(package.Path))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var manifest = Path.Combine(copy, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"runtimeai\"", "\"runtimeai-evil\"", StringComparison.Ordinal));

        var check = await Processes.RunAsync("sha256sum", ["--check", "SHA256SUMS"], copy);

        Assert.NotEqual(0, check.ExitCode);
        Assert.Contains("manifest.json: FAILED", check.Stdout, StringComparison.Ordinal);
    }
}
