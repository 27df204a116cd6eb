using ModelContextProtocol.Client;
using static RuntimeAI.Host.Tests.ScaleOut.ReplicaSet;

namespace RuntimeAI.Host.Tests.ScaleOut;

/// <summary>
/// MCP over HTTP across replicas. A 2026-07-28 client is stateless: each request may go to any
/// replica. A 2025-x client has a session (<c>Mcp-Session-Id</c>) that lives in the replica that
/// answered its <c>initialize</c>: without affinity the next replica answers 404 and the SDK
/// client (2.4.0) reports the session as expired instead of silently starting another one; with
/// the load balancer pinning by <c>Mcp-Session-Id</c> (what docs/scale-out.md asks for) the
/// session works and other sessions still spread over the replicas.
/// </summary>
public sealed class SessionAcrossReplicasTests
{
    [Fact]
    public async Task StatelessClient_RequestsAlternateBetweenReplicas_EachAnswersAndSeesTheOthersWrites()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var set = await StartAsync(RequirePostgres(), 2, pinSessions: false, ct);
        await using var client = await set.ConnectAsync("alternating", null, ct);
        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Null(client.SessionId);

        var dev = Structured(await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vcluster" }, cancellationToken: ct))
            .GetProperty("items").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "dev").GetProperty("id").GetString()!;
        var before = set.Proxy.Log.Count;
        var snapshot = await client.CallToolAsync("execute_actions", new Dictionary<string, object?>
        {
            ["runtime_id"] = dev, ["idempotency_key"] = "alternate-1",
            ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "alt1" } } },
        }, cancellationToken: ct);
        Assert.Equal("succeeded", Structured(snapshot).GetProperty("status").GetString());

        // The next requests land on the other replica, then back: each sees the snapshot and the operation.
        for (var i = 0; i < 4; i++)
        {
            var listed = Structured(await client.CallToolAsync("list_snapshots", new Dictionary<string, object?> { ["runtime_id"] = dev }, cancellationToken: ct));
            Assert.Contains(listed.GetProperty("items").EnumerateArray(), s => s.GetProperty("name").GetString() == "alt1");
            var replay = await client.CallToolAsync("execute_actions", new Dictionary<string, object?>
            {
                ["runtime_id"] = dev, ["idempotency_key"] = "alternate-1",
                ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "alt1" } } },
            }, cancellationToken: ct);
            Assert.Equal(Structured(snapshot).GetProperty("operation_id").GetString(), Structured(replay).GetProperty("operation_id").GetString());
        }

        var served = set.Proxy.Log.Skip(before).Where(f => f.Method == "POST").ToList();
        Assert.All(served, f => Assert.Equal(200, f.Status));
        Assert.True(served.Zip(served.Skip(1)).All(p => p.First.Replica != p.Second.Replica), "requests did not alternate: " + string.Join(",", served.Select(f => f.Replica)));
        Assert.Contains(served, f => f.Replica == 0);
        Assert.Contains(served, f => f.Replica == 1);

        var records = await set.ReadAuditAsync(ct);
        Assert.Equal(5, records.Count(r => r.Begin.Tool == "execute_actions"));
    }

    [Fact]
    public async Task SessionClient_WithoutAffinity_GetsSessionNotFoundFromTheOtherReplica()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var set = await StartAsync(RequirePostgres(), 2, pinSessions: false, ct);

        // initialize goes to replica 0 and makes the session there; the client's next request goes to replica 1.
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var client = await set.ConnectAsync("legacy", "2025-11-25", ct);
            for (var i = 0; i < 2; i++)
            {
                await client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: ct);
            }
        });

        var log = set.Proxy.Log.ToList();
        var issued = log.First(f => f.Method == "POST" && f.SessionId.Length == 0);
        // POST and GET need the session: the other replica does not know it. (The closing DELETE is
        // not checked: it ends a session either way.)
        var foreign = log.Where(f => f.SessionId.Length > 0 && f.Replica != issued.Replica && f.Method != "DELETE").ToList();
        Assert.NotEmpty(foreign);
        Assert.All(foreign, f => Assert.Equal(404, f.Status));
        // The client's call fails (the SDK 2.4.0 client tears the session down: the 404 on its GET
        // stream or POST ends the transport, the pending call is cancelled or reports the expired
        // session) and it does not start a new session by itself: one initialize only.
        Assert.True(failure is not null, "the call succeeded although its session lives on another replica: " + string.Join("; ", log));
        Assert.True(failure is OperationCanceledException or ModelContextProtocol.McpException or HttpRequestException
                    || failure.ToString().Contains("404", StringComparison.Ordinal),
            "unexpected failure: " + failure + "\nproxy log: " + string.Join("; ", log));
        Assert.Single(log, f => f.Method == "POST" && f.SessionId.Length == 0);
    }

    [Fact]
    public async Task SessionClient_PinnedByMcpSessionId_StaysOnItsReplica_OtherSessionsSpread()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var set = await StartAsync(RequirePostgres(), 3, pinSessions: true, ct);
        var sessions = new List<string>();
        for (var c = 0; c < 3; c++)
        {
            await using var client = await set.ConnectAsync($"legacy-{c}", "2025-11-25", ct);
            Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
            Assert.False(string.IsNullOrEmpty(client.SessionId));
            sessions.Add(client.SessionId!);
            for (var i = 0; i < 4; i++)
            {
                var listed = await client.CallToolAsync("list_runtimes", new Dictionary<string, object?>(), cancellationToken: ct);
                Assert.Equal(4, Structured(listed).GetProperty("items").GetArrayLength());
            }
        }

        var log = set.Proxy.Log.ToList();
        var home = new HashSet<int>();
        foreach (var session in sessions)
        {
            var mine = log.Where(f => f.SessionId == session).ToList();
            Assert.True(mine.Count >= 5, $"session {session}: {mine.Count} requests");
            Assert.Single(mine.Select(f => f.Replica).Distinct());
            Assert.All(mine, f => Assert.True(f.Status is 200 or 202, $"{f.Method} {f.Path} on replica {f.Replica}: {f.Status}"));
            home.Add(mine[0].Replica);
        }

        Assert.True(home.Count > 1, "every session was made on the same replica");
    }
}
