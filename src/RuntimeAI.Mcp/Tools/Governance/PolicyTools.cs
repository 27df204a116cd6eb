using System.Text.Json.Nodes;

namespace RuntimeAI.Mcp.Tools.Governance;

/// <summary><c>list_policies</c>: the policies in force, from files and from the store.</summary>
internal sealed class ListPoliciesTool : RuntimeTool
{
    public override string Name => "list_policies";

    public override string Title => "List policies";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "List the policies in force (origin, mode, scope, rules): why an action is denied or needs approval.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Optional("policy_id", Schema.String(null, maxLength: 128)),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Output(
        Schema.Required("policies", Schema.Array(Schema.Row("id", "name", "origin", "mode"))));

    public override ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (PolicyAdmin.Registry(call) is not { } registry)
        {
            return ValueTask.FromResult(PolicyAdmin.NoRegistry(Name));
        }

        var id = call.GetString("policy_id");
        var entries = registry.Entries.Where(e => id is null || e.Policy.Id == id).ToArray();
        if (id is not null && entries.Length == 0)
        {
            return ValueTask.FromResult(ToolResult.Error("not_found", $"there is no policy '{id}'; call list_policies without policy_id for the ids in force"));
        }

        var list = new JsonArray(entries.Select(e => (JsonNode)PolicyAdmin.ToJson(e, withDocument: id is not null)).ToArray());
        var files = entries.Count(e => e.IsFile);
        var text = $"{entries.Length} polic{(entries.Length == 1 ? "y" : "ies")} in force ({files} from files, {entries.Length - files} stored), " +
                   $"{entries.Sum(e => e.Policy.Rules.Count)} rules.";
        return ValueTask.FromResult(ToolResult.Ok(new JsonObject { ["policies"] = list }, text));
    }
}

/// <summary><c>put_policy</c>: create or replace a stored policy (admins only).</summary>
internal sealed class PutPolicyTool : RuntimeTool
{
    public override string Name => "put_policy";

    public override string Title => "Create or replace a policy";

    public override ToolTier Tier => ToolTier.Execute;

    public override RuntimeAI.Core.Identity.Role RequiredRole => RuntimeAI.Core.Identity.Role.Admin;

    public override bool TargetsRuntimes => false;

    public override bool OpenWorld => false;

    public override bool Idempotent => true;

    public override string Description =>
        "Admins only. Create or replace a stored policy (docs/policies.md), validated first, effective from the next call.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Required("policy", Schema.OpenObject("{id, name?, tenant_id?, scope_env?, mode?, rules: [{id, kind, selector?, params?}]}")),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Output(
        Schema.Required("policy", Schema.Row("id", "name", "origin", "mode")),
        Schema.Required("created", Schema.Boolean()));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (PolicyAdmin.RefuseUnlessAdmin(call, Name, out var principal) is { } refusal)
        {
            return refusal;
        }

        if (PolicyAdmin.Registry(call) is not { } registry)
        {
            return PolicyAdmin.NoRegistry(Name);
        }

        var change = await registry.PutAsync(call.Arguments["policy"], principal, cancellationToken).ConfigureAwait(false);
        if (!change.Ok)
        {
            return PolicyAdmin.Refusal(change.Errors.Any(e => e.Problem.Contains("read-only", StringComparison.Ordinal)) ? "read_only" : "invalid_policy",
                "the policy was not stored", change.Errors);
        }

        var entry = change.Entry!;
        return ToolResult.Ok(
            new JsonObject { ["policy"] = PolicyAdmin.ToJson(entry, withDocument: false), ["created"] = change.Created },
            $"Policy {entry.Policy.Id} {(change.Created ? "created" : "replaced")} with {entry.Policy.Rules.Count} rules; it applies from the next call.");
    }
}

/// <summary><c>delete_policy</c>: remove a stored policy (admins only).</summary>
internal sealed class DeletePolicyTool : RuntimeTool
{
    public override string Name => "delete_policy";

    public override string Title => "Delete a policy";

    public override ToolTier Tier => ToolTier.Execute;

    public override RuntimeAI.Core.Identity.Role RequiredRole => RuntimeAI.Core.Identity.Role.Admin;

    public override bool TargetsRuntimes => false;

    public override bool OpenWorld => false;

    public override bool Destructive => true;

    public override bool Idempotent => true;

    public override string Description =>
        "Admins only. Delete a stored policy; its rules stop applying from the next call. File policies are read-only.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Required("policy_id", Schema.String(null, maxLength: 128)),
        Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Output(
        Schema.Required("deleted", Schema.String()));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (PolicyAdmin.RefuseUnlessAdmin(call, Name, out _) is { } refusal)
        {
            return refusal;
        }

        if (PolicyAdmin.Registry(call) is not { } registry)
        {
            return PolicyAdmin.NoRegistry(Name);
        }

        var id = call.GetString("policy_id")!;
        var change = await registry.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        if (!change.Ok)
        {
            var code = change.Errors[0].Problem.Contains("read-only", StringComparison.Ordinal) ? "read_only" : "not_found";
            return PolicyAdmin.Refusal(code, "the policy was not deleted", change.Errors);
        }

        return ToolResult.Ok(new JsonObject { ["deleted"] = id }, $"Policy {id} deleted; its rules no longer apply.");
    }
}
