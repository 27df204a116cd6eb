namespace RuntimeAI.Core.Operations;

/// <summary>
/// Fault injection for tests, inert unless <c>RUNTIMEAI_TEST_HOOKS=1</c>:
/// <c>RUNTIMEAI_TEST_CRASH_AFTER_STEP=N</c> kills the process right after step N is durable (crash
/// safety tests), and <c>RUNTIMEAI_TEST_FAIL_COMPENSATION=&lt;runtime name&gt;</c> makes every
/// compensation on that runtime fail (stuck-operation tests). Read on each use so a test can set them.
/// </summary>
internal static class SagaTestHooks
{
    private static bool Enabled => Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_HOOKS") == "1";

    public static void AfterDurableStep(int step)
    {
        if (Enabled && int.TryParse(Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_CRASH_AFTER_STEP"), out var n) && n == step)
        {
            Environment.FailFast($"RUNTIMEAI_TEST_CRASH_AFTER_STEP={n}: simulated crash after saga step {n} was recorded");
        }
    }

    public static bool FailCompensationFor(string runtimeName) =>
        Enabled && Environment.GetEnvironmentVariable("RUNTIMEAI_TEST_FAIL_COMPENSATION") is { Length: > 0 } name
                && string.Equals(name, runtimeName, StringComparison.Ordinal);
}
