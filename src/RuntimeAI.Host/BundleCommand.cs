using System.CommandLine;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai bundle --output FILE</c>: one .tar.gz with everything a site without network access
/// needs to install and run this build: the binary that runs the command, the SBOM, the tool
/// catalog, samples, docs, deploy manifests, an install script and a SHA256SUMS over every file.
/// The NativeAOT binary bundles itself (self-contained); the JIT build bundles its application
/// directory with a launcher and needs the .NET 10 runtime at the site, which install.sh checks.
/// </summary>
internal static class BundleCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output") { Description = "The archive to write (.tar.gz).", Required = true };
        var source = new Option<string>("--source") { Description = "The repository checkout that holds tools-catalog/, samples/, docs/ and deploy/.", DefaultValueFactory = _ => "." };
        var sbom = new Option<string?>("--sbom") { Description = "The CycloneDX SBOM of this build (default: SOURCE/artifacts/package/runtimeai-VERSION.cdx.json, written by scripts/package.sh)." };
        var command = new Command("bundle", "Write an air-gapped install bundle: binary, SBOM, checksums, tool catalog, samples, docs and an install script.") { output, source, sbom };
        command.SetAction(async (parse, ct) =>
        {
            var written = await WriteAsync(parse.GetValue(output)!, parse.GetValue(source)!, parse.GetValue(sbom), ct).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"runtimeai: bundle written to {written.Path} ({written.Files} files, {BuildInfo.Flavour} build); install it with: tar -xzf {Path.GetFileName(written.Path)} && {written.Root}/install.sh [PREFIX]").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private sealed record Entry(string Name, Func<Stream> Open, UnixFileMode Mode);

    internal static async Task<(string Path, string Root, int Files)> WriteAsync(string output, string source, string? sbom, CancellationToken cancellationToken)
    {
        var sourceDir = Path.GetFullPath(source);
        var problems = new List<string>();
        if (!File.Exists(Path.Combine(sourceDir, "tools-catalog", "index.json")))
        {
            problems.Add($"{sourceDir} has no tools-catalog/index.json; run from the repository checkout or pass --source DIR");
        }

        var sbomPath = Path.GetFullPath(sbom ?? Path.Combine(sourceDir, "artifacts", "package", $"runtimeai-{BuildInfo.Version}.cdx.json"));
        if (!File.Exists(sbomPath))
        {
            problems.Add($"no SBOM at {sbomPath}; run scripts/package.sh (--fast is enough) first, or pass --sbom FILE");
        }

        if (!output.EndsWith(".tar.gz", StringComparison.Ordinal) && !output.EndsWith(".tgz", StringComparison.Ordinal))
        {
            problems.Add($"--output {output} must end in .tar.gz (the bundle is a gzip-compressed tar archive)");
        }

        if (problems.Count > 0)
        {
            throw new CliException(string.Join("; ", problems), 2);
        }

        var root = $"runtimeai-{BuildInfo.Version}-{System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}";
        var entries = new List<Entry>();
        entries.AddRange(BinaryEntries());
        entries.Add(FileEntry(sbomPath, $"sbom/{Path.GetFileName(sbomPath)}"));
        entries.AddRange(TreeEntries(sourceDir, "tools-catalog"));
        entries.AddRange(TreeEntries(sourceDir, "samples"));
        entries.AddRange(TreeEntries(sourceDir, "docs"));
        entries.AddRange(TreeEntries(sourceDir, "deploy"));
        if (File.Exists(Path.Combine(sourceDir, "README.md")))
        {
            entries.Add(FileEntry(Path.Combine(sourceDir, "README.md"), "README.md"));
        }

        entries.Add(TextEntry("install.sh", InstallScript, Executable));
        entries.Add(TextEntry("bundle.json", new JsonObject
        {
            ["name"] = "runtimeai",
            ["version"] = BuildInfo.Version,
            ["commit"] = BuildInfo.Commit,
            ["flavour"] = BuildInfo.Flavour,
            ["rid"] = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier,
            ["created"] = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n", Regular));

        var sums = new StringBuilder();
        foreach (var entry in entries)
        {
            await using var stream = entry.Open();
            var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            sums.Append(Convert.ToHexStringLower(hash)).Append("  ").Append(entry.Name).Append('\n');
        }

        entries.Add(TextEntry("SHA256SUMS", sums.ToString(), Regular));

        var outputPath = Path.GetFullPath(output);
        Directory.CreateDirectory(Path.GetDirectoryName(outputPath)!);
        var partial = outputPath + ".partial";
        await using (var file = File.Create(partial))
        await using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var directory in entries.SelectMany(e => Parents(e.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, $"{root}/{directory}/") { Mode = Executable }, cancellationToken).ConfigureAwait(false);
            }

            foreach (var entry in entries)
            {
                await using var data = entry.Open();
                var tarEntry = new PaxTarEntry(TarEntryType.RegularFile, $"{root}/{entry.Name}") { Mode = entry.Mode, DataStream = data };
                await tar.WriteEntryAsync(tarEntry, cancellationToken).ConfigureAwait(false);
            }
        }

        File.Move(partial, outputPath, overwrite: true);
        return (outputPath, root, entries.Count);
    }

    private const UnixFileMode Regular = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Executable = Regular | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private static IEnumerable<string> Parents(string name)
    {
        for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = name.IndexOf('/', slash + 1))
        {
            yield return name[..slash];
        }
    }

    /// <summary>The NativeAOT binary and the native libraries beside it, or the JIT application directory and a launcher.</summary>
    private static IEnumerable<Entry> BinaryEntries()
    {
        if (BuildInfo.Flavour == "aot")
        {
            var binary = Environment.ProcessPath ?? throw new CliException("cannot tell where this runtimeai binary is (no process path)", 1);
            yield return FileEntry(binary, "bin/runtimeai", Executable);
            foreach (var library in Directory.GetFiles(Path.GetDirectoryName(binary)!, "*.so").Order(StringComparer.Ordinal))
            {
                yield return FileEntry(library, $"bin/{Path.GetFileName(library)}");
            }

            yield break;
        }

        var app = AppContext.BaseDirectory;
        foreach (var file in Directory.GetFiles(app, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (file.EndsWith(".pdb", StringComparison.Ordinal) || file.EndsWith(".xml", StringComparison.Ordinal))
            {
                continue;
            }

            yield return FileEntry(file, "lib/" + Path.GetRelativePath(app, file).Replace('\\', '/'));
        }

        yield return TextEntry("bin/runtimeai", JitLauncher, Executable);
    }

    private static IEnumerable<Entry> TreeEntries(string sourceDir, string folder)
    {
        var dir = Path.Combine(sourceDir, folder);
        if (!Directory.Exists(dir))
        {
            return [];
        }

        return Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules"))
            .Order(StringComparer.Ordinal)
            .Select(f => FileEntry(f, Path.GetRelativePath(sourceDir, f).Replace('\\', '/')));
    }

    private static Entry FileEntry(string path, string name, UnixFileMode? mode = null) =>
        new(name, () => File.OpenRead(path), mode ?? (OperatingSystem.IsWindows() ? Regular : File.GetUnixFileMode(path)));

    private static Entry TextEntry(string name, string text, UnixFileMode mode)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return new Entry(name, () => new MemoryStream(bytes, writable: false), mode);
    }

    private const string JitLauncher = """
        #!/bin/sh
        # Launches the JIT build of runtimeai in ../lib with the machine's .NET 10 runtime.
        here=$(cd "$(dirname "$0")/.." && pwd)
        exec dotnet "$here/lib/runtimeai.dll" "$@"

        """;

    private const string InstallScript = """
        #!/bin/sh
        # Installs this runtimeai bundle without any network access: checks every file against
        # SHA256SUMS, then copies the bundle to PREFIX (default /opt/runtimeai).
        #   ./install.sh [PREFIX]
        set -eu
        here=$(cd "$(dirname "$0")" && pwd)
        prefix=${1:-/opt/runtimeai}
        if ! (cd "$here" && sha256sum --check --quiet --strict SHA256SUMS); then
          echo "install.sh: a file does not match SHA256SUMS: the bundle was changed or damaged; copy it again" >&2
          exit 1
        fi
        if [ -f "$here/lib/runtimeai.dll" ]; then
          if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-runtimes | grep -q '^Microsoft.AspNetCore.App 10\.'; then
            echo "install.sh: this bundle holds the JIT build, which needs the .NET 10 ASP.NET Core runtime; install it, or use a bundle made by the NativeAOT binary" >&2
            exit 1
          fi
        fi
        mkdir -p "$prefix"
        cp -R "$here/." "$prefix/"
        echo "installed $("$prefix/bin/runtimeai" --version) into $prefix"
        echo "try: $prefix/bin/runtimeai serve --transport stdio --sandbox   (docs: $prefix/docs/packaging.md)"

        """;
}
