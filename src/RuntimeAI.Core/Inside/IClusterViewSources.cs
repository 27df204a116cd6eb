namespace RuntimeAI.Core.Inside;

/// <summary>
/// A driver whose runtimes have a Kubernetes API inside (a vcluster): the observe tools open it
/// by the runtime's backend reference.
/// </summary>
public interface IRuntimeInsideSource
{
    /// <summary>Opens the API inside a runtime; the caller disposes the view.</summary>
    /// <param name="backendRef">The runtime's backend reference.</param>
    /// <param name="cancellationToken">Cancels the reads needed to open it.</param>
    /// <returns>The view.</returns>
    /// <exception cref="Drivers.RuntimeDriverException">The runtime has no reachable API (paused, not ready); the message says what to do.</exception>
    Task<IClusterView> OpenInsideAsync(string backendRef, CancellationToken cancellationToken);
}

/// <summary>
/// The host cluster of a Kubernetes backend, addressed as <c>cluster:CONTEXT</c> by the observe
/// tools (only for unscoped principals, and only when the server lets that cluster be observed).
/// </summary>
public interface IClusterHost
{
    /// <summary>The kubeconfig context, e.g. <c>kubesim</c>.</summary>
    string Context { get; }

    /// <summary>True for the sandbox's simulator.</summary>
    bool IsSandbox { get; }

    /// <summary>A view of the host (shared; disposing it does nothing).</summary>
    IClusterView View { get; }
}
