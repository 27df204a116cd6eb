using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Mcp.Tools.Execute;

internal sealed class CreateRuntimeTool : RuntimeTool
{
    public override string Name => "create_runtime";

    public override string Title => "Create a runtime";

    public override ToolTier Tier => ToolTier.Execute;

    public override string? TenantArgument => "tenant_id";

    public override string Description =>
        "Create a vm (libvirt or KubeVirt) or a vcluster of a size and wait until it runs.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        Schema.Required("name", Schema.String(null, "^[a-z0-9][a-z0-9-]{0,62}$")),
        Schema.Required("type", Schema.Enum(null, ["vm", "vcluster"])),
        Schema.Optional("tenant_id", Schema.String(maxLength: 128)),
        Schema.Optional("backend", Schema.String("e.g. kubevirt:prod", maxLength: 300)),
        Schema.Optional("namespace", Schema.String(null, "^[a-z0-9][-a-z0-9]{0,62}$")),
        Schema.Optional("labels", Schema.StringMap(null, 32)),
        Schema.Optional("spec", Schema.Object(
            Schema.Optional("size", Schema.Enum(null, SizeTable.Names)),
            Schema.Optional("networking", Schema.Object(
                Schema.Optional("exposure", Schema.Enum(null, ["private", "internal", "public"])),
                Schema.Optional("egress_policy", Schema.Enum(null, ["restricted", "open"])))))),
        .. Schema.Governed(), Schema.Reasoning()]);

    public override JsonObject OutputSchema { get; } = Schema.OperationRow();

    public override IReadOnlyList<PlannedChange> PlanChanges(JsonObject arguments) =>
        [new PlannedChange(null, new Core.Actions.RuntimeAction { Type = Core.Actions.ActionType.Create, Params = PlannedChange.ParametersOf(arguments) })];

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var spec = call.Arguments["spec"] as JsonObject;
        var networking = spec?["networking"] as JsonObject;
        var request = new RuntimeCreateRequest
        {
            Name = call.GetString("name")!,
            Type = EnumText.Parse<RuntimeType>(call.GetString("type")!),
            TenantId = call.GetString("tenant_id"),
            Backend = call.GetString("backend"),
            Namespace = call.GetString("namespace"),
            Labels = call.GetStringMap("labels"),
            Spec = new RuntimeSpec
            {
                Size = spec?["size"]?.GetValue<string>() ?? "nano",
                Networking = networking is null ? null : new NetworkingProfile
                {
                    Exposure = networking["exposure"]?.GetValue<string>() ?? "private",
                    EgressPolicy = networking["egress_policy"]?.GetValue<string>() ?? "restricted",
                },
            },
        };
        var (operation, runtime) = await call.Services.GetRequiredService<RuntimeLifecycle>()
            .CreateAsync(request, call.Context.ToActor().Kind, call.Context.ToActor(), call.Context.OperationId, LifecycleTool.ProgressOf(call), cancellationToken).ConfigureAwait(false);
        return LifecycleTool.Outcome(operation, runtime);
    }
}
