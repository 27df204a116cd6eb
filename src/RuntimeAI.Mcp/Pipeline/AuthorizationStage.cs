using System.Text.Json.Nodes;
using RuntimeAI.Core.Identity;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Refuses a call whose principal lacks the tool's role (viewer to observe and analyse, operator
/// to recommend and execute, admin for governance tools), and keeps a tenant-scoped principal's
/// creations inside its tenants. Runs first, so a caller learns nothing from a tool it may not use.
/// </summary>
internal sealed class AuthorizationStage : IToolCallStage
{
    public ValueTask<StageVerdict> RunAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        var tool = context.Tool!;
        var principal = context.Principal;
        if (!principal.Has(tool.RequiredRole))
        {
            var held = principal.Roles.Count == 0 ? "no role" : "roles " + string.Join(", ", principal.RoleNames);
            return ValueTask.FromResult(StageVerdict.Refuse("forbidden",
                $"'{tool.Name}' needs the {RoleText.Name(tool.RequiredRole)} role; you are '{principal.Name}' with {held}. " +
                "Ask an admin to grant the role (a 'roles' claim in your token, the key's --role, or the server's 'roles' setting)."));
        }

        if (tool.TenantArgument is { } argument && !principal.AllTenants)
        {
            var tenant = context.Arguments[argument] is JsonValue v && v.TryGetValue<string>(out var t) ? t : null;
            if (tenant is null)
            {
                if (principal.Tenants.Count != 1)
                {
                    return ValueTask.FromResult(StageVerdict.Refuse("tenant_required",
                        $"'{tool.Name}' needs {argument}: you act for several tenants ({string.Join(", ", principal.Tenants)}); name one."));
                }

                // A principal of one tenant creates in that tenant; the governance stages see it too.
                context.Arguments[argument] = principal.Tenants[0];
            }
            else if (!principal.CanSee(tenant))
            {
                return ValueTask.FromResult(StageVerdict.Refuse("forbidden",
                    $"'{principal.Name}' may not act in tenant '{tenant}'; your tenants are {string.Join(", ", principal.Tenants)}."));
            }
        }

        return ValueTask.FromResult(StageVerdict.Continue);
    }
}
