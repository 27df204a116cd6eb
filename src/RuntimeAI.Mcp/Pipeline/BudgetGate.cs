using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Makes budget guardrails hold under concurrent calls: while budget rules are in force, a
/// mutating call takes this gate before the policy stage counts the mutations in the window and
/// keeps it until the call has ended (its operation recorded), so two calls can never both count
/// the same last unit of budget. Calls without changes and dry runs never wait for it. Replicas
/// sharing a store also take the budget's lock across replicas (<see cref="IReplicaCoordinator"/>),
/// after this process's gate, so the count and the operation that consumes it are one step on every replica.
/// </summary>
internal sealed class BudgetGate(IPolicySource policies, IReplicaCoordinator? coordinator = null) : IDisposable
{
    /// <summary>The key of the policy budget held across replicas.</summary>
    internal const string LockKey = "policy-budget";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReplicaLease? _shared;

    /// <summary>Takes the gate for <paramref name="context"/> when its call is budgeted.</summary>
    public async ValueTask EnterAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.Changes.Count == 0 || context.DryRun || context.HoldsBudgetGate || !policies.Current.Policies.Any(p => p.Rules.Any(r => r.Kind == RuntimeAI.Core.Policies.PolicyRuleKind.BudgetGuardrail)))
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _shared = coordinator is null ? null : await coordinator.AcquireAsync(LockKey, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _gate.Release();
            throw;
        }

        context.HoldsBudgetGate = true;
    }

    /// <summary>Releases the gate if <paramref name="context"/> holds it.</summary>
    public void Release(ToolCallContext context)
    {
        if (context.HoldsBudgetGate)
        {
            context.HoldsBudgetGate = false;
            Interlocked.Exchange(ref _shared, null)?.Dispose();
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
