using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Identity;
using RuntimeAI.Mcp.Pipeline;
using RuntimeAI.Mcp.Prompts;
using RuntimeAI.Mcp.Resources;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Hosting;

/// <summary>Composition of the MCP server: tools, the pipeline seam and its stages.</summary>
public static class McpServerSetup
{
    /// <summary>Instructions sent to clients at connection; a model reads them once per session.</summary>
    public const string Instructions =
        "RuntimeAI operates virtual machines and virtual Kubernetes clusters as 'runtimes'. Start with list_runtimes, " +
        "then get_runtime / get_runtime_status. Mutations (execute tier) are gated by the server's autonomy level and " +
        "policies and always return an Operation to poll with get_operation. Execute tools take idempotency_key (your retry key: " +
        "the same key and arguments return the first operation instead of running again) and proposal_id (an approved proposal " +
        "to run). Pass a short 'reasoning' with every call: it is kept in the audit trail.";

    /// <summary>The server version (assembly informational version).</summary>
    public static string Version { get; } =
        typeof(McpServerSetup).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";

    /// <summary>Registers the MCP server, every tool of the catalog and the pipeline.</summary>
    public static IMcpServerBuilder AddRuntimeAiMcpServer(this IServiceCollection services, RuntimeAiServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IdGenerator>();
        services.AddSingleton<PrincipalResolver>();
        services.AddSingleton<AuthorizationStage>();
        services.AddSingleton<SchemaFirewallStage>();
        services.AddSingleton<AutonomyGateStage>();
        services.AddSingleton<PlanStage>();
        services.AddSingleton<PolicyStage>();
        services.AddSingleton<DryRunStage>();
        services.AddSingleton<ApprovalStage>();
        services.AddSingleton<IdempotencyGate>();
        services.AddSingleton<BudgetGate>();
        // Loaded now, so a key file others can read refuses the start instead of the first approval.
        services.AddSingleton(RequestStateProtector.ForDataDir(options.DataDir, TimeProvider.System));
        services.AddSingleton<DryRunSimulator>();
        services.AddSingleton<ToolCallPipeline>();

        return services
            .AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = "runtimeai", Title = "RuntimeAI", Version = Version };
                o.ServerInstructions = Instructions;
            })
            .WithRuntimeAiResources()
            .WithRuntimeAiPrompts()
            // Typed as IEnumerable so the instance-list overload binds: an array would bind
            // WithTools<TToolType>(target), whose reflection over the array type NativeAOT rejects (IL3050).
            .WithTools((IEnumerable<McpServerTool>)[.. ToolCatalog.All.Select(t => (McpServerTool)new RuntimeToolAdapter(t))])
            .WithRequestFilters(filters =>
            {
                filters.AddListToolsFilter(next => async (context, cancellationToken) =>
                {
                    var result = await next(context, cancellationToken).ConfigureAwait(false);
                    var options = context.Services!.GetRequiredService<RuntimeAiServerOptions>();
                    var principal = context.Services!.GetRequiredService<PrincipalResolver>().Resolve(context.User);
                    result.Tools = result.Tools.Where(t => ToolCatalog.Find(t.Name) is not { } tool
                        || (principal.Has(tool.RequiredRole)
                            && (tool.Tier != ToolTier.Execute || (tool.TargetsRuntimes ? options.HighestAutonomy : options.Autonomy) != AutonomyLevel.Advisor))).ToList();

                    return result;
                });
                filters.AddCallToolFilter(next => async (context, cancellationToken) =>
                {
                    var services = context.Services!;
                    var pipeline = services.GetRequiredService<ToolCallPipeline>();
                    var call = CreateContext(context, services);
                    context.Items[ToolCallContext.ItemKey] = call;
                    return await pipeline.InvokeAsync(call, ct => next(context, ct), cancellationToken).ConfigureAwait(false);
                });
            });
    }

    private static ToolCallContext CreateContext(RequestContext<CallToolRequestParams> request, IServiceProvider services)
    {
        var options = services.GetRequiredService<RuntimeAiServerOptions>();
        var ids = services.GetRequiredService<IdGenerator>();
        var arguments = ToolArguments.ToJsonObject(request.Params?.Arguments);
        var tool = (request.MatchedPrimitive as McpServerTool)?.Metadata.OfType<RuntimeTool>().FirstOrDefault();
        var meta = request.Params?.Meta;
        var reasoning = meta?["io.runtimeai/reasoning"]?.GetValue<string>()
                        ?? meta?["reasoning"]?.GetValue<string>()
                        ?? (arguments["reasoning"] is System.Text.Json.Nodes.JsonValue r && r.TryGetValue<string>(out var text) ? text : null);
        var client = request.Server.ClientInfo is { } info ? $"{info.Name}/{info.Version}" : null;
        return new ToolCallContext
        {
            CallId = ids.New("call"),
            ToolName = request.Params?.Name ?? string.Empty,
            Tool = tool,
            Arguments = arguments,
            Principal = services.GetRequiredService<PrincipalResolver>().Resolve(request.User),
            User = request.User,
            Client = client,
            Transport = options.TransportLabel,
            Autonomy = options.Autonomy,
            Reasoning = reasoning,
            Services = services,
            Request = request,
        };
    }
}
