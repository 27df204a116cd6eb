using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Operations;
using RuntimeAI.Mcp.Tools;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// <c>idempotency_key</c> for the single-action execute tools (create, start, stop, …, rollback):
/// the key is claimed, scoped to the principal, right before the tool runs, with the operation id
/// the call will get; a retry with the same key and arguments returns that operation instead of
/// running again, and the same key with other arguments is refused. <c>execute_actions</c> keeps
/// its own (the saga executor claims the key and replays whole sagas).
/// </summary>
internal sealed class IdempotencyGate(IIdempotencyStore store, IdGenerator ids, TimeProvider time)
{
    /// <summary>
    /// True when this call repeats, with the same key and arguments, a request that already started
    /// its operation: then nothing will run again, so the stages that judge the runtime's current
    /// state (plan, autonomy, policy, dry-run, approval) are skipped and the first result is
    /// replayed (a retry of a stop must not be refused because the runtime is now stopped).
    /// </summary>
    public async Task<bool> IsReplayAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.IdempotencyKey is not { } key || context.DryRun || context.Tool is not { Tier: ToolTier.Execute, TargetsRuntimes: true } tool)
        {
            return false;
        }

        if (await store.FindAsync(context.Principal.Name, key, cancellationToken).ConfigureAwait(false) is not { OperationId.Length: > 0 } holder)
        {
            return false;
        }

        var saga = tool is Tools.Execute.ExecuteActionsTool;
        var digest = saga ? Tools.Execute.ExecuteActionsTool.SagaDigest(context.Arguments) : Digest(context.ToolName, context.Arguments);
        return holder.Tool == (saga ? RuntimeAI.Core.Operations.SagaExecutor.ExecuteAction : context.ToolName)
               && holder.PayloadDigest == digest
               && await context.ScopedInventory.GetOperationAsync(holder.OperationId, cancellationToken).ConfigureAwait(false) is not null;
    }

    public async Task<ToolResult?> ClaimAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.IdempotencyKey is not { } key || context.DryRun
            || context.Tool is not { Tier: ToolTier.Execute, TargetsRuntimes: true } tool || tool is Tools.Execute.ExecuteActionsTool)
        {
            return null;
        }

        var digest = Digest(context.ToolName, context.Arguments);
        var claim = new IdempotencyRecord
        {
            Key = key,
            Principal = context.Principal.Name,
            Tool = context.ToolName,
            PayloadDigest = digest,
            OperationId = ids.New("op"),
            CreatedAt = time.GetUtcNow(),
        };
        var holder = await store.ClaimAsync(claim, cancellationToken).ConfigureAwait(false);
        if (holder.OperationId == claim.OperationId)
        {
            context.OperationId = claim.OperationId;
            return null;
        }

        if (holder.Tool != context.ToolName || holder.PayloadDigest != digest)
        {
            return ToolResult.Error("idempotency_conflict",
                $"idempotency_key '{key}' was already used by {context.Principal.Name} for a different request ({holder.Tool}, operation {holder.OperationId}); " +
                "send the exact same tool and arguments to get that result again, or use a new key for a new request");
        }

        var operation = await context.ScopedInventory.GetOperationAsync(holder.OperationId, cancellationToken).ConfigureAwait(false);
        if (operation is null)
        {
            return ToolResult.Error("idempotency_conflict",
                $"idempotency_key '{key}' was used by a call that ended before it started an operation (or is starting it now); " +
                "check get_audit_trail, then retry with a new key");
        }

        var structured = CoreJson.ToNode(operation, CoreJsonContext.Default.Operation);
        structured["replayed"] = true;
        context.OperationId = operation.OperationId;
        return operation.Status == OperationStatus.Failed || operation.Status == OperationStatus.Stuck
            ? ToolResult.Error(operation.Error?.Code ?? "failed",
                $"{operation.Action} (operation {operation.OperationId}) already ran with idempotency_key '{key}' and {EnumText.Name(operation.Status)}: {operation.Error?.Message} (replayed: nothing ran again)")
            : ToolResult.Ok(structured,
                $"{operation.Action} (operation {operation.OperationId}) already ran with idempotency_key '{key}': {EnumText.Name(operation.Status)} (replayed: nothing ran again).");
    }

    /// <summary>SHA-256 over the tool and its arguments without the pipeline's own inputs.</summary>
    internal static string Digest(string tool, JsonObject arguments)
    {
        var payload = PlannedChange.ParametersOf(arguments);
        payload["runtime_id"] = arguments["runtime_id"]?.DeepClone();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tool + "\n" + Canonical(payload))));
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canonical(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };
}
