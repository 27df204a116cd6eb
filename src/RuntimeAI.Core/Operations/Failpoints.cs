using System.Collections.Concurrent;

namespace RuntimeAI.Core.Operations;

/// <summary>
/// Fault injection for the crash-safety and stuck-saga tests, compiled in only for test builds
/// (<c>RUNTIMEAI_FAILPOINTS</c>: Debug, or <c>-p:RuntimeAiFailpoints=true</c>) and even then inert
/// unless <c>RUNTIMEAI_TEST_HOOKS=1</c>. <c>RUNTIMEAI_TEST_CRASH_AT=&lt;failpoint&gt;[:&lt;n&gt;]</c> kills
/// the process with SIGKILL the n-th time (default the first) it reaches the named failpoint (see
/// <see cref="Names"/>); <c>RUNTIMEAI_TEST_CRASH_AFTER_STEP=N</c> is the older form of
/// <c>saga.step.durable:N</c>; <c>RUNTIMEAI_TEST_FAIL_COMPENSATION=&lt;runtime name&gt;</c> makes every
/// compensation on that runtime fail. Read on each use so a test can set them. In a shipped build
/// every method here is a no-op.
/// </summary>
public static class Failpoints
{
    /// <summary>True when this build has the failpoints compiled in.</summary>
#if RUNTIMEAI_FAILPOINTS
    public const bool Compiled = true;
#else
    public const bool Compiled = false;
#endif

    /// <summary>A saga step is recorded as running; its command has not run.</summary>
    public const string StepBefore = "saga.step.before";

    /// <summary>A saga step's command has run; its outcome is not recorded yet.</summary>
    public const string StepAfter = "saga.step.after";

    /// <summary>A saga step's outcome is recorded (durable).</summary>
    public const string StepDurable = "saga.step.durable";

    /// <summary>A compensation is about to run.</summary>
    public const string CompensationBefore = "saga.compensation.before";

    /// <summary>A compensation has run; the step is not recorded as compensated yet.</summary>
    public const string CompensationAfter = "saga.compensation.after";

    /// <summary>A batch of audit records is written but its transaction is not committed.</summary>
    public const string AuditAppendBefore = "audit.append.before";

    /// <summary>A batch of audit records is committed; the callers are not told yet.</summary>
    public const string AuditAppendAfter = "audit.append.after";

    /// <summary>An idempotency key is about to be claimed.</summary>
    public const string IdempotencyWriteBefore = "idempotency.write.before";

    /// <summary>An idempotency key is claimed (committed).</summary>
    public const string IdempotencyWriteAfter = "idempotency.write.after";

    /// <summary>Every named failpoint.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        StepBefore, StepAfter, StepDurable, CompensationBefore, CompensationAfter,
        AuditAppendBefore, AuditAppendAfter, IdempotencyWriteBefore, IdempotencyWriteAfter,
    ];

#if RUNTIMEAI_FAILPOINTS
    private static readonly ConcurrentDictionary<string, int> Hits = new(StringComparer.Ordinal);
#endif

    /// <summary>Kills the process here when a test armed this failpoint (see the class summary).</summary>
    public static void Hit(string name)
    {
#if RUNTIMEAI_FAILPOINTS
        if (!Enabled || Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_CRASH_AT") is not { Length: > 0 } armed)
        {
            return;
        }

        var parts = armed.Split(':', 2);
        if (!string.Equals(parts[0], name, StringComparison.Ordinal))
        {
            return;
        }

        var nth = parts.Length == 2 && int.TryParse(parts[1], out var n) ? n : 1;
        if (Hits.AddOrUpdate(name, 1, (_, c) => c + 1) == nth)
        {
            // SIGKILL: no finally block, flush or shutdown hook runs, as when the machine loses power.
            Console.Error.WriteLine($"runtimeai: test failpoint {name}:{nth} reached; killing the process (SIGKILL)");
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }
#else
        _ = name;
#endif
    }

    public static void AfterDurableStep(int step)
    {
#if RUNTIMEAI_FAILPOINTS
        if (Enabled && int.TryParse(Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_CRASH_AFTER_STEP"), out var n) && n == step)
        {
            Environment.FailFast($"RUNTIMEAI_TEST_CRASH_AFTER_STEP={n}: simulated crash after saga step {n} was recorded");
        }
#else
        _ = step;
#endif
        Hit(StepDurable);
    }

    public static bool FailCompensationFor(string runtimeName)
    {
#if RUNTIMEAI_FAILPOINTS
        return Enabled && Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_FAIL_COMPENSATION") is { Length: > 0 } name
               && string.Equals(name, runtimeName, StringComparison.Ordinal);
#else
        _ = runtimeName;
        return false;
#endif
    }

#if RUNTIMEAI_FAILPOINTS
    private static bool Enabled => Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_HOOKS") == "1";
#endif
}
