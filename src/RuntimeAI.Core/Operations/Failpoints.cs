namespace RuntimeAI.Core.Operations;

/// <summary>
/// Fault injection for the crash-safety and stuck-saga tests, compiled in only for test builds
/// (<c>RUNTIMEAI_FAILPOINTS</c>: Debug, or <c>-p:RuntimeAiFailpoints=true</c>) and even then inert
/// unless <c>RUNTIMEAI_TEST_HOOKS=1</c>: <c>RUNTIMEAI_TEST_CRASH_AFTER_STEP=N</c> kills the process
/// right after step N is durable, and <c>RUNTIMEAI_TEST_FAIL_COMPENSATION=&lt;runtime name&gt;</c>
/// makes every compensation on that runtime fail. Read on each use so a test can set them. In a
/// shipped build every method here is a no-op.
/// </summary>
internal static class Failpoints
{
    /// <summary>True when this build has the failpoints compiled in.</summary>
#if RUNTIMEAI_FAILPOINTS
    public const bool Compiled = true;
#else
    public const bool Compiled = false;
#endif

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
