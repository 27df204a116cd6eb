using System.Globalization;
using System.Text.Json;
using ModelContextProtocol.Client;
using RuntimeAI.Core.Audit;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Audit durability under load: many MCP SDK clients over Streamable HTTP (loopback) mix observe
/// calls with gated execute calls (execute_actions through autonomy and policy, on runtimes they
/// created), the server is then killed with SIGKILL mid-load, and every call a client saw
/// succeed must have its record in the audit trail, whose chain must verify. Each call carries a
/// unique reasoning, so a record is matched to its call. 8 s of load in CI;
/// RUNTIMEAI_LOAD_SECONDS sets a longer run.
/// </summary>
public sealed class AuditDurabilityLoadTests
{
    private const int ObserveClients = 12;
    private const int ExecuteClients = 4;

    [Fact]
    public async Task MixedLoad_ThenSigkill_EveryAcknowledgedCallHasAnAuditRecord()
    {
        var ct = TestContext.Current.CancellationToken;
        var seconds = double.TryParse(Environment.GetEnvironmentVariable("RUNTIMEAI_LOAD_SECONDS"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 8;
        var dataDir = TestPaths.NewDataDir();
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        long rssAfterWarmup;
        long rssAtKill;
        await using (var server = await ServerProcess.StartHttpAsync(dataDir, "--sandbox", "--autonomy", "autonomous", "--policies", TestPolicies.AllowAll()))
        {
            var sessions = await Task.WhenAll(Enumerable.Range(0, ObserveClients + ExecuteClients).Select(_ => McpClient.CreateAsync(
                new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.McpEndpoint!, TransportMode = HttpTransportMode.StreamableHttp }),
                cancellationToken: ct)));
            var listed = await sessions[0].CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["type"] = "vm" }, cancellationToken: ct);
            var observeId = listed.StructuredContent!.Value.GetProperty("items")[0].GetProperty("id").GetString()!;
            using var stop = new CancellationTokenSource();
            var killing = false;

            async Task CallAsync(McpClient client, string tool, Dictionary<string, object?> args, string reasoning)
            {
                args["reasoning"] = reasoning;
                try
                {
                    var result = await client.CallToolAsync(tool, args, cancellationToken: CancellationToken.None);
                    if (result.IsError == true)
                    {
                        errors.Add($"{tool}: {string.Join(' ', result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(t => t.Text))}");
                    }
                    else
                    {
                        acknowledged.Add(reasoning);
                    }
                }
                catch (Exception ex) when (!Volatile.Read(ref killing))
                {
                    errors.Add($"{tool}: {ex.GetType().Name}: {ex.Message}");
                }
                catch (Exception)
                {
                    // In flight when the server was killed: never acknowledged.
                }
            }

            async Task ObserveLoopAsync(int c)
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var reasoning = $"load-o{c}-{n}";
                    var call = (n % 3) switch
                    {
                        0 => CallAsync(sessions[c], "list_runtimes", [], reasoning),
                        1 => CallAsync(sessions[c], "get_runtime", new() { ["runtime_id"] = observeId }, reasoning),
                        _ => CallAsync(sessions[c], "get_events", new() { ["runtime_id"] = observeId, ["page_size"] = 5 }, reasoning),
                    };
                    await call;
                }
            }

            async Task ExecuteLoopAsync(int c)
            {
                var created = await sessions[c].CallToolAsync("create_runtime", new Dictionary<string, object?>
                {
                    ["name"] = $"load-{c}-{Guid.NewGuid():N}"[..20], ["type"] = "vm", ["reasoning"] = $"load-x{c}-create",
                }, cancellationToken: CancellationToken.None);
                Assert.True(created.IsError != true, "create_runtime failed under load");
                acknowledged.Add($"load-x{c}-create");
                var runtimeId = created.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    await CallAsync(sessions[c], "execute_actions", new()
                    {
                        ["runtime_id"] = runtimeId,
                        ["idempotency_key"] = $"load-{c}-{n}",
                        ["actions"] = new[] { new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = $"s{n}" } } },
                    }, $"load-x{c}-{n}");
                }
            }

            var loops = Enumerable.Range(0, ObserveClients).Select(c => Task.Run(() => ObserveLoopAsync(c), ct))
                .Concat(Enumerable.Range(ObserveClients, ExecuteClients).Select(c => Task.Run(() => ExecuteLoopAsync(c), ct))).ToList();
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            rssAfterWarmup = Rss(server.Id);
            await Task.Delay(TimeSpan.FromSeconds(seconds), ct);
            rssAtKill = Rss(server.Id);

            // SIGKILL with calls in flight, then let the clients notice.
            Volatile.Write(ref killing, true);
            await server.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60), ct);
            foreach (var session in sessions)
            {
                try
                {
                    await session.DisposeAsync();
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
                {
                }
            }
        }

        Assert.True(errors.IsEmpty, $"{errors.Count} errors under load, e.g. {string.Join(" | ", errors.Take(3))}");
        Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} calls were acknowledged");
        Assert.Contains(acknowledged, r => r.StartsWith("load-x", StringComparison.Ordinal) && !r.EndsWith("-create", StringComparison.Ordinal));

        // The trail as the killed server left it on disk.
        var recorded = new HashSet<string>(StringComparer.Ordinal);
        var records = new List<AuditRecord>();
        using (var db = SqliteDatabase.Open(dataDir))
        {
            var audit = new SqliteAuditLog(db, new CanonicalAuditHasher());
            long after = 0;
            while (await audit.QueryAsync(new AuditQuery { AfterSeq = after, PageSize = 10_000 }, ct) is { Count: > 0 } page)
            {
                records.AddRange(page);
                after = page[^1].Seq;
            }
        }

        foreach (var r in records)
        {
            if (r.Begin.Reasoning is { } reasoning)
            {
                recorded.Add(reasoning);
            }
        }

        var lost = acknowledged.Where(a => !recorded.Contains(a)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged calls have no audit record, e.g. {string.Join(", ", lost.Take(5))}");
        var chain = AuditChain.Verify(records);
        Assert.True(chain.Ok, chain.Reason);
        var (code, stdout, stderr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);
        Assert.True(code == 0, stdout + stderr);

        // Bounded memory: the working set at the kill is not far above the one after warm-up.
        Assert.True(rssAtKill <= (rssAfterWarmup * 2) + (64 * 1024), $"resident memory grew from {rssAfterWarmup} KiB to {rssAtKill} KiB in {seconds} s");
        TestContext.Current.SendDiagnosticMessage(
            $"durability under load: {acknowledged.Count} acknowledged calls ({acknowledged.Count(a => a.StartsWith("load-x", StringComparison.Ordinal))} execute), {records.Count} audit records, 0 lost; RSS {rssAfterWarmup / 1024} -> {rssAtKill / 1024} MiB");
    }

    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
