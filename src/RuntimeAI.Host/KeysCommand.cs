using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using RuntimeAI.Core.Identity;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai keys create|list|revoke</c>: static API keys for CI agents and scripts. The secret
/// is printed once (stdout) and only its SHA-256 is stored; a key carries roles, tenants and an
/// expiry, and is refused from the moment it is revoked.
/// </summary>
internal static partial class KeysCommand
{
    /// <summary>How long a key lives unless --expires says otherwise.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(90);

    public static Command Create()
    {
        var name = new Option<string>("--name") { Description = "Key name (principal key:<name>), e.g. ci-deploy.", Required = true };
        var roles = new Option<string[]>("--role") { Description = "Role (repeatable): viewer, operator, approver, admin.", Required = true, AllowMultipleArgumentsPerToken = false };
        var tenants = new Option<string[]>("--tenant") { Description = "Tenant the key may see and change (repeatable); none means every tenant.", AllowMultipleArgumentsPerToken = false };
        var expires = new Option<string?>("--expires") { Description = "Lifetime (e.g. 30d, 12h, 2w) or an RFC 3339 time; default 90d; 'never' for no expiry." };
        var human = new Option<bool>("--human") { Description = "The key belongs to a person (an approver), not an agent." };
        var dataDir = Cli.DataDirOption();
        var create = new Command("create", "Create an API key and print its secret once.") { name, roles, tenants, expires, human, dataDir };
        create.SetAction(async (parse, ct) =>
        {
            var keyName = parse.GetValue(name)!;
            if (!KeyNameRegex().IsMatch(keyName))
            {
                throw new CliException($"key name '{keyName}' is not valid; use 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", 2);
            }

            var parsedRoles = new List<Role>();
            foreach (var text in parse.GetValue(roles) ?? [])
            {
                parsedRoles.Add(RoleText.TryParse(text, out var role)
                    ? role
                    : throw new CliException($"--role '{text}' is not a role; use {RoleText.Valid}", 2));
            }

            var now = TimeProvider.System.GetUtcNow();
            var expiry = ParseExpiry(parse.GetValue(expires), now);
            var (id, secret) = ApiKeySecret.New();
            ApiKeySecret.TryParse(secret, out _, out var hash);
            var key = new ApiKey
            {
                Id = id,
                Name = keyName,
                SecretHash = hash,
                Kind = parse.GetValue(human) ? PrincipalKind.Human : PrincipalKind.Agent,
                Roles = parsedRoles.Distinct().ToList(),
                Tenants = (parse.GetValue(tenants) ?? []).Distinct(StringComparer.Ordinal).ToList(),
                CreatedBy = "human:" + Environment.UserName,
                CreatedAt = now,
                ExpiresAt = expiry,
            };
            var options = Cli.LoadOptions(new ServerConfig.Flags { DataDir = parse.GetValue(dataDir) });
            using var store = await ConfiguredStore.OpenAsync(options, ct);
            if (!await store.ApiKeys.AddAsync(key, ct))
            {
                throw new CliException($"an active key named '{keyName}' exists; revoke it first ('runtimeai keys revoke {keyName}') or choose another name", 1);
            }

            Console.Out.WriteLine(secret);
            await Console.Error.WriteLineAsync(
                $"runtimeai: created API key '{keyName}' (id {id}) for principal {key.PrincipalName}: roles {string.Join(", ", key.Roles.Select(RoleText.Name))}; " +
                $"tenants {(key.Tenants.Count == 0 ? "all" : string.Join(", ", key.Tenants))}; expires {(expiry is null ? "never" : expiry.Value.ToString("u", CultureInfo.InvariantCulture))}. " +
                "The secret above is shown once: store it now (send it as 'Authorization: Bearer <secret>').");
            return 0;
        });

        var listDataDir = Cli.DataDirOption();
        var list = new Command("list", "List API keys (never their secrets).") { listDataDir };
        list.SetAction(async (parse, ct) =>
        {
            var options = Cli.LoadOptions(new ServerConfig.Flags { DataDir = parse.GetValue(listDataDir) });
            using var store = await ConfiguredStore.OpenAsync(options, ct);
            var keys = await store.ApiKeys.ListAsync(ct);
            if (keys.Count == 0)
            {
                await Console.Error.WriteLineAsync("runtimeai: no API keys; create one with 'runtimeai keys create --name NAME --role operator'");
                return 0;
            }

            var now = TimeProvider.System.GetUtcNow();
            foreach (var key in keys)
            {
                var status = key.RevokedAt is not null ? "revoked" : key.ExpiresAt <= now ? "expired" : "active";
                Console.Out.WriteLine(
                    $"{key.Id}  {key.Name,-20} {status,-8} {(key.Kind == PrincipalKind.Human ? "human" : "agent"),-6} " +
                    $"roles={string.Join(',', key.Roles.Select(RoleText.Name))} tenants={(key.Tenants.Count == 0 ? "*" : string.Join(',', key.Tenants))} " +
                    $"expires={(key.ExpiresAt is { } e ? e.ToString("u", CultureInfo.InvariantCulture) : "never")}");
            }

            return 0;
        });

        var which = new Argument<string>("key") { Description = "The key's id or name." };
        var revokeDataDir = Cli.DataDirOption();
        var revoke = new Command("revoke", "Revoke an API key; it is refused from now on.") { which, revokeDataDir };
        revoke.SetAction(async (parse, ct) =>
        {
            var options = Cli.LoadOptions(new ServerConfig.Flags { DataDir = parse.GetValue(revokeDataDir) });
            using var store = await ConfiguredStore.OpenAsync(options, ct);
            var revoked = await store.ApiKeys.RevokeAsync(parse.GetValue(which)!, "human:" + Environment.UserName, TimeProvider.System.GetUtcNow(), ct)
                ?? throw new CliException($"no active API key has the id or name '{parse.GetValue(which)}'; see 'runtimeai keys list'", 1);
            await Console.Error.WriteLineAsync($"runtimeai: revoked API key '{revoked.Name}' (id {revoked.Id}); calls with it are refused from now on");
            return 0;
        });

        return new Command("keys", "Manage API keys for CI agents, scripts and approvers.") { create, list, revoke };
    }

    /// <summary>Authenticates a key given to the CLI (<c>--api-key</c>) against the store the configuration selects.</summary>
    public static async Task<Principal> AuthenticateAsync(RuntimeAI.Mcp.Hosting.RuntimeAiServerOptions options, string presented, CancellationToken cancellationToken)
    {
        using var store = await ConfiguredStore.OpenAsync(options, cancellationToken);
        var (principal, failure) = await new ApiKeyAuthenticator(store.ApiKeys, TimeProvider.System).AuthenticateAsync(presented, cancellationToken);
        return principal ?? throw new CliException($"--api-key refused: {failure}; check the key with 'runtimeai keys list' or create a new one", 2);
    }

    internal static DateTimeOffset? ParseExpiry(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return now + DefaultLifetime;
        }

        if (text.Trim().Equals("never", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var match = DurationRegex().Match(text.Trim());
        if (match.Success)
        {
            var n = int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            return now + (match.Groups["unit"].Value switch
            {
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                _ => TimeSpan.FromDays(7 * n),
            });
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) && at > now)
        {
            return at;
        }

        throw new CliException($"--expires '{text}' is not a lifetime; use e.g. 30d, 12h, 2w, a future RFC 3339 time, or never", 2);
    }

    [GeneratedRegex("^(?<n>[0-9]{1,5})(?<unit>[mhdw])$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationRegex();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyNameRegex();
}

