using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// <c>runtimeai catalog export --skills DIR</c> as a user runs it: the skill folder (SKILL.md and the
/// schemas), and the OCI image layout checked the way a registry client checks it (every blob's
/// sha256 and size against its descriptor) and its layer read with GNU tar.
/// </summary>
public sealed class SkillsExportTests
{
    private static readonly string s_catalog = Path.Combine(TestPaths.RepoRoot, "tools-catalog");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> ExportAsync()
    {
        var dir = Path.Combine(TestPaths.NewDataDir(), "skills");
        var (code, _, stderr) = await ServerProcess.RunAsync("catalog", "export", "--skills", dir);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote the OCI image layout to", stderr, StringComparison.Ordinal);
        return dir;
    }

    private static string[] CatalogTools() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(s_catalog, "index.json"))).RootElement
            .GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToArray();

    /// <summary>Reads the blob a descriptor names, after checking its size and digest.</summary>
    private static byte[] VerifiedBlob(string layout, JsonElement descriptor)
    {
        var digest = descriptor.GetProperty("digest").GetString()!;
        Assert.StartsWith("sha256:", digest, StringComparison.Ordinal);
        var bytes = File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]));
        Assert.Equal(descriptor.GetProperty("size").GetInt64(), bytes.LongLength);
        Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return bytes;
    }

    [Fact]
    public async Task ExportSkills_SkillFolder_HasSkillMdWithEveryToolTierAndLevelAndTheCatalogSchemas()
    {
        var dir = await ExportAsync();
        var skill = Path.Combine(dir, "runtimeai");
        var md = await File.ReadAllTextAsync(Path.Combine(skill, "SKILL.md"), Ct);

        Assert.StartsWith("---\nname: runtimeai\ndescription: ", md, StringComparison.Ordinal);
        Assert.Contains("\n---\n", md[3..], StringComparison.Ordinal);
        foreach (var tool in CatalogTools())
        {
            Assert.Contains($"[`{tool}`](schemas/{tool}.json)", md, StringComparison.Ordinal);
        }

        foreach (var tier in new[] { "observe", "analyse", "recommend", "execute" })
        {
            Assert.Contains($"### {tier}\n", md, StringComparison.Ordinal);
        }

        foreach (var level in new[] { "advisor", "copilot", "guardian", "autonomous" })
        {
            Assert.Contains($"| `{level}` |", md, StringComparison.Ordinal);
        }

        Assert.Contains("pending_approval", md, StringComparison.Ordinal);
        Assert.Contains("| [`stop_runtime`](schemas/stop_runtime.json) | high | destructive, open-world | `runtime_id` |", md, StringComparison.Ordinal);

        // The schemas are the committed catalog, byte for byte (the catalog drift test keeps that equal to the code).
        var schemas = Directory.GetFiles(Path.Combine(skill, "schemas")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Directory.GetFiles(s_catalog, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray(), schemas);
        foreach (var name in schemas)
        {
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(s_catalog, name!), Ct), await File.ReadAllTextAsync(Path.Combine(skill, "schemas", name!), Ct));
        }
    }

    [Fact]
    public async Task ExportSkills_OciLayout_DigestsVerifyAndTheLayerHoldsSkillMdAndEverySchema()
    {
        var dir = await ExportAsync();
        var layout = Path.Combine(dir, "oci");

        Assert.Equal("1.0.0", JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "oci-layout"), Ct)).RootElement.GetProperty("imageLayoutVersion").GetString());
        var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"), Ct)).RootElement;
        Assert.Equal(2, index.GetProperty("schemaVersion").GetInt32());
        var entry = Assert.Single(index.GetProperty("manifests").EnumerateArray());
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", entry.GetProperty("mediaType").GetString());
        Assert.Matches(@"^\d+\.\d+\.\d+", entry.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString());

        var manifest = JsonDocument.Parse(VerifiedBlob(layout, entry)).RootElement;
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", manifest.GetProperty("mediaType").GetString());
        Assert.Equal("application/vnd.runtimeai.skill.v1", manifest.GetProperty("artifactType").GetString());
        var config = JsonDocument.Parse(VerifiedBlob(layout, manifest.GetProperty("config"))).RootElement;
        Assert.Equal("runtimeai/SKILL.md", config.GetProperty("entrypoint").GetString());
        Assert.Equal(CatalogTools().Length, config.GetProperty("tool_count").GetInt32());
        var layerDescriptor = Assert.Single(manifest.GetProperty("layers").EnumerateArray());
        Assert.Equal("application/vnd.oci.image.layer.v1.tar", layerDescriptor.GetProperty("mediaType").GetString());
        var layer = VerifiedBlob(layout, layerDescriptor);

        // No blob in the layout that no descriptor names.
        Assert.Equal(3, Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")).Length);

        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var reader = new TarReader(new MemoryStream(layer)))
        {
            while (reader.GetNextEntry() is { } tarEntry)
            {
                if (tarEntry.EntryType == TarEntryType.RegularFile)
                {
                    using var content = new StreamReader(tarEntry.DataStream!, Encoding.UTF8);
                    entries[tarEntry.Name] = await content.ReadToEndAsync(Ct);
                }
            }
        }

        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(dir, "runtimeai", "SKILL.md"), Ct), entries["runtimeai/SKILL.md"]);
        foreach (var tool in CatalogTools())
        {
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(s_catalog, $"{tool}.json"), Ct), entries[$"runtimeai/schemas/{tool}.json"]);
        }

        // GNU tar, an independent reader, lists the same files.
        var layerPath = Path.Combine(layout, "blobs", "sha256", layerDescriptor.GetProperty("digest").GetString()!["sha256:".Length..]);
        var tar = Process.Start(new ProcessStartInfo("tar", ["-tf", layerPath]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var listed = await tar.StandardOutput.ReadToEndAsync(Ct);
        await tar.WaitForExitAsync(Ct);
        Assert.Equal(0, tar.ExitCode);
        Assert.Equal(entries.Keys.Order(StringComparer.Ordinal), listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.EndsWith('/')).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ExportSkills_Twice_SameManifestDigest()
    {
        static async Task<string> ManifestDigestAsync(string dir) =>
            JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "oci", "index.json"))).RootElement
                .GetProperty("manifests")[0].GetProperty("digest").GetString()!;

        Assert.Equal(await ManifestDigestAsync(await ExportAsync()), await ManifestDigestAsync(await ExportAsync()));
    }

    [Fact]
    public async Task ExportSkills_PathIsAFile_ExitCode2NamesTheProblem()
    {
        var file = Path.Combine(TestPaths.NewDataDir(), "not-a-dir");
        await File.WriteAllTextAsync(file, "x", Ct);

        var (code, _, stderr) = await ServerProcess.RunAsync("catalog", "export", "--skills", file);

        Assert.Equal(2, code);
        Assert.Contains($"{file} is a file; --skills needs a directory", stderr, StringComparison.Ordinal);
    }
}
