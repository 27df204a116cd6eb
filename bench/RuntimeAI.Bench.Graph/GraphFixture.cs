using System.Globalization;
using System.Text.Json;
using RuntimeAI.Core.Graph;

/// <summary>
/// The synthetic cluster both harnesses measure: namespaces of Deployments → ReplicaSets → pods on
/// <see cref="Nodes"/> nodes, Services selecting them, ConfigMaps, Secrets and claims the pods read,
/// as the JSON a list or watch delivers.
/// </summary>
internal static class GraphFixture
{
    public const int Nodes = 100;

    /// <summary>Objects per namespace: 5 deployments, 10 replicasets, 100 pods, 5 services, 30 configmaps, 30 secrets, 20 claims.</summary>
    public const int PerNamespace = 200;

    /// <summary>API-shaped JSON of about <paramref name="target"/> objects, by lower-case kind.</summary>
    public static Dictionary<string, List<string>> Generate(int target, out int namespaces)
    {
        namespaces = Math.Max(1, (target - Nodes) / PerNamespace);
        var byKind = new Dictionary<string, List<string>>
        {
            ["node"] = [], ["deployment"] = [], ["replicaset"] = [], ["pod"] = [], ["service"] = [], ["configmap"] = [], ["secret"] = [], ["persistentvolumeclaim"] = [],
        };
        var uid = 0;
        string Uid() => $"uid-{uid++:D8}";
        for (var n = 0; n < Nodes; n++)
        {
            byKind["node"].Add(F("""{"metadata":{"name":"node-@0@","uid":"@1@","resourceVersion":"1","labels":{"kubernetes.io/hostname":"node-@2@"}},"status":{"conditions":[{"type":"Ready","status":"True"}]}}""", n, Uid(), n));
        }

        var podIndex = 0;
        for (var i = 0; i < namespaces; i++)
        {
            var ns = $"team-{i:D4}";
            for (var c = 0; c < 30; c++)
            {
                byKind["configmap"].Add(F("""{"metadata":{"name":"cfg-@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"data":{"k":"v"}}""", c, ns, Uid()));
                byKind["secret"].Add(F("""{"metadata":{"name":"sec-@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"data":{"k":"dg=="}}""", c, ns, Uid()));
            }

            for (var c = 0; c < 20; c++)
            {
                byKind["persistentvolumeclaim"].Add(F("""{"metadata":{"name":"data-@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"status":{"phase":"Bound"}}""", c, ns, Uid()));
            }

            for (var d = 0; d < 5; d++)
            {
                var app = $"app-{d}";
                var deployUid = Uid();
                var template = F("""{"containers":[{"name":"c","image":"registry.example/@0@:1.@1@","envFrom":[{"configMapRef":{"name":"cfg-@2@"}}],"env":[{"name":"P","valueFrom":{"secretKeyRef":{"name":"sec-@3@","key":"k"}}}]}],"volumes":[{"name":"v","configMap":{"name":"cfg-@4@"}},{"name":"s","secret":{"secretName":"sec-@5@"}}]}""", app, d, d * 6, d * 6, d * 6 + 1, d * 6 + 1);
                byKind["deployment"].Add(F("""{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1","generation":1,"labels":{"app":"@3@"}},"spec":{"replicas":20,"selector":{"matchLabels":{"app":"@4@"}},"template":{"metadata":{"labels":{"app":"@5@"}},"spec":@6@}}}""", app, ns, deployUid, app, app, app, template));
                byKind["service"].Add(F("""{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1"},"spec":{"type":"ClusterIP","selector":{"app":"@3@"}}}""", app, ns, Uid(), app));
                for (var r = 0; r < 2; r++)
                {
                    var rsUid = Uid();
                    var rs = $"{app}-{r}abc{d}";
                    byKind["replicaset"].Add(F("""{"metadata":{"name":"@0@","namespace":"@1@","uid":"@2@","resourceVersion":"1","labels":{"app":"@3@"},"ownerReferences":[{"uid":"@4@"}]},"spec":{"replicas":@5@,"selector":{"matchLabels":{"app":"@6@"}},"template":{"spec":@7@}}}""", rs, ns, rsUid, app, deployUid, (r == 0 ? 0 : 20), app, template));
                    if (r == 0)
                    {
                        continue;
                    }

                    for (var p = 0; p < 20; p++)
                    {
                        var claim = p < 4 ? F(""",{"name":"d","persistentVolumeClaim":{"claimName":"data-@0@"}}""", d * 4 + p) : string.Empty;
                        byKind["pod"].Add(F("""{"metadata":{"name":"@0@-@1@","namespace":"@2@","uid":"@3@","resourceVersion":"1","labels":{"app":"@4@","pod-template-hash":"abc@5@"},"ownerReferences":[{"uid":"@6@"}]},"spec":{"nodeName":"node-@7@","containers":[{"name":"c","image":"registry.example/@8@:1.@9@","envFrom":[{"configMapRef":{"name":"cfg-@10@"}}]}],"volumes":[{"name":"v","configMap":{"name":"cfg-@11@"}}@12@]},"status":{"phase":"Running"}}""", rs, p.ToString("D5", CultureInfo.InvariantCulture), ns, Uid(), app, d, rsUid, podIndex++ % Nodes, app, d, d * 6, d * 6 + 1, claim));
                    }
                }
            }
        }

        return byKind;
    }

    /// <summary>Parses each object as the watcher does and lists it into a new graph, kind by kind.</summary>
    public static ClusterGraph Build(Dictionary<string, List<string>> byKind, GraphOptions options, TimeProvider time)
    {
        var graph = new ClusterGraph("bench", options, time);
        foreach (var (kind, items) in byKind)
        {
            var objects = new List<GraphObject>(items.Count);
            foreach (var json in items)
            {
                using var doc = JsonDocument.Parse(json);
                objects.Add(GraphObject.FromJson(doc.RootElement, kind, graph.Pool)!);
            }

            graph.ReplaceKind(kind, objects);
        }

        return graph;
    }

    /// <summary>Fills <c>@N@</c> placeholders with invariant-culture values.</summary>
    public static string F(string template, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            template = template.Replace($"@{i}@", Convert.ToString(values[i], CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        return template;
    }
}

/// <summary>A clock the bench moves by hand, so the window holds every applied event.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
