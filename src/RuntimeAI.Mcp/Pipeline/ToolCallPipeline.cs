using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Audit;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// The one gate every tool call passes, from any transport or from <c>runtimeai call</c>:
/// audit-begin (durable before the approval stage for a call that can change something), then
/// the stages in their fixed order, then the tool, then audit-end. A stage that throws fails the
/// call closed; the audit record is written whatever happens.
/// </summary>
internal sealed class ToolCallPipeline(
    IAuditLog audit,
    AuthorizationStage authorization,
    SchemaFirewallStage schemaFirewall,
    AutonomyGateStage autonomyGate,
    PlanStage plan,
    PolicyStage policy,
    DryRunStage dryRun,
    ApprovalStage approval,
    IdempotencyGate idempotency,
    BudgetGate budget,
    TimeProvider time,
    ILogger<ToolCallPipeline> logger,
    RuntimeAI.Core.Lifecycle.BackendReadiness? readiness = null)
{
    /// <summary>The stages after audit-begin, in the order they run.</summary>
    internal IReadOnlyList<IToolCallStage> Stages { get; } = [authorization, schemaFirewall, plan, autonomyGate, policy, dryRun, approval];

    public async ValueTask<CallToolResult> InvokeAsync(
        ToolCallContext context,
        Func<CancellationToken, ValueTask<CallToolResult>> execute,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(execute);

        // Telemetry (ToolCallTelemetry): a span and metrics per call; no-ops when nobody listens.
        var started = time.GetTimestamp();
        using var span = ToolCallTelemetry.Start(context);

        // The handshake never waits for the backends; a tool call waits for their first discovery.
        if (readiness is not null && !readiness.IsReady)
        {
            await readiness.WaitAsync(time, cancellationToken).ConfigureAwait(false);
        }

        var begin = new AuditBegin
        {
            CallId = context.CallId,
            Ts = time.GetUtcNow(),
            Tool = context.ToolName,
            Tier = context.Tool?.Tier.ToString().ToLowerInvariant(),
            Principal = context.Principal.Name,
            PrincipalKind = context.Principal.Kind == RuntimeAI.Core.Identity.PrincipalKind.Human ? "human" : "agent",
            AuthenticatedBy = context.Principal.AuthenticatedBy,
            Client = context.Client,
            Transport = context.Transport,
            Arguments = SecretRedactor.Redact(context.Arguments),
            AutonomyLevel = context.Autonomy.ToString().ToLowerInvariant(),
            Reasoning = context.Reasoning is null ? null : SecretRedactor.RedactText(context.Reasoning),
            IdempotencyKey = context.IdempotencyKey,
        };

        // Every call ends in one audit record, written before its answer is sent. A call that can
        // change something is also on record before anything can change (a crash from there on
        // leaves a trace): its start is written before the approval stage, the idempotency claim and
        // the tool. Until then the stages only judge, so a read, a dry run or a refusal by an earlier
        // stage keeps its start in memory and is written once, at its end.
        await audit.BeginReadOnlyAsync(begin, cancellationToken).ConfigureAwait(false);
        var onRecord = false;
        async ValueTask PutOnRecordAsync()
        {
            if (onRecord || context.Tool is null or { Tier: ToolTier.Observe or ToolTier.Analyse })
            {
                return;
            }

            onRecord = true;
            var auditStarted = time.GetTimestamp();
            await audit.BeginAsync(begin, cancellationToken).ConfigureAwait(false);
            ToolCallTelemetry.AuditAppended("begin", time.GetElapsedTime(auditStarted).TotalSeconds);
        }

        var outcome = "error";
        string? detail = null;
        CallToolResult? result = null;
        try
        {
            if (context.Tool is null)
            {
                outcome = "invalid_params";
                detail = "unknown tool";
                throw new McpProtocolException(
                    $"Unknown tool '{context.ToolName}'; call tools/list for the tools this server offers at its autonomy level.",
                    McpErrorCode.InvalidParams);
            }

            foreach (var stage in Stages)
            {
                // After authorization and the schema firewall: a replay judges nothing about the present.
                if (ReferenceEquals(stage, plan) && await idempotency.IsReplayAsync(context, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                if (ReferenceEquals(stage, approval))
                {
                    await PutOnRecordAsync().ConfigureAwait(false);
                }

                var verdict = await stage.RunAsync(context, cancellationToken).ConfigureAwait(false);
                if (verdict.InvalidParams is { } message)
                {
                    outcome = "invalid_params";
                    detail = message;
                    throw new McpProtocolException(SecretRedactor.RedactText(message), McpErrorCode.InvalidParams);
                }

                if (verdict.Answer is { } answer)
                {
                    outcome = context.ProposalId is null ? "dry_run" : "pending_approval";
                    result = ToolResultMapper.ToCallToolResult(answer);
                    return result;
                }

                if (verdict.Refusal is { } refusal)
                {
                    outcome = "refused";
                    detail = refusal.Text;
                    result = ToolResultMapper.ToCallToolResult(refusal);
                    return result;
                }
            }

            await PutOnRecordAsync().ConfigureAwait(false);
            if (await idempotency.ClaimAsync(context, cancellationToken).ConfigureAwait(false) is { } replay)
            {
                // Same key, same arguments: the first call's operation; nothing runs again.
                outcome = replay.IsError ? "refused" : "ok";
                detail = replay.IsError ? replay.Text : "replayed";
                result = ToolResultMapper.ToCallToolResult(replay);
                return result;
            }

            result = await execute(cancellationToken).ConfigureAwait(false);
            outcome = result.IsError == true ? "error" : "ok";
            if (result.IsError == true)
            {
                detail = result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text;
            }

            return result;
        }
        catch (McpProtocolException)
        {
            throw;
        }
        catch (InputRequiredException)
        {
            // MRTR: the client asks its human and retries; this call ends without a change.
            outcome = "input_required";
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            throw;
        }
        catch (Exception ex)
        {
            // Fail closed with a message the agent can act on. A refusal the engine words itself (a
            // fenced replica while a stage takes a lock across replicas, ...) keeps its own wording;
            // anything else is internal, and its stack trace goes to the log only.
            var known = ToolErrors.FromKnown(ex);
            if (known is null)
            {
                logger.LogError(ex, "Tool {Tool} failed (call {CallId})", context.ToolName, context.CallId);
            }

            outcome = "error";
            detail = ex.Message;
            result = ToolResultMapper.ToCallToolResult(known ?? ToolResultMapperErrors.Internal(context.ToolName, ex));
            return result;
        }
        finally
        {
            budget.Release(context);
            await approval.CompleteAsync(context, outcome == "ok", detail).ConfigureAwait(false);
            var structured = result?.StructuredContent;
            var auditEndStarted = time.GetTimestamp();
            await audit.EndAsync(new AuditEnd
            {
                CallId = context.CallId,
                Ts = time.GetUtcNow(),
                Outcome = outcome,
                Detail = detail is null ? null : SecretRedactor.RedactText(detail),
                OperationId = ReadString(structured, "operation_id"),
                RuntimeId = AsRuntimeId(ReadString(structured, "runtime_id") ?? AsString(context.Arguments["runtime_id"])),
                RuntimeIds = RuntimesTouched(context),
                Decision = context.Decision?.ToJsonObject(),
                ProposalId = context.ProposalId,
                Approver = context.Approver,
                ApprovalChannel = context.ApprovalChannel,
                DryRunSummary = context.Simulations.Count == 0 ? null : string.Join(" | ", context.Simulations.Select(s => s.Summary)),
            }, CancellationToken.None).ConfigureAwait(false);
            ToolCallTelemetry.AuditAppended("end", time.GetElapsedTime(auditEndStarted).TotalSeconds);
            ToolCallTelemetry.End(span, context, outcome, time.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>Every runtime a call's plan touches, when it is more than one (a saga across runtimes); else null.</summary>
    private static IReadOnlyList<string>? RuntimesTouched(ToolCallContext context)
    {
        var ids = context.Changes.Select(c => c.RuntimeId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        return ids.Count > 1 ? ids : null;
    }

    // Arguments are read before (and whether or not) they pass the schema firewall: never assume types.
    private static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    // The audit indexes the runtime id in a text column that C strings cut at NUL: an id that is not
    // plain printable text of id length (any caller can send one) is kept only in the recorded arguments.
    private static string? AsRuntimeId(string? text) =>
        text is { Length: > 0 and <= 128 } && !text.Any(char.IsControl) && !text.Any(char.IsSurrogate) ? text : null;

    private static string? ReadString(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;
}

/// <summary>Errors the pipeline itself produces.</summary>
internal static class ToolResultMapperErrors
{
    public static Tools.ToolResult Internal(string tool, Exception ex) => Tools.ToolResult.Error("internal_error",
        $"'{tool}' failed: {ex.Message}. Nothing further was attempted; check get_events or the server log before retrying.");
}
