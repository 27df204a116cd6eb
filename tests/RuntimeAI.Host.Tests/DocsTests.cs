using System.Text.Json;
using System.Text.RegularExpressions;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// The docs a reader follows: every relative link in the repository's Markdown reaches a file
/// (and a heading, when it names one), and the tools reference names every tool of the catalog.
/// </summary>
public sealed partial class DocsTests
{
    private static readonly string[] s_skippedDirs = ["bin", "obj", "node_modules", "TestResults", "artifacts", ".git"];

    [Fact]
    public void EveryRelativeLink_InTheRepositorysMarkdown_ReachesAFileAndHeading()
    {
        var files = MarkdownFiles().ToList();
        var broken = new List<string>();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            foreach (var target in Links(text))
            {
                if (Problem(file, target) is { } problem)
                {
                    broken.Add($"{Path.GetRelativePath(TestPaths.RepoRoot, file)}: ({target}) {problem}");
                }
            }
        }

        Assert.True(files.Count > 20, $"only {files.Count} Markdown files found under {TestPaths.RepoRoot}");
        Assert.True(broken.Count == 0, "broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void LinkCheck_FindsAMissingFileAndAMissingHeading()
    {
        var dir = TestPaths.NewDataDir();
        var page = Path.Combine(dir, "page.md");
        File.WriteAllText(Path.Combine(dir, "other.md"), "# Other page\n\n## Backup and restore\n");
        File.WriteAllText(page, "see [a](other.md#backup-and-restore), [b](gone.md), [c](other.md#no-such-part), [d](#top)\n\n# Top\n");

        var problems = Links(File.ReadAllText(page)).Select(t => (t, Problem(page, t))).Where(p => p.Item2 is not null).Select(p => p.t).ToList();

        Assert.Equal(["gone.md", "other.md#no-such-part"], problems);
    }

    [Fact]
    public void ToolsReference_HasASectionForEveryToolOfTheCatalog()
    {
        var catalog = Path.Combine(TestPaths.RepoRoot, "tools-catalog");
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(catalog, "index.json")));
        var reference = File.ReadAllText(Path.Combine(catalog, "README.md"));
        var tools = index.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();

        Assert.NotEmpty(tools);
        Assert.All(tools, tool => Assert.Contains($"\n### {tool}\n", reference, StringComparison.Ordinal));
        Assert.Contains("tools-catalog/README.md", File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md")), StringComparison.Ordinal);
    }

    private static IEnumerable<string> MarkdownFiles()
    {
        var pending = new Stack<string>([TestPaths.RepoRoot]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var sub in Directory.GetDirectories(dir).Where(d => !s_skippedDirs.Contains(Path.GetFileName(d))))
            {
                pending.Push(sub);
            }

            foreach (var file in Directory.GetFiles(dir, "*.md"))
            {
                yield return file;
            }
        }
    }

    /// <summary>Link targets outside code: inline links and images, without a scheme.</summary>
    private static IEnumerable<string> Links(string markdown)
    {
        var prose = FencedCode().Replace(markdown, string.Empty);
        prose = InlineCode().Replace(prose, string.Empty);
        return LinkTarget().Matches(prose)
            .Select(m => m.Groups["target"].Value)
            .Where(t => !SchemeRegex().IsMatch(t));
    }

    private static string? Problem(string fromFile, string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var path = hash < 0 ? target : target[..hash];
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var file = path.Length == 0 ? fromFile : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(fromFile)!, Uri.UnescapeDataString(path)));
        if (!File.Exists(file) && !Directory.Exists(file))
        {
            return "no such file";
        }

        if (anchor is null || !file.EndsWith(".md", StringComparison.Ordinal))
        {
            return null;
        }

        return Anchors(File.ReadAllText(file)).Contains(anchor) ? null : "no such heading";
    }

    /// <summary>The heading anchors GitHub makes: lower case, punctuation dropped, spaces as hyphens, repeats numbered.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(FencedCode().Replace(markdown, string.Empty)))
        {
            var slug = SlugDrop().Replace(heading.Groups["text"].Value.Trim().ToLowerInvariant(), string.Empty).Replace(' ', '-');
            var unique = slug;
            for (var n = 1; !anchors.Add(unique); n++)
            {
                unique = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    [GeneratedRegex(@"^(```|~~~).*?^\1", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedCode();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex LinkTarget();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex SchemeRegex();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\p{L}\p{N} _-]")]
    private static partial Regex SlugDrop();
}
