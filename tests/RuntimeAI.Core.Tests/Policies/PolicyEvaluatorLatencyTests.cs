using System.Diagnostics;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;
using Xunit.Abstractions;

namespace RuntimeAI.Core.Tests.Policies;

[CollectionDefinition(nameof(TimingCollection), DisableParallelization = true)]
public sealed class TimingCollection;

/// <summary>Latency guard; runs alone so parallel tests do not distort the timings.</summary>
[Collection(nameof(TimingCollection))]
public sealed class PolicyEvaluatorLatencyTests(ITestOutputHelper output)
{
    private static readonly Dictionary<TimeSpan, int> s_noMutations = new() { [TimeSpan.FromHours(1)] = 0 };

    private static PolicyRule Rule(string id, PolicyRuleKind kind, PolicySelector? selector = null, PolicyRuleParams? p = null)
        => new() { Id = id, Kind = kind, Selector = selector ?? new PolicySelector(), Params = p ?? new PolicyRuleParams() };

    private static Policy PolicyOf(string id, params PolicyRule[] rules)
        => new() { Id = id, Name = id, Rules = rules };

    private static PolicyInput Input(PolicyRuntimeFacts runtime)
        => new() { Action = ActionType.Scale, Autonomy = AutonomyLevel.Autonomous, Runtime = runtime };

    [Fact]
    public void Evaluate_ThousandRules_P99UnderOneMillisecond()
    {
        // 1,000 rules over every kind, half of them for the action under test, so indexing cannot
        // skip them all. The lead's BenchmarkDotNet run is the real measurement; this guards regressions.
        var actions = Enum.GetValues<ActionType>();
        var rules = new List<PolicyRule>();
        for (var i = 0; i < 1000; i++)
        {
            var selector = new PolicySelector
            {
                ActionTypes = i % 2 == 0 ? [ActionType.Scale] : [actions[i % actions.Length]],
                Labels = new Dictionary<string, string> { ["team"] = "t" + (i % 50) },
                Tenants = i % 3 == 0 ? ["acme"] : [],
            };
            var kind = (PolicyRuleKind)(i % 5);
            var p = kind == PolicyRuleKind.BudgetGuardrail ? new PolicyRuleParams { MaxSize = "2xlarge", MaxTotalVcpu = 1000 } : new PolicyRuleParams();
            rules.Add(Rule("r" + i, kind, selector, p));
        }

        var evaluator = PolicyEvaluator.Create([PolicyOf("big", [.. rules])]);
        var input = Input(runtime: new PolicyRuntimeFacts
        {
            Id = "rt_1", Type = RuntimeType.Vm, TenantId = "acme", TargetSize = "large", CurrentVcpus = 1,
            Labels = new Dictionary<string, string> { ["env"] = "prod", ["team"] = "t4" },
        }) with { Budget = new() { TotalVcpus = 10, MutationsInWindow = s_noMutations } };

        for (var i = 0; i < 30_000; i++)
        {
            evaluator.Evaluate(input);
        }

        // Best of three rounds, so one noisy neighbour on a shared CI machine does not fail the build.
        var best = double.MaxValue;
        for (var round = 0; round < 3 && best >= 1.0; round++)
        {
            var samples = new double[5_000];
            for (var i = 0; i < samples.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                evaluator.Evaluate(input);
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(samples);
            var p50 = samples[samples.Length / 2];
            var p99 = samples[(int)(samples.Length * 0.99)];
            output.WriteLine($"1,000 rules, round {round}: p50 {p50 * 1000:F1} µs, p99 {p99 * 1000:F1} µs");
            best = Math.Min(best, p99);
        }

        Assert.True(best < 1.0, $"p99 {best:F3} ms");
    }
}
