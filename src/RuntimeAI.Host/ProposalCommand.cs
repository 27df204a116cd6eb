using System.CommandLine;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Identity;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai approve|reject ID</c> and <c>runtimeai proposals</c>: how a human merges (or
/// closes) what an agent proposed. The approver is the local person (<c>human:&lt;user&gt;</c>) or the
/// principal of <c>--api-key</c>; it may never be the requester or share an identity with it (the
/// same OS account, the same OAuth client). An approval binds the exact actions the proposal holds
/// (their digest), runs once, and expires with the proposal; N-of-M proposals need N approvers.
/// </summary>
internal static class ProposalCommand
{
    public static IEnumerable<Command> Create()
    {
        yield return Decide("approve", ProposalStatus.Approved, "Approve a pending proposal so the agent's retry (with proposal_id) runs it once.");
        yield return Decide("reject", ProposalStatus.Rejected, "Reject a pending proposal; the agent's retry is refused.");

        var dataDir = Cli.DataDirOption();
        var all = new Option<bool>("--all") { Description = "Include decided and drafted proposals, not only pending ones." };
        var listKey = Cli.ApiKeyOption();
        var list = new Command("proposals", "List proposals waiting for a human (newest first).") { dataDir, all, listKey };
        list.SetAction(async (parse, ct) =>
            await ListAsync(Cli.LoadOptions(new ServerConfig.Flags { DataDir = parse.GetValue(dataDir) }), parse.GetValue(all), Cli.ApiKey(parse.GetValue(listKey)), ct));
        yield return list;
    }

    private static Command Decide(string verb, ProposalStatus outcome, string description)
    {
        var id = new Argument<string>("proposal_id") { Description = "The proposal id (prp_…)." };
        var reason = new Option<string?>("--reason") { Description = "Why (kept with the proposal and shown to the agent)." };
        var dataDir = Cli.DataDirOption();
        var apiKey = Cli.ApiKeyOption();
        var command = new Command(verb, description) { id, reason, dataDir, apiKey };
        command.SetAction(async (parse, ct) => await DecideAsync(
            Cli.LoadOptions(new ServerConfig.Flags { DataDir = parse.GetValue(dataDir) }), parse.GetValue(id)!, outcome, parse.GetValue(reason), Cli.ApiKey(parse.GetValue(apiKey)), ct));
        return command;
    }

    /// <summary>Lists proposals (pending, or all), scoped to the tenants of the key's principal when one is given.</summary>
    internal static async Task<int> ListAsync(RuntimeAiServerOptions options, bool all, string? apiKey, CancellationToken ct)
    {
        var viewer = apiKey is not null ? await KeysCommand.AuthenticateAsync(options, apiKey, ct) : null;
        using var stores = await ConfiguredStore.OpenAsync(options, ct);
        var proposals = await stores.Proposals.ListAsync(all ? null : ProposalStatus.Pending, 200, ct);
        if (viewer is { AllTenants: false })
        {
            // A tenant-scoped approver sees the proposals of its tenants only.
            var visible = new List<Proposal>();
            foreach (var proposal in proposals)
            {
                if (ProposalScope.Visible(viewer, await ProposalScope.TenantsAsync(proposal, stores.Inventory, ct)))
                {
                    visible.Add(proposal);
                }
            }

            proposals = visible;
        }

        if (proposals.Count == 0)
        {
            await Console.Error.WriteLineAsync(all ? "runtimeai: no proposals" : "runtimeai: no pending proposals");
            return 0;
        }

        foreach (var p in proposals)
        {
            Console.Out.WriteLine($"{p.ProposalId}  {EnumText.Name(p.Status),-9} {p.Severity,-8} {p.Title}  by {p.ProposedBy}  (channel {p.ApprovalChannel}, {p.Approvals.Count}/{p.RequiredApprovals} approvals)");
            if (p.DryRunSummary is not null)
            {
                Console.Out.WriteLine($"    dry run: {p.DryRunSummary}");
            }

            if (p.ApprovalReasons.Count > 0)
            {
                Console.Out.WriteLine($"    needs approval: {string.Join("; ", p.ApprovalReasons)}");
            }

            if (p.Reasoning is not null)
            {
                Console.Out.WriteLine($"    agent's reasoning (unverified): {p.Reasoning}");
            }
        }

        return 0;
    }

    /// <summary>Records a human's decision on a pending proposal, in the store the configuration selects.</summary>
    internal static async Task<int> DecideAsync(RuntimeAiServerOptions options, string proposalId, ProposalStatus outcome, string? reason, string? apiKey, CancellationToken ct)
    {
        using var stores = await ConfiguredStore.OpenAsync(options, ct);
        var store = stores.Proposals;
        var proposal = await store.GetAsync(proposalId, ct)
            ?? throw new CliException($"proposal '{proposalId}' does not exist in {stores.Where}; list them with 'runtimeai proposals'", 1);
        if (proposal.Status != ProposalStatus.Pending)
        {
            throw new CliException($"proposal '{proposalId}' is {EnumText.Name(proposal.Status)}, not pending; only pending proposals can be decided", 1);
        }

        var now = TimeProvider.System.GetUtcNow();
        if (proposal.ExpiresAt is { } expires && expires < now)
        {
            await store.TransitionAsync(proposal with { Status = ProposalStatus.Expired }, ProposalStatus.Pending, ct);
            throw new CliException($"proposal '{proposalId}' expired at {expires:u}; the agent must propose again", 1);
        }

        // The approver is who runs this command: an approver key's principal, or the local person.
        var approver = apiKey is not null
            ? await KeysCommand.AuthenticateAsync(options, apiKey, ct)
            : Principal.Local("human:" + Environment.UserName, PrincipalKind.Human, Environment.UserName, [Role.Admin]);
        var tenants = await ProposalScope.TenantsAsync(proposal, stores.Inventory, ct);
        if (ApprovalDecider.Refusal(proposal, approver, tenants) is { } refusal)
        {
            throw new CliException(refusal, 1);
        }

        var decided = ApprovalDecider.Decide(proposal, approver, outcome, reason, now);
        var complete = decided.Status != ProposalStatus.Pending;
        if (!await store.TransitionAsync(decided, ProposalStatus.Pending, ct, approvalsBefore: proposal.Approvals.Count))
        {
            throw new CliException($"proposal '{proposalId}' was decided or approved by someone else a moment ago, so your decision was not recorded; check 'runtimeai proposals --all' and run the command again if it is still pending", 1);
        }

        if (!complete)
        {
            await Console.Error.WriteLineAsync($"runtimeai: {proposalId} approved by {approver.Name} ({decided.Approvals.Count} of {proposal.RequiredApprovals} approvals); it stays pending until {proposal.RequiredApprovals - decided.Approvals.Count} more approver(s) approve: {proposal.Title}");
            return 0;
        }

        await Console.Error.WriteLineAsync($"runtimeai: {proposalId} {EnumText.Name(outcome)} by {approver.Name}: {proposal.Title}");
        return 0;
    }
}
