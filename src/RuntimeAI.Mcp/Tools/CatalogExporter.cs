using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RuntimeAI.Mcp.Tools;

/// <summary>
/// Writes and checks <c>tools-catalog/</c>: one JSON file per tool (the action contract), an
/// index and the human-readable reference (<c>README.md</c>, rendered from those files). The files are generated from the code; <see cref="Check"/> reports any drift so a
/// change of contract is always a visible diff (approved-file style).
/// </summary>
public static class CatalogExporter
{
    private static readonly JsonSerializerOptions s_indented = new(McpJsonContext.Default.Options) { WriteIndented = true };

    /// <summary>The files of the catalog: relative name → content.</summary>
    public static IReadOnlyDictionary<string, string> Render()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var index = new JsonArray();
        foreach (var tool in ToolCatalog.All)
        {
            var entry = new JsonObject
            {
                ["name"] = tool.Name,
                ["title"] = tool.Title,
                ["tier"] = tool.Tier.ToString().ToLowerInvariant(),
                ["risk"] = tool.Risk,
                ["annotations"] = new JsonObject
                {
                    ["readOnlyHint"] = tool.ReadOnly,
                    ["destructiveHint"] = tool.Destructive,
                    ["idempotentHint"] = tool.Idempotent,
                    ["openWorldHint"] = tool.OpenWorld,
                },
                ["description"] = tool.Description,
                ["inputSchema"] = tool.InputSchema.DeepClone(),
                ["outputSchema"] = tool.OutputSchema.DeepClone(),
            };
            files[$"{tool.Name}.json"] = Serialize(entry);
            index.Add((JsonNode)new JsonObject
            {
                ["name"] = tool.Name,
                ["tier"] = tool.Tier.ToString().ToLowerInvariant(),
                ["risk"] = tool.Risk,
                ["title"] = tool.Title,
                ["file"] = $"{tool.Name}.json",
            });
        }

        files["index.json"] = Serialize(new JsonObject
        {
            ["generated_by"] = "runtimeai catalog export",
            ["tool_count"] = ToolCatalog.All.Count,
            ["tools"] = index,
        });
        files[ToolReference.FileName] = ToolReference.Render(files);
        return files;
    }

    /// <summary>Writes the catalog into <paramref name="directory"/>, removing files of tools that no longer exist.</summary>
    public static int Export(string directory)
    {
        Directory.CreateDirectory(directory);
        var files = Render();
        foreach (var stale in CatalogFiles(directory).Where(f => !files.ContainsKey(Path.GetFileName(f))))
        {
            File.Delete(stale);
        }

        foreach (var (name, content) in files)
        {
            File.WriteAllText(Path.Combine(directory, name), content, new UTF8Encoding(false));
        }

        return files.Count;
    }

    /// <summary>Compares the code's catalog with <paramref name="directory"/>; returns one line per difference.</summary>
    public static IReadOnlyList<string> Check(string directory)
    {
        var problems = new List<string>();
        var files = Render();
        foreach (var (name, content) in files)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                problems.Add($"{name}: missing");
            }
            else if (!string.Equals(File.ReadAllText(path).ReplaceLineEndings("\n"), content, StringComparison.Ordinal))
            {
                problems.Add($"{name}: differs from the code");
            }
        }

        if (Directory.Exists(directory))
        {
            problems.AddRange(CatalogFiles(directory)
                .Select(Path.GetFileName)
                .Where(f => !files.ContainsKey(f!))
                .Select(f => $"{f}: no such tool in the code"));
        }

        return problems;
    }

    /// <summary>The generated files found in a catalog directory (schemas and the reference).</summary>
    private static IEnumerable<string> CatalogFiles(string directory) =>
        Directory.GetFiles(directory, "*.json").Append(Path.Combine(directory, ToolReference.FileName)).Where(File.Exists);

    private static string Serialize(JsonObject node) =>
        node.ToJsonString(s_indented).ReplaceLineEndings("\n") + "\n";
}
