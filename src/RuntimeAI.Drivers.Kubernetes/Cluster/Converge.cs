namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>Polls the cluster until it reaches a wanted state, on the injected clock.</summary>
internal static class Converge
{
    /// <summary>Reads until <paramref name="done"/> holds or the timeout passes; returns the last read and whether it converged.</summary>
    public static async Task<(T Last, bool Converged)> UntilAsync<T>(
        Func<CancellationToken, Task<T>> read, Func<T, bool> done, KubeClusterOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.ConvergeTimeout;
        while (true)
        {
            var last = await read(cancellationToken).ConfigureAwait(false);
            if (done(last))
            {
                return (last, true);
            }

            if (time.GetUtcNow() >= deadline)
            {
                return (last, false);
            }

            await Task.Delay(options.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
