using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static RuntimeAI.Host.Tests.ScaleOut.ReplicaSet;

namespace RuntimeAI.Host.Tests.ScaleOut;

/// <summary>
/// Three real <c>runtimeai serve</c> replicas on one PostgreSQL database and one KubeSim world
/// behind a round-robin proxy, driven by concurrent SDK agents (2026-07-28, stateless Streamable
/// HTTP) mixing observe and execute calls: every acknowledged call has its audit record, the one
/// chain verifies with <c>runtimeai audit verify --config</c>, the inventory holds each of the
/// world's runtimes once and the snapshots the world holds are exactly those acknowledged; and
/// sagas on one runtime sent to different replicas do not interleave.
/// </summary>
public sealed class ScaleOutTests
{
    private const int Agents = 6;
    private const int Rounds = 4;

    [Fact]
    public async Task ConcurrentAgents_AcrossThreeReplicas_AllAudited_OneChain_InventoryMatchesTheWorld()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var set = await StartAsync(RequirePostgres(), 3, pinSessions: false, ct);
        var work = await RunAgentsAsync(set, Agents, Rounds, sameRuntime: false, ct);

        // The load was spread: each replica answered tool calls.
        var posts = set.Proxy.Log.Where(f => f.Method == "POST").ToList();
        for (var r = 0; r < 3; r++)
        {
            Assert.True(posts.Count(f => f.Replica == r && f.Status == 200) >= Agents, $"replica {r} answered {posts.Count(f => f.Replica == r)} of {posts.Count} requests");
        }

        // Every acknowledged call has exactly one audit record, with its outcome.
        var records = await set.ReadAuditAsync(ct);
        foreach (var (tag, tool) in work.Acknowledged)
        {
            var mine = records.Where(r => r.Begin.Reasoning == tag).ToList();
            Assert.True(mine.Count == 1, $"{tool} '{tag}' has {mine.Count} audit records");
            Assert.Equal(tool, mine[0].Begin.Tool);
            Assert.False(string.IsNullOrEmpty(mine[0].End.Outcome), $"{tag} has no outcome");
        }

        Assert.Equal(records.Count, records.Select(r => r.Seq).Distinct().Count());
        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--config", set.Config);
        Assert.True(code == 0, $"audit verify exited {code}: {stdout}{stderr}");
        Assert.Contains($"audit chain intact: {records.Count} records, head {records[^1].Hash}", stdout, StringComparison.Ordinal);

        // The inventory holds each runtime of the world once (no replica imported a second copy).
        await using var observer = await set.ConnectAsync("observer", null, ct);
        var listed = Structured(await observer.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 50 }, cancellationToken: ct))
            .GetProperty("items").EnumerateArray().Select(r => r.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["batch-vm", "db-vm", "dev", "staging"], listed);

        // The world holds exactly the snapshots whose saga was acknowledged as succeeded, and the
        // inventory's list_snapshots (through any replica) says the same.
        var world = await WorldSnapshotsAsync(set, ct);
        foreach (var (name, id) in work.Runtimes)
        {
            var expected = work.Snapshots.Where(s => s.Runtime == id).Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
            var inWorld = world.Where(s => s.Vcluster == name).Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, inWorld);
            var viaProxy = Structured(await observer.CallToolAsync("list_snapshots", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: ct))
                .GetProperty("items").EnumerateArray().Select(x => x.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, viaProxy);
        }

        Assert.True(work.Snapshots.Count > 0, "no saga succeeded: " + string.Join("; ", work.Failures));
    }

    /// <summary>
    /// Agents on every replica run sagas on the same runtime at once. The saga events (one order
    /// across replicas: the events table's position) of one operation must not be interleaved with
    /// another's on that runtime. With one replica the in-process runtime lock guarantees it, which
    /// shows the check can pass; across replicas it needs the runtime lock in the database.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task SagasOnOneRuntime_FromEveryReplica_DoNotInterleave(int replicas)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var set = await StartAsync(RequirePostgres(), replicas, pinSessions: false, ct);
        var work = await RunAgentsAsync(set, Agents, 3, sameRuntime: true, ct);
        var dev = work.Runtimes["dev"];

        var rows = await set.QueryAsync($"SELECT seq, type, doc FROM events WHERE runtime_id = '{dev}' AND type LIKE 'saga.%' ORDER BY seq", ct);
        var spans = new Dictionary<string, (long First, long Last)>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var doc = JsonNode.Parse(row[2]!)!;
            var op = (doc["data"]?["operation_id"] ?? doc["operation_id"])?.GetValue<string>();
            if (op is null)
            {
                continue;
            }

            var seq = long.Parse(row[0]!, System.Globalization.CultureInfo.InvariantCulture);
            spans[op] = spans.TryGetValue(op, out var s) ? (s.First, seq) : (seq, seq);
        }

        Assert.True(spans.Count >= Agents, $"only {spans.Count} sagas left events on dev; failures: {string.Join("; ", work.Failures)}");
        var ordered = spans.OrderBy(s => s.Value.First).ToList();
        var interleaved = ordered.Zip(ordered.Skip(1)).Where(p => p.Second.Value.First < p.First.Value.Last)
            .Select(p => $"{p.Second.Key} began at event {p.Second.Value.First} while {p.First.Key} ran (events {p.First.Value.First}-{p.First.Value.Last})").ToList();
        Assert.True(interleaved.Count == 0, string.Join("\n", interleaved));
    }

    /// <summary>
    /// A Deployment starts its pods together: on a new database every replica discovers the same
    /// backend runtimes at once. The inventory must hold each of them once, under one id that every
    /// replica answers with.
    /// </summary>
    [Fact]
    public async Task ReplicasStartingTogether_OnANewDatabase_ImportEachRuntimeOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var set = await StartAsync(RequirePostgres(), 3, pinSessions: false, together: true, ct);

        // A tool call waits for its replica's first discovery: one call to each replica (round-robin).
        await using var client = await set.ConnectAsync("after-start", null, ct);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            var listed = Structured(await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["page_size"] = 50 }, cancellationToken: ct));
            ids.UnionWith(listed.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
        }

        Assert.Equal([0, 1, 2], set.Proxy.Log.Where(f => f.Method == "POST").Select(f => f.Replica).Distinct().Order());
        var rows = await set.QueryAsync("SELECT name, count(*) FROM runtimes GROUP BY name ORDER BY name", ct);
        var duplicated = rows.Where(r => r[1] != "1").Select(r => $"{r[0]} x{r[1]}").ToList();
        Assert.True(duplicated.Count == 0, $"replicas starting together imported a runtime more than once: {string.Join(", ", duplicated)}");
        Assert.Equal(["batch-vm", "db-vm", "dev", "staging"], rows.Select(r => r[0]!));
        Assert.Equal(4, ids.Count);
    }

    internal sealed record Workload(
        IReadOnlyDictionary<string, string> Runtimes,
        IReadOnlyList<(string Tag, string Tool)> Acknowledged,
        IReadOnlyList<(string Runtime, string Name)> Snapshots,
        IReadOnlyList<string> Failures,
        int Calls);

    /// <summary>
    /// <paramref name="agents"/> SDK clients through the proxy, each <paramref name="rounds"/> times:
    /// list_runtimes, get_runtime_status, get_runtime and one execute_actions saga (two snapshots)
    /// on a vcluster — dev for all with <paramref name="sameRuntime"/>, else dev or staging by agent.
    /// Returns what was acknowledged (an answer came back), by reasoning tag.
    /// </summary>
    internal static async Task<Workload> RunAgentsAsync(ReplicaSet set, int agents, int rounds, bool sameRuntime, CancellationToken ct)
    {
        var runtimes = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var first = await set.ConnectAsync("setup", null, ct))
        {
            foreach (var item in Structured(await first.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vcluster" }, cancellationToken: ct)).GetProperty("items").EnumerateArray())
            {
                runtimes[item.GetProperty("name").GetString()!] = item.GetProperty("id").GetString()!;
            }
        }

        var acknowledged = new ConcurrentBag<(string, string)>();
        var snapshots = new ConcurrentBag<(string, string)>();
        var failures = new ConcurrentBag<string>();
        var calls = 0;
        var run = Guid.NewGuid().ToString("N")[..6];
        await Task.WhenAll(Enumerable.Range(0, agents).Select(async agent =>
        {
            await using var client = await set.ConnectAsync($"agent-{agent}", null, ct);
            var target = sameRuntime || agent % 2 == 0 ? runtimes["dev"] : runtimes["staging"];
            async Task<CallToolResult> CallAsync(string tool, Dictionary<string, object?> arguments, string tag)
            {
                var result = await client.CallToolAsync(tool, arguments, null,
                    new ModelContextProtocol.RequestOptions { Meta = new JsonObject { ["io.runtimeai/reasoning"] = tag } }, ct);
                acknowledged.Add((tag, tool));
                Interlocked.Increment(ref calls);
                return result;
            }

            for (var round = 0; round < rounds; round++)
            {
                var tag = $"so-{run}-{agent}-{round}";
                await CallAsync("list_runtimes", new() { ["page_size"] = 10 }, tag + "-list");
                await CallAsync("get_runtime_status", new() { ["runtime_id"] = target }, tag + "-status");
                await CallAsync("get_runtime", new() { ["runtime_id"] = target }, tag + "-get");
                string[] names = [$"a{agent}r{round}x", $"a{agent}r{round}y"];
                var result = await CallAsync("execute_actions", new()
                {
                    ["runtime_id"] = target,
                    ["idempotency_key"] = $"{tag}-exec",
                    ["actions"] = names.Select(n => new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = n } }).ToArray(),
                }, tag + "-exec");
                var status = await SettleAsync(client, result, ct);
                if (status == "succeeded")
                {
                    foreach (var n in names)
                    {
                        snapshots.Add((target, n));
                    }
                }
                else
                {
                    failures.Add($"{tag}: {status}");
                }
            }
        }));

        return new Workload(runtimes, [.. acknowledged], [.. snapshots], [.. failures], calls);
    }

    /// <summary>The saga's final status: from the answer, or by polling get_operation while it runs.</summary>
    private static async Task<string> SettleAsync(McpClient client, CallToolResult result, CancellationToken ct)
    {
        if (result.IsError == true || result.StructuredContent is not { } structured)
        {
            return "error: " + Text(result);
        }

        var operationId = structured.GetProperty("operation_id").GetString()!;
        var status = structured.TryGetProperty("status", out var s) ? s.GetString() : null;
        for (var i = 0; i < 600 && status is "running" or "pending" or null; i++)
        {
            await Task.Delay(100, ct);
            status = Structured(await client.CallToolAsync("get_operation", new Dictionary<string, object?> { ["operation_id"] = operationId }, cancellationToken: ct))
                .GetProperty("status").GetString();
        }

        return status!;
    }

    /// <summary>The completed snapshot requests in the world (the vcluster CLI's request ConfigMaps), read from KubeSim directly.</summary>
    private static async Task<List<(string Vcluster, string Name)>> WorldSnapshotsAsync(ReplicaSet set, CancellationToken ct)
    {
        using var http = new HttpClient();
        var list = JsonNode.Parse(await http.GetStringAsync(new Uri(set.World.BaseAddress, "api/v1/configmaps?labelSelector=vcluster.loft.sh/snapshot-request%3Dtrue"), ct))!;
        var found = new List<(string, string)>();
        foreach (var map in list["items"]!.AsArray())
        {
            var request = JsonNode.Parse(map!["data"]!["snapshotRequest"]!.GetValue<string>())!;
            if (request["status"]?["phase"]?.GetValue<string>() == "Completed")
            {
                found.Add((map["metadata"]!["labels"]!["vcluster.loft.sh/vcluster-name"]!.GetValue<string>(),
                    map["metadata"]!["annotations"]!["runtimeai.io/snapshot-name"]!.GetValue<string>()));
            }
        }

        return found;
    }
}
