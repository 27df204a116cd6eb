using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RuntimeAI.Core.Telemetry;

/// <summary>
/// The server's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>, and the instruments on it (see docs/telemetry.md). With no listener (the
/// default: no exporter is configured) starting a span returns null and recording a measurement
/// is a flag check, so the pipeline pays next to nothing.
/// </summary>
/// <remarks>
/// Tags carry names and outcomes only (tool, tier, outcome, autonomy, transport, principal kind,
/// action, status, backend) — never argument values, reasoning text or principal names, which may
/// hold secrets or personal data.
/// </remarks>
public static class RuntimeAiTelemetry
{
    /// <summary>The name of the activity source and of the meter: <c>RuntimeAI.Mcp</c>.</summary>
    public const string Name = "RuntimeAI.Mcp";

    private static readonly ConcurrentDictionary<string, bool> s_backendHealth = new(StringComparer.Ordinal);

    private static volatile IReadOnlyDictionary<string, (long Count, DateTimeOffset Oldest)> s_pending =
        new Dictionary<string, (long Count, DateTimeOffset Oldest)>(StringComparer.Ordinal);

    private static TimeProvider s_pendingClock = TimeProvider.System;

    /// <summary>Spans: one per tool call (<c>tools/call {tool}</c>), one per saga step (<c>saga.step {action}</c>).</summary>
    public static ActivitySource Source { get; } = new(Name, typeof(RuntimeAiTelemetry).Assembly.GetName().Version?.ToString(3));

    /// <summary>The meter every instrument below belongs to.</summary>
    public static Meter Meter { get; } = new(Name, typeof(RuntimeAiTelemetry).Assembly.GetName().Version?.ToString(3));

    /// <summary><c>runtimeai.tool.calls</c>: tool calls that ended, by tool, tier and outcome.</summary>
    public static Counter<long> ToolCalls { get; } = Meter.CreateCounter<long>(
        "runtimeai.tool.calls", "{call}", "Tool calls that ended, by tool, tier and outcome.");

    /// <summary><c>runtimeai.tool.call.duration</c>: time from the call entering the pipeline to its answer.</summary>
    public static Histogram<double> ToolCallDuration { get; } = Meter.CreateHistogram<double>(
        "runtimeai.tool.call.duration", "s", "Time from a tool call entering the pipeline to its answer, by tool, tier and outcome.");

    /// <summary><c>runtimeai.approvals.requested</c>: proposals created because a human must approve.</summary>
    public static Counter<long> ApprovalsRequested { get; } = Meter.CreateCounter<long>(
        "runtimeai.approvals.requested", "{proposal}", "Proposals put up for human approval, by tool.");

    /// <summary><c>runtimeai.approvals.decided</c>: proposals approved, rejected or expired, by decision.</summary>
    public static Counter<long> ApprovalsDecided { get; } = Meter.CreateCounter<long>(
        "runtimeai.approvals.decided", "{proposal}", "Proposals decided (approved, rejected, expired), by decision.");

    /// <summary><c>runtimeai.operations</c>: operations that reached an end state, by action and status.</summary>
    public static Counter<long> Operations { get; } = Meter.CreateCounter<long>(
        "runtimeai.operations", "{operation}", "Operations that ended, by action and status.");

    /// <summary><c>runtimeai.operation.duration</c>: time from an operation's start to its end state.</summary>
    public static Histogram<double> OperationDuration { get; } = Meter.CreateHistogram<double>(
        "runtimeai.operation.duration", "s", "Time from an operation's start to its end state, by action and status.");

    /// <summary><c>runtimeai.audit.append.duration</c>: time to append (and fsync) one audit record, by phase.</summary>
    public static Histogram<double> AuditAppendDuration { get; } = Meter.CreateHistogram<double>(
        "runtimeai.audit.append.duration", "s", "Time to append one audit record durably, by phase (begin, end).");

    /// <summary><c>runtimeai.backend.probes</c>: backend health probes, by backend and result.</summary>
    public static Counter<long> BackendProbes { get; } = Meter.CreateCounter<long>(
        "runtimeai.backend.probes", "{probe}", "Backend health probes, by backend and healthy (true/false).");

    /// <summary><c>runtimeai.backend.healthy</c>: 1 when the backend's last probe was healthy, 0 when it is in safe mode.</summary>
    public static ObservableGauge<int> BackendHealthy { get; } = Meter.CreateObservableGauge(
        "runtimeai.backend.healthy",
        () => s_backendHealth.Select(p => new Measurement<int>(p.Value ? 1 : 0, new KeyValuePair<string, object?>("backend", p.Key))),
        "{backend}",
        "1 when the backend's last health probe answered healthy, 0 while it is in safe mode.");

    /// <summary><c>runtimeai.approvals.pending</c>: proposals waiting for a human, by approval channel (sampled from the store).</summary>
    public static ObservableGauge<long> ApprovalsPending { get; } = Meter.CreateObservableGauge(
        "runtimeai.approvals.pending",
        () => s_pending.Select(p => new Measurement<long>(p.Value.Count, new KeyValuePair<string, object?>("channel", p.Key))),
        "{proposal}",
        "Proposals waiting for a human decision (not expired), by approval channel; sampled from the store.");

    /// <summary><c>runtimeai.approvals.pending.age</c>: how long the oldest waiting proposal has waited, by channel.</summary>
    public static ObservableGauge<double> ApprovalsPendingAge { get; } = Meter.CreateObservableGauge(
        "runtimeai.approvals.pending.age",
        () => s_pending.Select(p => new Measurement<double>(
            Math.Max(0, (s_pendingClock.GetUtcNow() - p.Value.Oldest).TotalSeconds), new KeyValuePair<string, object?>("channel", p.Key))),
        "s",
        "Age of the oldest proposal waiting for a human decision, by approval channel.");

    /// <summary>
    /// Replaces the sample of waiting proposals behind the two approval gauges. A channel that has
    /// none left reports 0 (it stays in the sample once seen), so a dashboard sees the queue drain.
    /// </summary>
    /// <param name="pending">Channel and creation time of every proposal still waiting.</param>
    /// <param name="time">The clock the age is measured with.</param>
    public static void SetPendingApprovals(IEnumerable<(string Channel, DateTimeOffset CreatedAt)> pending, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(time);
        var sample = new Dictionary<string, (long Count, DateTimeOffset Oldest)>(StringComparer.Ordinal);
        foreach (var channel in s_pending.Keys)
        {
            sample[channel] = (0, time.GetUtcNow());
        }

        foreach (var (channel, createdAt) in pending)
        {
            sample[channel] = sample.TryGetValue(channel, out var seen) && seen.Count > 0
                ? (seen.Count + 1, createdAt < seen.Oldest ? createdAt : seen.Oldest)
                : (1, createdAt);
        }

        s_pendingClock = time;
        s_pending = sample;
    }

    /// <summary>Records a health probe's result (counter and gauge).</summary>
    /// <param name="backend">The driver's name.</param>
    /// <param name="healthy">What the probe said.</param>
    public static void RecordProbe(string backend, bool healthy)
    {
        ArgumentNullException.ThrowIfNull(backend);
        s_backendHealth[backend] = healthy;
        BackendProbes.Add(1, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("healthy", healthy));
    }

    /// <summary>Records an operation stored in an end state (count and duration, by action and status).</summary>
    /// <param name="operation">The operation, in a terminal status.</param>
    public static void RecordOperationEnded(global::RuntimeAI.Core.Operations.Operation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (!Operations.Enabled && !OperationDuration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { "action", operation.Action },
            { "status", Common.EnumText.Name(operation.Status) },
        };
        Operations.Add(1, tags);
        if (operation.FinishedAt is { } finished)
        {
            OperationDuration.Record(Math.Max(0, (finished - operation.CreatedAt).TotalSeconds), tags);
        }
    }

    /// <summary>Seconds between two <see cref="TimeProvider.GetTimestamp"/> readings.</summary>
    /// <param name="time">The clock that gave <paramref name="start"/>.</param>
    /// <param name="start">The first reading.</param>
    /// <returns>The elapsed seconds.</returns>
    public static double SecondsSince(TimeProvider time, long start)
    {
        ArgumentNullException.ThrowIfNull(time);
        return time.GetElapsedTime(start).TotalSeconds;
    }
}
