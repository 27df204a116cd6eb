using RuntimeAI.Core.Governance;

namespace RuntimeAI.Mcp.Pipeline;

/// <summary>
/// Makes budget guardrails hold under concurrent calls: while budget rules are in force, a
/// mutating call takes this gate before the policy stage counts the mutations in the window and
/// keeps it until the call has ended (its operation recorded), so two calls can never both count
/// the same last unit of budget. Calls without changes and dry runs never wait for it.
/// </summary>
internal sealed class BudgetGate(IPolicySource policies) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Takes the gate for <paramref name="context"/> when its call is budgeted.</summary>
    public async ValueTask EnterAsync(ToolCallContext context, CancellationToken cancellationToken)
    {
        if (context.Changes.Count == 0 || context.DryRun || context.HoldsBudgetGate || !policies.Current.Policies.Any(p => p.Rules.Any(r => r.Kind == RuntimeAI.Core.Policies.PolicyRuleKind.BudgetGuardrail)))
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        context.HoldsBudgetGate = true;
    }

    /// <summary>Releases the gate if <paramref name="context"/> holds it.</summary>
    public void Release(ToolCallContext context)
    {
        if (context.HoldsBudgetGate)
        {
            context.HoldsBudgetGate = false;
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
