using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Drivers;

namespace RuntimeAI.Core.Lifecycle;

/// <summary>Options of <see cref="BackendHealthMonitor"/>.</summary>
public sealed class BackendHealthOptions
{
    /// <summary>Time between two probe rounds (default 15 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a probe may take before the backend counts as not answering (default 10 s).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Interval or timeout is not positive.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Interval, TimeSpan.Zero, nameof(Interval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ProbeTimeout, TimeSpan.Zero, nameof(ProbeTimeout));
    }
}

/// <summary>The last known health of one backend.</summary>
/// <param name="Backend">The driver's name, e.g. <c>libvirt:qemu:///system</c>.</param>
/// <param name="Healthy">True when the last probe answered and said healthy.</param>
/// <param name="Detail">What the probe said (version, or why it failed).</param>
/// <param name="CheckedAt">When the last probe finished.</param>
/// <param name="DownSince">When the backend first failed its probe in the current outage (null when healthy).</param>
public sealed record BackendStatus(string Backend, bool Healthy, string? Detail, DateTimeOffset CheckedAt, DateTimeOffset? DownSince)
{
    /// <summary>True when mutations to this backend are refused.</summary>
    public bool SafeMode => !Healthy;

    /// <summary>The operator-facing refusal for a backend in safe mode; null when healthy.</summary>
    public string? SafeModeMessage => Healthy
        ? null
        : $"safe mode: read-only — backend {Backend} stopped answering its health probe at " +
          $"{(DownSince ?? CheckedAt).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} " +
          $"({Detail ?? "no detail"}); mutations are refused until it recovers";
}

/// <summary>
/// Probes every configured backend on an interval and keeps its health, so that mutations to a
/// backend that stopped answering are refused ("safe mode: read-only") instead of half-applied,
/// and status tools can say why. Reads are never blocked: an observation of a sick backend fails
/// on its own with the backend's error.
/// </summary>
/// <remarks>
/// A backend is healthy until a probe says otherwise: before the first round nothing is refused
/// (the host runs the first round at start, before it serves calls). One failed probe (an error,
/// an unhealthy answer, or no answer within <see cref="BackendHealthOptions.ProbeTimeout"/>)
/// enters safe mode; the next healthy probe leaves it.
/// </remarks>
public sealed class BackendHealthMonitor
{
    private readonly DriverRegistry _drivers;
    private readonly TimeProvider _time;
    private readonly ILogger<BackendHealthMonitor> _logger;
    private readonly ConcurrentDictionary<string, BackendStatus> _status = new(StringComparer.Ordinal);

    /// <summary>Creates the monitor; nothing is probed until <see cref="ProbeAllAsync"/> or <see cref="RunAsync"/>.</summary>
    /// <param name="drivers">The backends to watch.</param>
    /// <param name="time">The clock (probe times, interval, timeout).</param>
    /// <param name="logger">Logs entering and leaving safe mode.</param>
    /// <param name="options">Interval and timeout; defaults when null.</param>
    public BackendHealthMonitor(DriverRegistry drivers, TimeProvider time, ILogger<BackendHealthMonitor> logger, BackendHealthOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(drivers);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        Options = options ?? new BackendHealthOptions();
        Options.Validate();
        _drivers = drivers;
        _time = time;
        _logger = logger;
    }

    /// <summary>The interval and timeout in use.</summary>
    public BackendHealthOptions Options { get; }

    /// <summary>The last known status of every backend probed so far, in configuration order.</summary>
    public IReadOnlyList<BackendStatus> All =>
        _drivers.All.Select(d => _status.TryGetValue(d.Name, out var s) ? s : null).OfType<BackendStatus>().ToArray();

    /// <summary>The last known status of a backend; null before its first probe.</summary>
    /// <param name="backend">The driver's name.</param>
    /// <returns>The status, or null.</returns>
    public BackendStatus? Get(string backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return _status.TryGetValue(backend, out var status) ? status : null;
    }

    /// <summary>The last known status of the backend that owns a runtime's backend reference; null when unknown.</summary>
    /// <param name="backendRef">A runtime's backend reference (<c>driver-name#ref</c>).</param>
    /// <returns>The status, or null.</returns>
    public BackendStatus? ForBackendRef(string backendRef)
    {
        ArgumentNullException.ThrowIfNull(backendRef);
        return _drivers.ForBackendRef(backendRef) is { } driver ? Get(driver.Name) : null;
    }

    /// <summary>Refuses a mutation of a backend in safe mode.</summary>
    /// <param name="driver">The backend about to be changed.</param>
    /// <exception cref="LifecycleException">Code <c>safe_mode</c>: the backend's last probe failed.</exception>
    public void ThrowIfReadOnly(IRuntimeDriver driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        if (Get(driver.Name) is { SafeModeMessage: { } message })
        {
            throw new LifecycleException("safe_mode", message);
        }
    }

    /// <summary>Probes every backend once, concurrently, and records the results.</summary>
    /// <param name="cancellationToken">Stops the round (results already recorded stay).</param>
    /// <returns>The statuses of this round, in configuration order.</returns>
    public async Task<IReadOnlyList<BackendStatus>> ProbeAllAsync(CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(_drivers.All.Select(d => ProbeAsync(d, cancellationToken))).ConfigureAwait(false);
        return results;
    }

    /// <summary>Probes every <see cref="BackendHealthOptions.Interval"/>, the first round one interval from now, until cancelled.</summary>
    /// <param name="cancellationToken">Stops the loop.</param>
    /// <returns>A task that ends when cancelled.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Options.Interval, _time, cancellationToken).ConfigureAwait(false);
                await ProbeAllAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task<BackendStatus> ProbeAsync(IRuntimeDriver driver, CancellationToken cancellationToken)
    {
        BackendHealth health;
        try
        {
            using var timeout = new CancellationTokenSource(Options.ProbeTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            // WaitAsync too: a probe stuck in a native call may not observe its token.
            health = await driver.ProbeAsync(linked.Token).WaitAsync(Options.ProbeTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            health = new BackendHealth(false, $"no answer within {Options.ProbeTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        catch (Exception ex)
        {
            // Any failure of the probe is an unhealthy backend, never a crash of the monitor.
            health = new BackendHealth(false, ex.Message);
        }

        return Record(driver.Name, health);
    }

    private BackendStatus Record(string backend, BackendHealth health)
    {
        var now = _time.GetUtcNow();
        health = health with { Detail = health.Detail is null ? null : SecretRedactor.RedactText(health.Detail) };
        var previous = Get(backend);
        var status = health.Healthy
            ? new BackendStatus(backend, true, health.Detail, now, null)
            : new BackendStatus(backend, false, health.Detail, now, previous is { Healthy: false } ? previous.DownSince : now);
        _status[backend] = status;
        Telemetry.RuntimeAiTelemetry.RecordProbe(backend, status.Healthy);
        if (!status.Healthy && previous is not { Healthy: false })
        {
            _logger.LogWarning("Backend {Backend} failed its health probe ({Detail}): safe mode, mutations to it are refused until it recovers", backend, health.Detail);
        }
        else if (status.Healthy && previous is { Healthy: false })
        {
            _logger.LogInformation("Backend {Backend} answers its health probe again: safe mode over, mutations allowed", backend);
        }

        return status;
    }
}
