using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Governance;

namespace RuntimeAI.Mcp.Rest;

/// <summary>/v1/policies: list_policies, put_policy, delete_policy.</summary>
internal static class PolicyEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/policies", CreateAsync).WithName("createPolicy").WithTags("Policies")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestPolicyCreateRequest>(required: true)).Produces<RestPolicy>(StatusCodes.Status201Created);
        group.MapGet("/policies", ListAsync).WithName("listPolicies").WithTags("Policies")
            .Produces<RestPolicyListResponse>();
        group.MapGet("/policies/{policy_id}", GetAsync).WithName("getPolicy").WithTags("Policies")
            .Produces<RestPolicy>();
        group.MapDelete("/policies/{policy_id}", DeleteAsync).WithName("deletePolicy").WithTags("Policies")
            .Produces(StatusCodes.Status204NoContent);
    }

    private static async Task CreateAsync(HttpContext context, [FromQuery(Name = "dry_run")] bool? dryRun)
    {
        if (await RestIo.ReadBodyAsync(context, required: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        // The brief's policy has no ids: the policy's comes from its name, each rule's from the policy's.
        var policy = (JsonObject)body.DeepClone();
        if (policy["id"] is null && policy["name"] is JsonValue name)
        {
            policy["id"] = Slug(name.ToString());
        }

        if (policy["rules"] is JsonArray rules)
        {
            for (var i = 0; i < rules.Count; i++)
            {
                if (rules[i] is JsonObject rule && rule["id"] is null)
                {
                    rule["id"] = $"{policy["id"]}-{(i + 1).ToString(CultureInfo.InvariantCulture)}";
                }

                if (rules[i] is JsonObject withNulls)
                {
                    foreach (var key in withNulls.Where(p => p.Value is null).Select(p => p.Key).ToList())
                    {
                        withNulls.Remove(key);
                    }
                }
            }
        }

        foreach (var key in policy.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            policy.Remove(key);
        }

        var arguments = new JsonObject { ["policy"] = policy };
        if (!RestIo.ApplyMutationFlags(context, arguments, out var problem))
        {
            await RestProblem.WriteAsync(context, "invalid_params", problem!).ConfigureAwait(false);
            return;
        }

        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "put_policy", arguments).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, answer =>
        {
            var id = answer["policy"]?["id"]?.ToString() ?? string.Empty;
            context.Response.Headers.Location = $"{RestApi.Prefix}/policies/{id}";
            return RestJson.WriteAsync(context, StatusCodes.Status201Created, ToPolicy(context, (JsonObject)answer["policy"]!));
        }).ConfigureAwait(false);
    }

    private static async Task ListAsync(HttpContext context, [FromHeader(Name = "tenant_id")] string? tenantId, [FromQuery(Name = "scope_env")] string? scopeEnv)
    {
        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "list_policies", []).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, answer =>
        {
            var items = new JsonArray();
            foreach (var node in answer["policies"]?.AsArray() ?? [])
            {
                if (node is JsonObject policy
                    && (tenantId is null || string.Equals(policy["tenant_id"]?.ToString(), tenantId, StringComparison.Ordinal))
                    && (scopeEnv is null || string.Equals(policy["scope_env"]?.ToString(), scopeEnv, StringComparison.Ordinal)))
                {
                    items.Add((JsonNode)ToPolicy(context, policy));
                }
            }

            return RestJson.WriteAsync(context, StatusCodes.Status200OK, new JsonObject { ["items"] = items });
        }).ConfigureAwait(false);
    }

    private static async Task GetAsync([FromRoute(Name = "policy_id")] string policyId, HttpContext context)
    {
        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "list_policies", new JsonObject { ["policy_id"] = policyId }).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, answer =>
            RestJson.WriteAsync(context, StatusCodes.Status200OK, ToPolicy(context, (JsonObject)answer["policies"]![0]!))).ConfigureAwait(false);
    }

    private static async Task DeleteAsync([FromRoute(Name = "policy_id")] string policyId, HttpContext context, [FromQuery(Name = "dry_run")] bool? dryRun)
    {
        var arguments = new JsonObject { ["policy_id"] = policyId };
        if (!RestIo.ApplyMutationFlags(context, arguments, out var problem))
        {
            await RestProblem.WriteAsync(context, "invalid_params", problem!).ConfigureAwait(false);
            return;
        }

        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "delete_policy", arguments).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, _ =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The brief's Policy from the tool's row: rules with their selector and params, and created_at
    /// (a stored policy's creation; a file policy's last write), read from the registry the tool read.
    /// </summary>
    private static JsonObject ToPolicy(HttpContext context, JsonObject row)
    {
        var id = row["id"]?.ToString();
        var entry = (context.RequestServices.GetService<IPolicySource>() as PolicyRegistry)?.Entries.FirstOrDefault(e => e.Policy.Id == id);
        var policy = (JsonObject)row.DeepClone();
        policy.Remove("document");
        var document = entry?.Stored is { } stored ? JsonNode.Parse(stored.Document) as JsonObject : null;
        if (document?["rules"] is JsonArray documentRules)
        {
            policy["rules"] = documentRules.DeepClone();
        }

        var directory = context.RequestServices.GetRequiredService<Hosting.RuntimeAiServerOptions>().PoliciesDir ?? string.Empty;
        var created = entry?.Stored?.CreatedAt
            ?? (entry?.File is { } file && File.Exists(Path.Combine(directory, file)) ? new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(directory, file)), TimeSpan.Zero) : (DateTimeOffset?)null);
        policy["created_at"] = (created ?? DateTimeOffset.UnixEpoch).ToString("O", CultureInfo.InvariantCulture);
        return policy;
    }

    private static string Slug(string name)
    {
        var slug = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            slug.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var text = slug.ToString().Trim('-');
        while (text.Contains("--", StringComparison.Ordinal))
        {
            text = text.Replace("--", "-", StringComparison.Ordinal);
        }

        return text.Length == 0 ? "policy" : text[..Math.Min(text.Length, 64)];
    }
}
