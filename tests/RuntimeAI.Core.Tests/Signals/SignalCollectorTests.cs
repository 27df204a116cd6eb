using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Signals;
using RuntimeAI.Core.Tests.Lifecycle;

namespace RuntimeAI.Core.Tests.Signals;

/// <summary>The collector maps observations to metrics, and backs off a backend that is slow, on a fake clock.</summary>
public sealed class SignalCollectorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));

    private static Runtime On(string id, IRuntimeDriver driver) => new()
    {
        Id = id, Name = id, Type = RuntimeType.Vm, State = RuntimeState.Running, CreatedAt = DateTimeOffset.UnixEpoch,
        Backend = new RuntimeBackendRef(BackendKind.VmBackend, driver.Name + "#" + id),
    };

    private (SignalCollector Collector, ListSignalStore Store) Create(params (Runtime Runtime, IRuntimeDriver Driver)[] runtimes)
    {
        var inventory = new InMemoryInventory();
        foreach (var (runtime, _) in runtimes)
        {
            inventory.Runtimes[runtime.Id] = runtime;
        }

        var store = new ListSignalStore();
        var collector = new SignalCollector(inventory, new DriverRegistry(runtimes.Select(r => r.Driver).Distinct()), store, _time,
            NullLogger<SignalCollector>.Instance, new SignalCollectorOptions { Interval = TimeSpan.FromSeconds(10) });
        return (collector, store);
    }

    [Fact]
    public async Task CollectOnce_CpuTimeGrowth_IsCpuUsagePercentOfTheVcpus()
    {
        var driver = new ObservedDriver("fake:a", _time);
        var (collector, store) = Create((On("rt_1", driver), driver));

        await collector.CollectOnceAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(10));
        // 2 vCPUs for 10 s = 20 s of CPU; 5 s used is 25 %.
        driver.CpuTimeNs += 5_000_000_000;
        await collector.CollectOnceAsync(CancellationToken.None);

        var cpu = store.Samples.Where(s => s.Metric == SignalNames.CpuUsage).ToList();
        Assert.Equal(25, Assert.Single(cpu).Value, 6);
        Assert.Equal(2, store.Samples.Count(s => s.Metric == SignalNames.Up && s.Value == 1));
        Assert.Equal(50, store.Samples.Last(s => s.Metric == SignalNames.MemoryUsage).Value, 6);
    }

    [Fact]
    public async Task CollectOnce_SlowBackend_SkippedWithGrowingBackoff_OtherBackendStillSampled()
    {
        var slow = new ObservedDriver("fake:slow", _time) { Delay = TimeSpan.FromSeconds(3) };
        var fast = new ObservedDriver("fake:fast", _time);
        var (collector, store) = Create((On("rt_slow", slow), slow), (On("rt_fast", fast), fast));

        var first = await collector.CollectOnceAsync(CancellationToken.None);
        var second = await collector.CollectOnceAsync(CancellationToken.None);

        Assert.Equal(2, first.Sampled);
        Assert.Equal(0, first.Failed);
        Assert.True(second.SkippedBackends.ContainsKey("fake:slow"));
        Assert.Equal(1, second.Sampled);
        Assert.Equal(1, slow.Observations);
        Assert.Equal(2, fast.Observations);

        // After the backoff (twice the interval) it is tried again, still slow: backed off twice as long.
        _time.Advance(TimeSpan.FromSeconds(21));
        await collector.CollectOnceAsync(CancellationToken.None);
        Assert.Equal(2, slow.Observations);
        var until = (await collector.CollectOnceAsync(CancellationToken.None)).SkippedBackends["fake:slow"];
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(40), until);
        Assert.Contains(store.Samples, s => s.RuntimeId == "rt_fast");
    }

    /// <summary>A backend that reports CPU time and memory use, optionally taking fake time to answer.</summary>
    private sealed class ObservedDriver(string name, FakeTimeProvider time) : IRuntimeDriver
    {
        private readonly FlippableDriver _rest = new(name);

        public TimeSpan Delay { get; set; }

        public ulong CpuTimeNs { get; set; } = 1_000_000_000;

        public int Observations { get; private set; }

        public string Name => name;

        public RuntimeType RuntimeType => RuntimeType.Vm;

        public BackendKind BackendKind => BackendKind.VmBackend;

        public bool IsSandbox => true;

        public event EventHandler<DriverEvent>? RuntimeEventObserved
        {
            add { }
            remove { }
        }

        public Task<RuntimeObservation> ObserveAsync(string backendRef, CancellationToken cancellationToken)
        {
            Observations++;
            time.Advance(Delay);
            return Task.FromResult(new RuntimeObservation
            {
                State = RuntimeState.Running, Vcpus = 2, MemoryMiB = 2048, MemoryUsedMiB = 1024, CpuTimeNs = CpuTimeNs, ObservedAt = time.GetUtcNow(),
            });
        }

        public Task<IReadOnlyList<DiscoveredRuntime>> DiscoverAsync(CancellationToken cancellationToken) => _rest.DiscoverAsync(cancellationToken);
        public Task<CreateResult> CreateAsync(string runtimeId, RuntimeCreateRequest request, CancellationToken cancellationToken) => _rest.CreateAsync(runtimeId, request, cancellationToken);
        public Task<MutationResult> StartAsync(string backendRef, CancellationToken cancellationToken) => _rest.StartAsync(backendRef, cancellationToken);
        public Task<MutationResult> StopAsync(string backendRef, StopOptions options, CancellationToken cancellationToken) => _rest.StopAsync(backendRef, options, cancellationToken);
        public Task<MutationResult> RestartAsync(string backendRef, CancellationToken cancellationToken) => _rest.RestartAsync(backendRef, cancellationToken);
        public Task<MutationResult> ScaleAsync(string backendRef, ScaleTarget target, CancellationToken cancellationToken) => _rest.ScaleAsync(backendRef, target, cancellationToken);
        public Task<SnapshotInfo> SnapshotAsync(string backendRef, string name, string? description, CancellationToken cancellationToken) => _rest.SnapshotAsync(backendRef, name, description, cancellationToken);
        public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(string backendRef, CancellationToken cancellationToken) => _rest.ListSnapshotsAsync(backendRef, cancellationToken);
        public Task<MutationResult> RestoreSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken) => _rest.RestoreSnapshotAsync(backendRef, snapshotName, cancellationToken);
        public Task DeleteSnapshotAsync(string backendRef, string snapshotName, CancellationToken cancellationToken) => _rest.DeleteSnapshotAsync(backendRef, snapshotName, cancellationToken);
        public Task<MutationResult> DeleteAsync(string backendRef, DeleteOptions options, CancellationToken cancellationToken) => _rest.DeleteAsync(backendRef, options, cancellationToken);
        public Task<HostCapacity> GetCapacityAsync(CancellationToken cancellationToken) => _rest.GetCapacityAsync(cancellationToken);
        public Task<BackendHealth> ProbeAsync(CancellationToken cancellationToken) => _rest.ProbeAsync(cancellationToken);
    }

    private sealed class ListSignalStore : ISignalStore
    {
        public List<SignalSample> Samples { get; } = [];

        public Task AppendAsync(IReadOnlyList<SignalSample> samples, CancellationToken cancellationToken)
        {
            Samples.AddRange(samples);
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<SignalPoint>> QueryAsync(string runtimeId, string metric, DateTimeOffset from, DateTimeOffset to, SignalResolution resolution, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<SignalPoint>>([.. Samples.Where(s => s.RuntimeId == runtimeId && s.Metric == metric && s.Ts >= from && s.Ts < to).Select(s => new SignalPoint(s.Ts, s.Value, s.Value, s.Value, 1))]);

        public Task<long> PruneAsync(SignalRetention retention, DateTimeOffset now, CancellationToken cancellationToken) => Task.FromResult(0L);
    }
}
