namespace RuntimeAI.Core.Lifecycle;

/// <summary>
/// Whether the backends' first health probe and first discovery have finished. The server answers
/// the MCP handshake and tools/list at once, without waiting for (or even loading) any backend; a
/// tool call waits here (at most <see cref="MaxWait"/>) so it plans against an inventory the
/// backends have brought up to date, with safe mode already known.
/// A backend that does not answer in time is left to its own retries and health probe: calls go on
/// with the recorded inventory, and that backend's runtimes say what they last knew.
/// </summary>
public sealed class BackendReadiness
{
    private readonly TaskCompletionSource _discovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _probed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _ready;

    public BackendReadiness() => _ready = Task.WhenAll(_discovered.Task, _probed.Task);

    /// <summary>How long a tool call waits for the first discovery at most.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(15);

    /// <summary>True once the first probe and the first discovery have ended (whatever their outcome).</summary>
    public bool IsReady => _ready.IsCompleted;

    /// <summary>Marks the first discovery as ended.</summary>
    public void MarkDiscovered() => _discovered.TrySetResult();

    /// <summary>Marks the first health probe round as ended.</summary>
    public void MarkProbed() => _probed.TrySetResult();

    /// <summary>Waits for the first probe and discovery, at most <see cref="MaxWait"/>; true when both have ended.</summary>
    public async ValueTask<bool> WaitAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (IsReady)
        {
            return true;
        }

        try
        {
            await _ready.WaitAsync(MaxWait, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
