using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using RuntimeAI.Core.Audit;

/// <summary>
/// Cost of redacting a tool result before it leaves the server (every structured result passes
/// <see cref="SecretRedactor.RedactedOrSame"/>): a list_runtimes page of 50 runtimes, as the server
/// redacts it, redacted into a copy (as it did before), with the fragment pre-check and with every
/// string through the six patterns (as before the pre-check).
/// </summary>
[MemoryDiagnoser]
public class RedactionBench
{
    private readonly JsonObject _page = Page(50);
    private readonly string[] _strings;

    public RedactionBench()
    {
        _strings = [.. Strings(_page)];
    }

    /// <summary>The whole page redacted into a copy (what the server did to every tool result before <see cref="SecretRedactor.RedactedOrSame"/>).</summary>
    [Benchmark(Baseline = true)]
    public JsonNode? RedactPage() => SecretRedactor.Redact(_page);

    /// <summary>
    /// The page as the server redacts a tool result now (<see cref="SecretRedactor.RedactedOrSame"/>):
    /// looked at, and handed back as it is, since nothing in it is a secret.
    /// </summary>
    [Benchmark]
    public JsonNode? RedactedOrSamePage() => SecretRedactor.RedactedOrSame(_page);

    /// <summary>Every string of the page through <see cref="SecretRedactor.RedactText"/> (pre-check, patterns when needed).</summary>
    [Benchmark]
    public int RedactPageStrings()
    {
        var n = 0;
        foreach (var s in _strings)
        {
            n += SecretRedactor.RedactText(s).Length;
        }

        return n;
    }

    /// <summary>Every string of the page through the six patterns, as before the pre-check.</summary>
    [Benchmark]
    public int PatternsOnEveryString()
    {
        var n = 0;
        foreach (var s in _strings)
        {
            n += SecretRedactor.ApplyPatterns(s).Length;
        }

        return n;
    }

    /// <summary>Checks that a planted secret goes and a harmless page stays, then times a short loop.</summary>
    public static int Smoke()
    {
        var bench = new RedactionBench();
        var page = bench.RedactPage()!.ToJsonString();
        var planted = SecretRedactor.RedactText("reason: connect with postgres://admin:hunter2@db and Bearer abcdefgh12345678");
        if (page != bench._page.ToJsonString() || !ReferenceEquals(bench.RedactedOrSamePage(), bench._page) || planted.Contains("hunter2", StringComparison.Ordinal) || planted.Contains("abcdefgh12345678", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"redaction bench smoke: FAILED (a harmless page changed or was copied, or a planted secret stayed: {planted})");
            return 1;
        }

        const int n = 500;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            bench.RedactPage();
        }

        var fastUs = watch.Elapsed.TotalMicroseconds / n;
        watch.Restart();
        for (var i = 0; i < n; i++)
        {
            bench.PatternsOnEveryString();
        }

        var slowUs = watch.Elapsed.TotalMicroseconds / n;
        Console.WriteLine($"redaction bench smoke: ok (page {fastUs:F1} µs, patterns on every string {slowUs:F1} µs, {n} pages each, not a measurement)");
        return 0;
    }

    private static JsonObject Page(int count)
    {
        var items = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            items.Add(new JsonObject
            {
                ["id"] = string.Create(CultureInfo.InvariantCulture, $"rt_01M98FFN3E6SB6C8Y1V96M{i:D4}"),
                ["name"] = string.Create(CultureInfo.InvariantCulture, $"web-{i:D2}"),
                ["type"] = i % 3 == 0 ? "vcluster" : "vm",
                ["state"] = i % 4 == 0 ? "stopped" : "running",
                ["backend"] = new JsonObject
                {
                    ["kind"] = i % 3 == 0 ? "vcluster_backend" : "vm_backend",
                    ["ref"] = i % 3 == 0
                        ? string.Create(CultureInfo.InvariantCulture, $"vcluster:prod#vcluster-web-{i:D2}/web-{i:D2}")
                        : string.Create(CultureInfo.InvariantCulture, $"libvirt:qemu:///system#6695eb01-f6a4-8304-79aa-97f2502e{i:D4}"),
                },
                ["labels"] = new JsonObject { ["env"] = "dev", ["team"] = "payments" },
                ["spec"] = new JsonObject { ["size"] = "small", ["vcpus"] = 2, ["memory_mib"] = 2048 },
                ["created_at"] = "2026-12-07T14:45:49.2782734+00:00",
                ["updated_at"] = "2026-12-07T14:45:51.1680380+00:00",
            });
        }

        return new JsonObject { ["items"] = items, ["next_page_token"] = "eyJvIjo1MH0", ["total"] = count };
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };
}
