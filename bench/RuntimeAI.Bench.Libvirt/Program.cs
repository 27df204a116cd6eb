// Control-plane overhead of a start/stop cycle: the driver (LibvirtDomainDriver) against the raw
// libvirt calls it makes and against the same cycle done with virsh (one process per command).
//
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Libvirt -- [--uri qemu:///system] [--iterations 20]
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Libvirt -- --smoke   (3 cycles on test:///default; CI)
//
// A Stopwatch harness rather than BenchmarkDotNet: each cycle boots a real VM, so a run is a few
// dozen cycles, and the interesting figure is the difference between the columns.
using System.Diagnostics;
using System.Globalization;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Libvirt;

var uri = "test:///default";
var iterations = 20;
var smoke = args.Contains("--smoke");
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--uri") uri = args[i + 1];
    if (args[i] == "--iterations") iterations = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
}

if (smoke)
{
    uri = "test:///default";
    iterations = 3;
}

if (!LibvirtLibrary.IsAvailable(out var reason))
{
    Console.Error.WriteLine(reason);
    return 1;
}

using var driver = new LibvirtDomainDriver(new LibvirtOptions
{
    Uri = uri,
    DataDir = "/var/lib/runtimeai-bench",
    StoragePool = "runtimeai-bench",
    DiskSizeMiB = 64,
    StartOnCreate = false,
});
var name = "rtbench-" + Guid.NewGuid().ToString("N")[..8];
var created = await driver.CreateAsync("rt_bench", new RuntimeCreateRequest
{
    Name = name,
    Type = RuntimeType.Vm,
    Spec = new RuntimeSpec { Resources = new ResourceProfile { Cpu = 1, Memory = "64Mi" } },
}, CancellationToken.None);

try
{
    var stopNow = new StopOptions(Force: true, TimeSpan.Zero);
    var virshAvailable = !uri.StartsWith("test:", StringComparison.Ordinal); // test:///default lives in this process only

    // Warm-up: JIT, connection, qemu binary in the page cache.
    await driver.StartAsync(created.BackendRef, CancellationToken.None);
    await driver.StopAsync(created.BackendRef, stopNow, CancellationToken.None);

    var rows = new List<(string Name, List<double> Ms)>
    {
        ("raw libvirt calls (virDomainCreate + virDomainDestroy)", await Measure(iterations, () => { RawCycle.Run(uri, name); return Task.CompletedTask; })),
        ("LibvirtDomainDriver (StartAsync + StopAsync force)", await Measure(iterations, async () =>
        {
            await driver.StartAsync(created.BackendRef, CancellationToken.None);
            await driver.StopAsync(created.BackendRef, stopNow, CancellationToken.None);
        })),
    };
    if (virshAvailable)
    {
        rows.Add(("virsh start + virsh destroy (2 processes)", await Measure(iterations, async () =>
        {
            await Virsh(uri, "start", name);
            await Virsh(uri, "destroy", name);
        })));
    }

    Console.WriteLine($"start/stop cycle of a 64 MiB VM on {uri}, {iterations} iterations (ms)");
    Console.WriteLine($"{"cycle",-58} {"mean",8} {"p50",8} {"p95",8} {"min",8}");
    foreach (var (label, ms) in rows)
    {
        ms.Sort();
        Console.WriteLine($"{label,-58} {ms.Average(),8:F1} {ms[ms.Count / 2],8:F1} {ms[(int)Math.Min(ms.Count - 1, Math.Ceiling(ms.Count * 0.95) - 1)],8:F1} {ms[0],8:F1}");
    }

    var raw = rows[0].Ms.Average();
    Console.WriteLine($"driver overhead over raw calls: {rows[1].Ms.Average() - raw:F1} ms per cycle");
    if (virshAvailable)
    {
        Console.WriteLine($"virsh overhead over raw calls:  {rows[2].Ms.Average() - raw:F1} ms per cycle");
    }
}
finally
{
    await driver.DeleteAsync(created.BackendRef, new DeleteOptions(KeepDisk: false), CancellationToken.None);
}

return 0;

static async Task<List<double>> Measure(int iterations, Func<Task> cycle)
{
    var samples = new List<double>(iterations);
    for (var i = 0; i < iterations; i++)
    {
        var sw = Stopwatch.StartNew();
        await cycle();
        samples.Add(sw.Elapsed.TotalMilliseconds);
    }

    return samples;
}

static async Task Virsh(string uri, params string[] args)
{
    var psi = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
    psi.ArgumentList.Add("-c");
    psi.ArgumentList.Add(uri);
    foreach (var a in args) psi.ArgumentList.Add(a);
    using var p = Process.Start(psi)!;
    await p.WaitForExitAsync();
    if (p.ExitCode != 0) throw new InvalidOperationException($"virsh {string.Join(' ', args)}: {await p.StandardError.ReadToEndAsync()}");
}
