// One page of the runtime inventory when it holds 10,000 runtimes (SQLite, the default store):
// the first page, a page filtered by a label, and a page deep in the listing (its token taken
// from walking the pages). A Stopwatch harness; run it on an otherwise idle machine:
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Inventory
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Inventory -- --smoke   (1,000 runtimes, 50 reads each; CI)
// The store is filled on tmpfs when /dev/shm exists: 10,000 durable inserts on a disk only slow the
// set-up; the reads are served from the page cache either way.
using System.Diagnostics;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Storage.Sqlite;

var smoke = args.Contains("--smoke");
var count = smoke ? 1_000 : 10_000;
var reads = smoke ? 50 : 2_000;
var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
var dir = Directory.CreateDirectory(Path.Combine(root, "runtimeai-bench-inventory-" + Guid.NewGuid().ToString("n"))).FullName;
try
{
    using var database = SqliteDatabase.Open(dir);
    var inventory = new SqliteRuntimeInventory(database);
    var created = TimeProvider.System.GetUtcNow();
    var fill = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        await inventory.SaveRuntimeAsync(new Runtime
        {
            Id = $"rt_{i:D8}",
            Name = $"runtime-{i}",
            Type = i % 3 == 0 ? RuntimeType.Vcluster : RuntimeType.Vm,
            State = i % 4 == 0 ? RuntimeState.Stopped : RuntimeState.Running,
            Labels = new Dictionary<string, string> { ["team"] = "t" + (i % 50), ["env"] = i % 2 == 0 ? "prod" : "dev" },
            Spec = new RuntimeSpec { Size = "small" },
            CreatedAt = created.AddSeconds(i),
        }, "created", CancellationToken.None);
    }

    fill.Stop();
    Console.WriteLine($"inventory: {count:N0} runtimes in SQLite ({fill.Elapsed.TotalSeconds:F1} s to insert on {root}), {reads:N0} timed reads per case after as many warm-up ones (µs)");

    // The token of a page deep in the listing: walk there once.
    var deepQuery = new RuntimeQuery { PageSize = 50 };
    for (var page = 0; page < count / 50 / 2; page++)
    {
        var next = await inventory.ListRuntimesAsync(deepQuery, CancellationToken.None);
        deepQuery = deepQuery with { PageToken = next.NextPageToken };
    }

    var cases = new (string Name, RuntimeQuery Query, int Expected)[]
    {
        ("first page (50)", new RuntimeQuery { PageSize = 50 }, 50),
        ("first page (200, the tools' maximum)", new RuntimeQuery { PageSize = 200 }, 200),
        ("filtered by label team=t7 and state running (first 50)", new RuntimeQuery { PageSize = 50, Labels = new Dictionary<string, string> { ["team"] = "t7" }, State = RuntimeState.Running }, 50),
        ($"page {count / 100 + 1} of {count / 50} (50 each, by its token)", deepQuery, 50),
    };
    Console.WriteLine("| case | p50 | p90 | p99 | max | items |");
    Console.WriteLine("|---|---|---|---|---|---|");
    var ok = true;
    foreach (var (name, query, expected) in cases)
    {
        Page<Runtime> page = null!;
        for (var i = 0; i < reads; i++)
        {
            page = await inventory.ListRuntimesAsync(query, CancellationToken.None);
        }

        var samples = new double[reads];
        for (var i = 0; i < reads; i++)
        {
            var start = Stopwatch.GetTimestamp();
            page = await inventory.ListRuntimesAsync(query, CancellationToken.None);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)(q * samples.Length))];
        ok &= query.Labels.Count > 0 ? page.Items.Count > 0 : page.Items.Count == Math.Min(expected, count);
        Console.WriteLine($"| {name} | {P(0.5):F0} | {P(0.9):F0} | {P(0.99):F0} | {samples[^1]:F0} | {page.Items.Count} |");
    }

    // A page that comes back short (or empty) means the harness measured the wrong thing.
    return ok ? 0 : 1;
}
finally
{
    Directory.Delete(dir, recursive: true);
}
