using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Identity;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Identity;

namespace RuntimeAI.Mcp.Rest;

/// <summary>What a REST action that is not a tool call (a proposal decision, a discovery) ended with.</summary>
internal sealed record RestActionOutcome(JsonObject? Answer, string? Code, string? Message, string? ProposalId)
{
    public static RestActionOutcome Ok(JsonObject answer, string? proposalId = null) => new(answer, null, null, proposalId);

    public static RestActionOutcome Fail(string code, string message) => new(null, code, message, null);
}

/// <summary>
/// A REST action that changes state without being a tool (deciding a proposal is a human's act and
/// no tool of an agent): it is still written to the audit trail before and after it runs, in the
/// same record shape as a tool call (transport rest), and answered like one.
/// </summary>
internal sealed class RestAuditedAction(IAuditLog audit, IdGenerator ids, PrincipalResolver principals, RuntimeAiServerOptions options, TimeProvider time)
{
    public async Task RunAsync(HttpContext http, string action, JsonObject arguments, Func<Principal, CancellationToken, Task<RestActionOutcome>> run)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(run);
        var principal = principals.Resolve(http.User);
        var callId = ids.New("call");
        await audit.BeginAsync(new AuditBegin
        {
            CallId = callId,
            Ts = time.GetUtcNow(),
            Tool = action,
            Tier = "governance",
            Principal = principal.Name,
            PrincipalKind = principal.Kind == PrincipalKind.Human ? "human" : "agent",
            AuthenticatedBy = principal.AuthenticatedBy,
            Client = http.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null,
            Transport = RestGateway.Transport,
            Arguments = SecretRedactor.Redact(arguments) as JsonObject,
            AutonomyLevel = options.Autonomy.ToString().ToLowerInvariant(),
        }, http.RequestAborted).ConfigureAwait(false);
        var outcome = RestActionOutcome.Fail("internal_error", $"'{action}' failed before it finished; nothing was recorded as decided");
        try
        {
            outcome = await run(principal, http.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            await audit.EndAsync(new AuditEnd
            {
                CallId = callId,
                Ts = time.GetUtcNow(),
                Outcome = outcome.Answer is not null ? "ok" : outcome.Code is "forbidden" or "not_found" ? "refused" : "error",
                Detail = outcome.Message,
                ProposalId = outcome.ProposalId,
                Approver = outcome.Answer is not null && outcome.ProposalId is not null ? principal.Name : null,
            }, CancellationToken.None).ConfigureAwait(false);
        }

        if (outcome.Answer is { } answer)
        {
            await RestJson.WriteAsync(http, StatusCodes.Status200OK, answer).ConfigureAwait(false);
            return;
        }

        await RestProblem.WriteAsync(http, outcome.Code!, outcome.Message!, extensions: new JsonObject { ["call_id"] = callId }).ConfigureAwait(false);
    }
}
