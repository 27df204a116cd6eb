namespace RuntimeAI.Packaging.Tests;

/// <summary>
/// The NativeAOT archive. Opt-in (the AOT link takes minutes): <c>scripts/package.sh --check</c>
/// builds it and sets RUNTIMEAI_PACKAGE_DIR; <c>--fast</c> (what CI runs) does not build it.
/// </summary>
public sealed class AotArchiveTests(PackageDirectory package)
{
    [Fact]
    public async Task AotArchive_Unpacked_ChecksumsVerifyAndBinaryReportsAotBuild()
    {
        Assert.SkipUnless(package.HasAotArchive,
            $"{Path.GetFileName(package.AotArchive)} is not in {package.Path}: run scripts/package.sh --check to build the NativeAOT archive and test it.");
        var dir = RepoPaths.NewTempDir("aot");

        var untar = await Processes.RunAsync("tar", ["-xzf", package.AotArchive, "-C", dir]);
        Assert.True(untar.ExitCode == 0, untar.Describe("tar -xzf"));
        var unpacked = Path.Combine(dir, $"runtimeai-{package.Version}-linux-x64");

        var check = await Processes.RunAsync("sha256sum", ["--check", "--strict", "SHA256SUMS"], unpacked);
        Assert.True(check.ExitCode == 0, check.Describe("sha256sum --check (inside the archive)"));
        var version = await Processes.RunAsync(Path.Combine(unpacked, "runtimeai"), ["--version"], unpacked);
        Assert.True(version.ExitCode == 0, version.Describe("runtimeai --version"));
        Assert.StartsWith($"runtimeai {package.Version} commit {package.Commit} build aot", version.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AirgapBundle_MadeByTheAotBinary_IsSelfContainedAot()
    {
        var archive = package.ArtifactPath($"runtimeai-{package.Version}-airgap-linux-x64.tar.gz");
        Assert.SkipUnless(File.Exists(archive),
            $"{Path.GetFileName(archive)} is not in {package.Path}: run scripts/package.sh --check to build the NativeAOT binary and its bundle.");
        var dir = RepoPaths.NewTempDir("airgap");

        var untar = await Processes.RunAsync("tar", ["-xzf", archive, "-C", dir]);
        Assert.True(untar.ExitCode == 0, untar.Describe("tar -xzf"));
        var unpacked = Path.Combine(dir, $"runtimeai-{package.Version}-linux-x64");

        Assert.False(Directory.Exists(Path.Combine(unpacked, "lib")), "an AOT bundle carries no JIT application directory");
        Assert.Contains("\"flavour\": \"aot\"", File.ReadAllText(Path.Combine(unpacked, "bundle.json")), StringComparison.Ordinal);
        var check = await Processes.RunAsync("sha256sum", ["--check", "--strict", "--quiet", "SHA256SUMS"], unpacked);
        Assert.True(check.ExitCode == 0, check.Describe("sha256sum --check (inside the bundle)"));
        var version = await Processes.RunAsync(Path.Combine(unpacked, "bin", "runtimeai"), ["--version"], unpacked);
        Assert.StartsWith($"runtimeai {package.Version} commit {package.Commit} build aot", version.Stdout.Trim(), StringComparison.Ordinal);
    }
}
