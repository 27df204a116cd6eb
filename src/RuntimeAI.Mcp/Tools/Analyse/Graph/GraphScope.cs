using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Graph;
using RuntimeAI.Core.Inside;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Tools.Observe.Inside;

namespace RuntimeAI.Mcp.Tools.Analyse.Graph;

/// <summary>
/// What a graph question is about, checked against the caller: a runtime (<c>rt_…</c>, as the caller's
/// tenant sees it) with the graph of the cluster inside it when it is a vcluster, or a host cluster
/// (<c>cluster:CONTEXT</c>, unscoped principals only, where the server lets it be observed).
/// </summary>
internal sealed class GraphScope
{
    private GraphScope(string key, string name, Runtime? runtime, Func<CancellationToken, Task<IClusterView>>? open, string? hostKey, IClusterHost? host, bool sandbox)
    {
        Key = key;
        Name = name;
        Runtime = runtime;
        Open = open;
        HostKey = hostKey;
        Host = host;
        Sandbox = sandbox;
    }

    /// <summary>The registry key: the runtime id, or <c>cluster:CONTEXT</c>.</summary>
    public string Key { get; }

    /// <summary>What the graph is of, for messages.</summary>
    public string Name { get; }

    /// <summary>The runtime, when the question names one.</summary>
    public Runtime? Runtime { get; }

    /// <summary>Opens the cluster to watch; null for a runtime without a Kubernetes API inside (a VM).</summary>
    public Func<CancellationToken, Task<IClusterView>>? Open { get; }

    /// <summary>The host cluster a vcluster syncs its pods to, when this caller may observe it.</summary>
    public string? HostKey { get; }

    private IClusterHost? Host { get; }

    /// <summary>True when the cluster is KubeSim, the simulator.</summary>
    public bool Sandbox { get; }

    /// <summary>A vcluster's host namespace and release name, from its backend reference (<c>vcluster:CTX#NS/NAME</c>).</summary>
    public (string Namespace, string Name)? Vcluster =>
        Runtime is { Type: RuntimeType.Vcluster, Backend.Ref: { } backendRef } && backendRef.IndexOf('#', StringComparison.Ordinal) is > 0 and var hash
        && backendRef[(hash + 1)..].Split('/') is [var ns, var name] ? (ns, name) : null;

    /// <summary>Checks the target against the caller; the tool error when it may not be read.</summary>
    public static async Task<(GraphScope? Scope, ToolResult? Error)> ResolveAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var target = call.GetString("runtime_id")!;
        if (target.StartsWith(InsideTarget.HostPrefix, StringComparison.Ordinal))
        {
            var (host, error) = InsideTarget.ResolveHost(call, target[InsideTarget.HostPrefix.Length..]);
            return host is null
                ? (null, error)
                : (new GraphScope(target, host.View.Name, null, _ => Task.FromResult(host.View), null, null, host.IsSandbox), null);
        }

        var runtime = await call.Inventory.GetRuntimeAsync(target, cancellationToken).ConfigureAwait(false);
        if (runtime is null)
        {
            return (null, ToolErrors.RuntimeNotFound(target));
        }

        var backendRef = runtime.Backend?.Ref;
        var driver = backendRef is null ? null : call.Services.GetService<DriverRegistry>()?.ForBackendRef(backendRef);
        if (driver is IRuntimeInsideSource source && backendRef is not null)
        {
            // The host a vcluster syncs to is shown only to callers who may observe that host.
            var context = backendRef.StartsWith("vcluster:", StringComparison.Ordinal) && backendRef.IndexOf('#', StringComparison.Ordinal) is > 9 and var hash
                ? backendRef[9..hash] : null;
            var (host, _) = context is null ? (null, null) : InsideTarget.ResolveHost(call, context);
            return (new GraphScope(runtime.Id, $"vcluster {runtime.Name}", runtime, ct => source.OpenInsideAsync(backendRef, ct),
                host is null ? null : InsideTarget.HostPrefix + host.Context, host, host?.IsSandbox ?? false), null);
        }

        return (new GraphScope(runtime.Id, $"{EnumText(runtime.Type)} {runtime.Name}", runtime, null, null, null, false), null);
    }

    /// <summary>The watched graph of this scope (started on first use), or why there is none.</summary>
    public async Task<(WatchedGraph? Graph, string? Why)> GraphAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (Open is null)
        {
            return (null, $"{Name} has no Kubernetes API inside, so only runtime-level dependencies exist");
        }

        try
        {
            return (await call.Services.GetRequiredService<GraphRegistry>().GetAsync(Key, Name, Open, cancellationToken).ConfigureAwait(false), null);
        }
        catch (RuntimeDriverException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>The host cluster's graph (for vcluster-to-host sync edges), when this caller may see it.</summary>
    public async Task<WatchedGraph?> HostGraphAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (Host is not { } host || HostKey is null)
        {
            return null;
        }

        try
        {
            return await call.Services.GetRequiredService<GraphRegistry>().GetAsync(HostKey, host.View.Name, _ => Task.FromResult(host.View), cancellationToken).ConfigureAwait(false);
        }
        catch (RuntimeDriverException)
        {
            return null;
        }
    }

    /// <summary>Graph facts every answer carries.</summary>
    public static System.Text.Json.Nodes.JsonObject Describe(WatchedGraph? graph, bool sandbox)
    {
        if (graph is null)
        {
            return new() { ["objects"] = 0 };
        }

        var facts = new System.Text.Json.Nodes.JsonObject
        {
            ["objects"] = graph.Graph.Count,
            ["synced"] = graph.Synced,
            ["window_start"] = GraphArgs.Iso(graph.Graph.WindowStart),
            ["relists"] = graph.Watcher.Relists,
        };
        if (graph.Graph.Capped)
        {
            facts["capped"] = true;
        }

        if (sandbox)
        {
            facts["simulator"] = "KubeSim, a Kubernetes API simulator";
        }

        return facts;
    }

    private static string EnumText(RuntimeType type) => Core.Common.EnumText.Name(type);
}
