using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Inside;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Mcp.Tools.Observe.Inside;

/// <summary>
/// What the inside-a-runtime tools look into: <c>rt_…</c> is a vcluster's own API (through its
/// kubeconfig); <c>cluster:CONTEXT</c> is the host cluster of a Kubernetes backend, which only an
/// unscoped principal may read, and only where the server lets that host be observed (the sandbox's
/// simulator always; a real cluster when <c>observe_hosts</c> names its context or <c>*</c>).
/// </summary>
internal static class InsideTarget
{
    public const string HostPrefix = "cluster:";

    public const string Pattern = "^(rt_\\w{26}|cluster:\\S+)$";

    public static Prop Argument() =>
        Schema.Required("runtime_id", Schema.String(null, Pattern));

    /// <summary>Opens the view the call names, or says why it cannot (a tool error the client reads).</summary>
    public static async Task<(IClusterView? View, ToolResult? Error)> OpenAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var target = call.GetString("runtime_id")!;
        if (target.StartsWith(HostPrefix, StringComparison.Ordinal))
        {
            return OpenHost(call, target[HostPrefix.Length..]);
        }

        var runtime = await call.Inventory.GetRuntimeAsync(target, cancellationToken).ConfigureAwait(false);
        if (runtime is null)
        {
            return (null, ToolErrors.RuntimeNotFound(target));
        }

        var backendRef = runtime.Backend?.Ref;
        var driver = backendRef is null ? null : call.Services.GetService<DriverRegistry>()?.ForBackendRef(backendRef);
        if (driver is IRuntimeInsideSource source)
        {
            return (await source.OpenInsideAsync(backendRef!, cancellationToken).ConfigureAwait(false), null);
        }

        var host = driver?.Name is { } name && name.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon && name.StartsWith("kubevirt:", StringComparison.Ordinal)
            ? $"; its pods and VirtualMachine live on the host cluster: runtime_id cluster:{name[(colon + 1)..]}"
            : string.Empty;
        return (null, ToolResult.Error("not_supported",
            $"runtime '{runtime.Name}' is a {EnumText.Name(runtime.Type)} on {driver?.Name ?? "no backend"}: it has no Kubernetes API inside{host}. These tools read vclusters and host clusters."));
    }

    private static (IClusterView? View, ToolResult? Error) OpenHost(ToolCall call, string context)
    {
        var (host, error) = ResolveHost(call, context);
        return (host?.View, error);
    }

    /// <summary>The host cluster <c>cluster:CONTEXT</c> names, when this caller may observe it; else the tool error.</summary>
    public static (IClusterHost? Host, ToolResult? Error) ResolveHost(ToolCall call, string context)
    {
        var hosts = call.Services.GetServices<IClusterHost>().ToList();
        var host = hosts.FirstOrDefault(h => string.Equals(h.Context, context, StringComparison.Ordinal));
        // A tenant's principal learns nothing about host clusters: they hold every tenant's runtimes.
        if (host is null || !call.Caller.AllTenants)
        {
            var known = call.Caller.AllTenants && hosts.Count > 0 ? $"; host clusters: {string.Join(", ", hosts.Select(h => HostPrefix + h.Context))}" : string.Empty;
            return (null, ToolResult.Error("not_found", $"cluster '{context}' does not exist{known}; for a vcluster pass its rt_ id from list_runtimes"));
        }

        var options = call.Services.GetRequiredService<RuntimeAiServerOptions>();
        if (!host.IsSandbox && !options.ObserveHosts.Contains("*") && !options.ObserveHosts.Contains(context))
        {
            return (null, ToolResult.Error("forbidden",
                $"observing host cluster '{context}' is not enabled on this server; an operator enables it with \"observe_hosts\": [\"{context}\"] in the config file, or \"*\" for every configured cluster"));
        }

        return (host, null);
    }
}
