namespace RuntimeAI.Core.Graph;

/// <summary>The differences between two versions of an object, as short lines an agent reads.</summary>
public static class GraphDiff
{
    /// <summary>What changed from <paramref name="before"/> to <paramref name="after"/> (either may be null: created or deleted).</summary>
    public static IReadOnlyList<string> Compare(GraphObject? before, GraphObject? after)
    {
        if (before is null && after is null)
        {
            return [];
        }

        if (before is null)
        {
            return ["created"];
        }

        if (after is null)
        {
            return ["deleted"];
        }

        var lines = new List<string>();
        if (!before.Images.AsSpan().SequenceEqual(after.Images))
        {
            lines.Add($"image {string.Join(',', before.Images)} -> {string.Join(',', after.Images)}");
        }

        if (before.Replicas != after.Replicas)
        {
            lines.Add($"replicas {before.Replicas?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} -> {after.Replicas?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}");
        }

        if (before.Phase != after.Phase)
        {
            lines.Add($"{(before.Kind == "node" ? "ready" : "phase")} {before.Phase ?? "-"} -> {after.Phase ?? "-"}");
        }

        Pairs("labels", before.Labels, after.Labels, lines);
        Pairs("selector", before.Selector, after.Selector, lines);
        var removed = before.Refs.Except(after.Refs).ToList();
        var added = after.Refs.Except(before.Refs).ToList();
        foreach (var r in added)
        {
            lines.Add($"+{Name(r.Edge)} {r.Key}");
        }

        foreach (var r in removed)
        {
            lines.Add($"-{Name(r.Edge)} {r.Key}");
        }

        if (!before.Owners.AsSpan().SequenceEqual(after.Owners))
        {
            lines.Add($"owners {before.Owners.Length} -> {after.Owners.Length}");
        }

        if (lines.Count == 0 && before.Generation != after.Generation)
        {
            lines.Add($"spec (generation {before.Generation} -> {after.Generation})");
        }

        return lines;
    }

    /// <summary>The edge kind as tools print it.</summary>
    public static string Name(EdgeKind edge) => edge switch
    {
        EdgeKind.Owner => "owner",
        EdgeKind.Selects => "selects",
        EdgeKind.Volume => "volume",
        EdgeKind.ConfigMap => "configmap",
        EdgeKind.Secret => "secret",
        EdgeKind.Node => "node",
        EdgeKind.DependsOn => "depends-on",
        EdgeKind.SyncedFrom => "synced-from",
        EdgeKind.RunsIn => "runs-in",
        _ => edge.ToString(),
    };

    private static void Pairs(string what, KeyValuePair<string, string>[] before, KeyValuePair<string, string>[] after, List<string> lines)
    {
        foreach (var pair in after)
        {
            var old = Array.Find(before, p => p.Key == pair.Key);
            if (old.Key is null)
            {
                lines.Add($"{what} +{pair.Key}={pair.Value}");
            }
            else if (old.Value != pair.Value)
            {
                lines.Add($"{what} {pair.Key}={old.Value} -> {pair.Value}");
            }
        }

        foreach (var pair in before)
        {
            if (Array.Find(after, p => p.Key == pair.Key).Key is null)
            {
                lines.Add($"{what} -{pair.Key}");
            }
        }
    }
}
