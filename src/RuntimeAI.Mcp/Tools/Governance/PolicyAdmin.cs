using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Mcp.Tools.Governance;

/// <summary>
/// Who may change policies, and how policies are shown. Changing policies needs the admin role
/// (the <c>admins</c> setting, a token's role claim, an admin key, or the local CLI user, who can
/// already write the store and the policy files).
/// </summary>
internal static class PolicyAdmin
{
    /// <summary>Null when the caller is an admin; otherwise the refusal to return.</summary>
    public static ToolResult? RefuseUnlessAdmin(ToolCall call, string tool, out string principal)
    {
        principal = call.Principal;
        if (call.Caller.Has(RuntimeAI.Core.Identity.Role.Admin))
        {
            return null;
        }

        return ToolResult.Error("forbidden",
            $"'{tool}' changes governance and only an admin may call it; you are '{principal}', which is not in the server's " +
            "admins list. Read the rules with list_policies and ask a human admin to make the change (an operator adds " +
            "principals with the 'admins' setting or RUNTIMEAI_ADMINS, or runs 'runtimeai call' locally).");
    }

    /// <summary>The registry, or null when this server was built with a fixed policy set.</summary>
    public static PolicyRegistry? Registry(ToolCall call) => call.Services.GetService<IPolicySource>() as PolicyRegistry;

    public static ToolResult NoRegistry(string tool) => ToolResult.Error("unavailable",
        $"'{tool}' cannot run: this server was started with a fixed policy set that cannot be changed at run time.");

    /// <summary>Every error as one line each, for the agent to fix them all at once.</summary>
    public static ToolResult Refusal(string code, string intro, IReadOnlyList<PolicyLoadError> errors) =>
        ToolResult.Error(code, errors.Count == 1
            ? $"{intro}: {errors[0]}"
            : $"{intro}: {errors.Count.ToString(CultureInfo.InvariantCulture)} problems:\n- " + string.Join("\n- ", errors));

    public static JsonObject ToJson(PolicyEntry entry, bool withDocument)
    {
        var policy = entry.Policy;
        var rules = new JsonArray();
        foreach (var rule in policy.Rules)
        {
            rules.Add((JsonNode)new JsonObject { ["id"] = rule.Id, ["kind"] = PolicyNames.RuleKind(rule.Kind) });
        }

        var json = new JsonObject
        {
            ["id"] = policy.Id,
            ["name"] = policy.Name,
            ["origin"] = entry.IsFile ? "file" : "store",
            ["mode"] = PolicyNames.Mode(policy.Mode),
        };
        if (entry.File is { } file)
        {
            json["file"] = file;
        }

        if (policy.TenantId is { } tenant)
        {
            json["tenant_id"] = tenant;
        }

        if (policy.ScopeEnv is { } env)
        {
            json["scope_env"] = env;
        }

        json["rules"] = rules;
        if (entry.Stored is { } stored)
        {
            json["updated_by"] = stored.UpdatedBy;
            json["updated_at"] = (stored.UpdatedAt ?? stored.CreatedAt).ToString("O", CultureInfo.InvariantCulture);
            if (withDocument)
            {
                json["document"] = JsonNode.Parse(stored.Document);
            }
        }

        return json;
    }
}
