using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RuntimeAI.Mcp.Skills;

/// <summary>
/// Writes a set of files as an OCI image layout (image-spec 1.1: <c>oci-layout</c>,
/// <c>index.json</c>, <c>blobs/sha256/…</c>) holding one artifact manifest: a small JSON config and
/// one uncompressed tar layer of the files. Tools that read a layout (<c>oras copy
/// --from-oci-layout</c>, <c>skopeo copy oci:…</c>) can push it to a registry or carry it into an
/// air-gapped site. The output is reproducible: same files, same digests (sorted entries, fixed
/// times and owners, no creation timestamp).
/// </summary>
public static class OciImageLayout
{
    /// <summary>Media type of the manifest.</summary>
    public const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>Media type of the uncompressed tar layer.</summary>
    public const string LayerMediaType = "application/vnd.oci.image.layer.v1.tar";

    private static readonly DateTimeOffset s_epoch = DateTimeOffset.UnixEpoch;

    // Media types carry '+': written as is, as registries and other tools write them, not as \u002B.
    private static readonly JsonSerializerOptions s_json = new(McpJsonContext.Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };

    /// <summary>What was written: the manifest's digest and the layer's.</summary>
    public sealed record Result(string ManifestDigest, string LayerDigest, long LayerSize);

    /// <summary>
    /// Writes the layout into <paramref name="directory"/> (created; an existing layout there is replaced).
    /// Files are stored in the layer under <paramref name="root"/>/.
    /// </summary>
    public static Result Write(
        string directory,
        string root,
        IReadOnlyDictionary<string, string> files,
        string artifactType,
        string configMediaType,
        JsonObject config,
        string tag,
        IReadOnlyDictionary<string, string> annotations)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(annotations);
        var blobs = Path.Combine(directory, "blobs", "sha256");
        if (Directory.Exists(blobs))
        {
            Directory.Delete(blobs, recursive: true);
        }

        Directory.CreateDirectory(blobs);

        var layer = Tar(root, files);
        var layerDescriptor = WriteBlob(blobs, LayerMediaType, layer);
        layerDescriptor["annotations"] = new JsonObject { ["org.opencontainers.image.title"] = $"{root}.tar" };
        var configDescriptor = WriteBlob(blobs, configMediaType, Encoding.UTF8.GetBytes(config.ToJsonString(s_json)));

        var manifestAnnotations = new JsonObject();
        foreach (var (key, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            manifestAnnotations[key] = value;
        }

        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["artifactType"] = artifactType,
            ["config"] = configDescriptor,
            ["layers"] = new JsonArray(layerDescriptor),
            ["annotations"] = manifestAnnotations,
        };
        var manifestDescriptor = WriteBlob(blobs, ManifestMediaType, Encoding.UTF8.GetBytes(manifest.ToJsonString(s_json)));
        manifestDescriptor["artifactType"] = artifactType;
        manifestDescriptor["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag };

        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = new JsonArray(manifestDescriptor),
        };
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(Path.Combine(directory, "index.json"), index.ToJsonString(s_json));
        return new Result(manifestDescriptor["digest"]!.GetValue<string>(), layerDescriptor["digest"]!.GetValue<string>(), layer.Length);
    }

    /// <summary>A ustar archive of the files under <paramref name="root"/>/, directories first, in ordinal order.</summary>
    internal static byte[] Tar(string root, IReadOnlyDictionary<string, string> files)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            var directories = new SortedSet<string>(StringComparer.Ordinal) { root + "/" };
            foreach (var path in files.Keys)
            {
                for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash >= 0; slash = path.IndexOf('/', slash + 1))
                {
                    directories.Add($"{root}/{path[..(slash + 1)]}");
                }
            }

            foreach (var dir in directories)
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, dir)
                {
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
                    ModificationTime = s_epoch,
                });
            }

            foreach (var (path, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                using var data = new MemoryStream(new UTF8Encoding(false).GetBytes(content));
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"{root}/{path}")
                {
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    ModificationTime = s_epoch,
                    DataStream = data,
                });
            }
        }

        return buffer.ToArray();
    }

    private static JsonObject WriteBlob(string blobs, string mediaType, byte[] content)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        File.WriteAllBytes(Path.Combine(blobs, hex), content);
        return new JsonObject
        {
            ["mediaType"] = mediaType,
            ["digest"] = $"sha256:{hex}",
            ["size"] = content.LongLength,
        };
    }
}
