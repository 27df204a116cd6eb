using System.Globalization;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Analytics;

/// <summary>The answer of <see cref="RootCauseFinder.Find"/>.</summary>
public sealed record RootCause
{
    /// <summary>found, or inconclusive.</summary>
    public required string Status { get; init; }

    /// <summary>The runtime found to be the common cause (null when inconclusive).</summary>
    public string? CauseRuntimeId { get; init; }

    /// <summary>One sentence a human can read.</summary>
    public required string Summary { get; init; }

    /// <summary>Dependency edges and events the answer rests on.</summary>
    public required IReadOnlyList<string> Evidence { get; init; }

    /// <summary>What a human should look at when inconclusive.</summary>
    public IReadOnlyList<string> LookAt { get; init; } = [];
}

/// <summary>
/// A simple root-cause search over what the server knows today: the runtimes' dependency labels
/// (<c>runtimeai.io/depends-on</c>) and the event history. The lowest runtime every failing one
/// depends on is the cause when it changed state or failed in the change window; else the latest
/// change to a failing runtime just before it failed; else inconclusive. The Kubernetes resource
/// graph (nodes, pods) is not part of it yet.
/// </summary>
public static class RootCauseFinder
{
    private static readonly string[] s_failureTypes = ["lifecycle.crashed", "lifecycle.state_observed", "lifecycle.stopped", "lifecycle.shutdown", "saga.failed"];

    /// <summary>Finds the common cause of <paramref name="failing"/> among <paramref name="inventory"/>, from <paramref name="events"/> of the change window.</summary>
    public static RootCause Find(IReadOnlyList<Runtime> failing, IReadOnlyList<Runtime> inventory, IReadOnlyList<RuntimeEvent> events)
    {
        ArgumentNullException.ThrowIfNull(failing);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(events);
        if (failing.Count == 0)
        {
            return new RootCause { Status = "inconclusive", Summary = "no failing runtime to explain", Evidence = [], LookAt = ["name the failing runtime_ids, or check get_runtime_status"] };
        }

        var evidence = new List<string>();
        // Ancestors of each failing runtime, nearest first (breadth-first over depends-on).
        var chains = failing.Select(r => Ancestors(r, inventory, evidence)).ToList();
        var common = chains[0].Where(a => chains.All(c => c.Contains(a, StringComparer.Ordinal))).ToList();
        foreach (var candidate in common)
        {
            var changes = events.Where(e => e.RuntimeId == candidate && IsFailureOrChange(e)).OrderBy(e => e.Ts).ToList();
            var runtime = inventory.First(r => r.Id == candidate);
            if (changes.Count > 0 || runtime.State is RuntimeState.Error or RuntimeState.Degraded or RuntimeState.Stopped)
            {
                var first = changes.FirstOrDefault();
                evidence.AddRange(changes.Take(5).Select(e => $"event {e.Id} {e.Type} on {e.RuntimeId} at {e.Ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}"));
                evidence.Add($"{runtime.Name} ({runtime.Id}) is {EnumText.Name(runtime.State)}");
                var when = first is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" at {first.Ts.UtcDateTime:HH:mm}");
                return new RootCause
                {
                    Status = "found",
                    CauseRuntimeId = candidate,
                    Summary = $"{runtime.Name} went {(first?.Type ?? EnumText.Name(runtime.State))}{when}, taking {failing.Count} runtime(s) that depend on it with it",
                    Evidence = evidence,
                };
            }
        }

        if (failing.Count == 1)
        {
            var target = failing[0];
            var change = events.Where(e => e.RuntimeId == target.Id && e.Actor is "agent" or "human").OrderByDescending(e => e.Ts).FirstOrDefault();
            if (change is not null)
            {
                evidence.Add($"event {change.Id} {change.Type} by {change.Principal ?? change.Actor} at {change.Ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}");
                return new RootCause
                {
                    Status = "found",
                    CauseRuntimeId = target.Id,
                    Summary = $"the last change to {target.Name} was {change.Type} by {change.Principal ?? change.Actor} at {change.Ts.UtcDateTime:HH:mm}; it is the first suspect",
                    Evidence = evidence,
                };
            }
        }

        return new RootCause
        {
            Status = "inconclusive",
            Summary = common.Count == 0
                ? "the failing runtimes share no dependency and no recorded change explains them"
                : "the runtimes they share show no failure or change in the window",
            Evidence = evidence,
            LookAt = ["the backends' health (get_runtime_status shows safe mode)", "changes outside RuntimeAI (the hypervisor or cluster's own events)", "get_events of each failing runtime"],
        };
    }

    private static bool IsFailureOrChange(RuntimeEvent e) =>
        s_failureTypes.Contains(e.Type, StringComparer.Ordinal) || e.Severity >= EventSeverity.Warning || e.Actor is "agent" or "human";

    private static List<string> Ancestors(Runtime runtime, IReadOnlyList<Runtime> inventory, List<string> evidence)
    {
        var found = new List<string>();
        var queue = new Queue<Runtime>([runtime]);
        while (queue.Count > 0 && found.Count < 64)
        {
            var current = queue.Dequeue();
            if (!current.Labels.TryGetValue(DryRunSimulator.DependsOnLabel, out var names))
            {
                continue;
            }

            foreach (var name in names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (inventory.FirstOrDefault(r => r.Id == name || r.Name == name) is { } parent && !found.Contains(parent.Id, StringComparer.Ordinal))
                {
                    found.Add(parent.Id);
                    evidence.Add($"{current.Name} depends on {parent.Name} (label {DryRunSimulator.DependsOnLabel})");
                    queue.Enqueue(parent);
                }
            }
        }

        return found;
    }
}
