using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace RuntimeAI.Mcp.Prompts;

/// <summary>Prompts that start the two conversations operators have most: triage and a planned change.</summary>
internal static class RuntimePrompts
{
    private static readonly Prompt[] s_prompts =
    [
        new()
        {
            Name = "triage_runtime",
            Title = "Triage a runtime",
            Description = "Look at a runtime's state, events and signals and explain what is wrong, without changing anything.",
            Arguments = [new PromptArgument { Name = "runtime_id", Description = "Runtime id (rt_…).", Required = true }],
        },
        new()
        {
            Name = "plan_change",
            Title = "Plan a change safely",
            Description = "Turn a goal into a simulated, reviewable plan before anything is executed.",
            Arguments = [new PromptArgument { Name = "goal", Description = "What should change, e.g. 'scale web-1 to large'.", Required = true }],
        },
    ];

    public static IMcpServerBuilder WithRuntimeAiPrompts(this IMcpServerBuilder builder) => builder
        .WithListPromptsHandler((_, _) => ValueTask.FromResult(new ListPromptsResult { Prompts = [.. s_prompts] }))
        .WithGetPromptHandler((context, _) =>
        {
            var name = context.Params?.Name;
            var args = context.Params?.Arguments ?? new Dictionary<string, System.Text.Json.JsonElement>();
            string Arg(string key) => args.TryGetValue(key, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString())
                ? v.GetString()!
                : throw new McpProtocolException($"Prompt '{name}' needs the argument '{key}'.", McpErrorCode.InvalidParams);

            var text = name switch
            {
                "triage_runtime" =>
                    $"Triage runtime {Arg("runtime_id")}. Call get_runtime, get_runtime_status and get_events (newest first) for it. " +
                    "Explain its state and the most likely cause of any problem, citing the events you used. Do not call execute-tier tools; " +
                    "if a change would help, describe it and the risk instead.",
                "plan_change" =>
                    $"Goal: {Arg("goal")}. Find the runtimes involved with list_runtimes, read their status, then describe the smallest " +
                    "set of actions that reaches the goal, the order, what could go wrong and how each step would be undone. " +
                    "Simulate before executing anything, and pass your reasoning with every call.",
                _ => throw new McpProtocolException($"Prompt '{name}' does not exist; list prompts to see the available ones.", McpErrorCode.InvalidParams),
            };
            return ValueTask.FromResult(new GetPromptResult
            {
                Description = s_prompts.First(p => p.Name == name).Description,
                Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = text } }],
            });
        });
}
