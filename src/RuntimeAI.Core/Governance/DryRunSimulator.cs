using System.Text.Json.Nodes;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Graph;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Governance;

/// <summary>What a simulated action would do, and whether safety blocks it.</summary>
public sealed record SimulationReport
{
    public string? RuntimeId { get; init; }
    public required ActionType Action { get; init; }
    public RuntimeState? FromState { get; init; }
    public RuntimeState? ToState { get; init; }
    public bool ValidTransition { get; init; } = true;
    public bool CapacityOk { get; init; } = true;
    public string? CapacityDetail { get; init; }
    public IReadOnlyList<string> Dependents { get; init; } = [];

    /// <summary>Workloads the backend says the action removes or interrupts (e.g. the pods a vcluster pause deletes).</summary>
    public IReadOnlyList<string> Disrupted { get; init; } = [];

    /// <summary>Workloads and Services inside the runtime (a vcluster) that go down with it, from the state graph.</summary>
    public IReadOnlyList<string> Inside { get; init; } = [];
    public bool Disruptive { get; init; }
    public bool Reversible { get; init; }
    public string? Compensation { get; init; }

    /// <summary>Why safety blocks the action (invalid transition, no capacity); empty when it may run.</summary>
    public IReadOnlyList<string> BlockingReasons { get; init; } = [];

    /// <summary>What a human should know before approving (dependents, disruption, irreversibility).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public bool Blocked => BlockingReasons.Count > 0;

    /// <summary>One line a human can read.</summary>
    public string Summary =>
        $"{EnumText.Name(Action)}{(RuntimeId is null ? "" : " " + RuntimeId)}: " +
        (Blocked ? "BLOCKED — " + string.Join("; ", BlockingReasons) : $"{(FromState is { } f ? EnumText.Name(f) : "new")} → {(ToState is { } t ? EnumText.Name(t) : "?")}") +
        (Dependents.Count > 0 ? $"; {Dependents.Count} dependent runtime(s): {string.Join(", ", Dependents.Take(5))}" : "") +
        (Inside.Count > 0 ? $"; takes down inside: {string.Join(", ", Inside.Take(5))}{(Inside.Count > 5 ? ", …" : "")}" : "") +
        (Disruptive ? "; disruptive to a high-availability runtime" : "") +
        (Reversible ? $"; undo with {Compensation}" : "; irreversible");

    public JsonObject ToJsonObject() => new()
    {
        ["runtime_id"] = RuntimeId,
        ["action"] = EnumText.Name(Action),
        ["from_state"] = FromState is { } f ? EnumText.Name(f) : null,
        ["to_state"] = ToState is { } t ? EnumText.Name(t) : null,
        ["valid_transition"] = ValidTransition,
        ["capacity"] = new JsonObject { ["ok"] = CapacityOk, ["detail"] = CapacityDetail },
        ["blast_radius"] = new JsonObject
        {
            ["dependents"] = new JsonArray(Dependents.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
            ["workloads"] = new JsonArray(Disrupted.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
            ["inside"] = new JsonArray(Inside.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
        },
        ["disruptive"] = Disruptive,
        ["reversible"] = Reversible,
        ["compensation"] = Compensation,
        ["blocked"] = Blocked,
        ["blocking_reasons"] = new JsonArray(BlockingReasons.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
        ["notes"] = new JsonArray(Notes.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
        ["summary"] = Summary,
    };
}

/// <summary>
/// Simulates an action before it runs: is the transition valid from the current state, does the
/// backend have the capacity, which runtimes depend on the target (label
/// <c>runtimeai.io/depends-on</c>), is it disruptive (label <c>availability=high</c>), and how it
/// would be undone; for a vcluster, what runs inside it (from the state graph, when one is given).
/// Reads only; never changes anything.
/// </summary>
public sealed class DryRunSimulator(DriverRegistry drivers, IBlastRadiusSource? graph = null)
{
    // Inside listing is capped: a summary line carries the totals.
    private const int MaxInside = 50;

    /// <summary>The label naming the runtimes (names or ids, comma-separated) a runtime depends on.</summary>
    public const string DependsOnLabel = "runtimeai.io/depends-on";

    /// <summary>Simulates <paramref name="action"/> on <paramref name="runtime"/> (null for a create).</summary>
    public Task<SimulationReport> SimulateAsync(
        Runtime? runtime, RuntimeAction action, IReadOnlyList<Runtime> inventory, CancellationToken cancellationToken) =>
        SimulateAsync(runtime, action, inventory, null, cancellationToken);

    /// <summary>
    /// Simulates <paramref name="action"/> on <paramref name="runtime"/> (null for a create) for a
    /// caller who may see only some runtimes: dependents that <paramref name="canSee"/> refuses are
    /// counted in a note, not named.
    /// </summary>
    public async Task<SimulationReport> SimulateAsync(
        Runtime? runtime, RuntimeAction action, IReadOnlyList<Runtime> inventory, Func<Runtime, bool>? canSee, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(inventory);
        var blocking = new List<string>();
        var notes = new List<string>();
        var from = runtime?.State;
        var to = NextState(action.Type, from, blocking);

        var capacityOk = true;
        string? capacityDetail = null;
        var needMemory = MemoryDeltaMiB(action, runtime);
        var driver = runtime?.Backend is { } backend ? drivers.ForBackendRef(backend.Ref) : CreateDriver(action);
        if (needMemory > 0)
        {
            if (driver is not null)
            {
                try
                {
                    var capacity = await driver.GetCapacityAsync(cancellationToken).ConfigureAwait(false);
                    capacityOk = capacity.FreeMemoryMiB >= needMemory;
                    capacityDetail = $"needs {needMemory} MiB more, backend has {capacity.FreeMemoryMiB} MiB free";
                }
                catch (RuntimeDriverException ex)
                {
                    capacityOk = false;
                    capacityDetail = $"capacity unknown: {ex.Message}";
                }

                if (!capacityOk)
                {
                    blocking.Add($"insufficient capacity: {capacityDetail}");
                }
            }
        }

        var disrupted = new List<string>();
        if (driver is not null && !blocking.Any(b => b.StartsWith("invalid transition", StringComparison.Ordinal)))
        {
            try
            {
                var assessment = await driver.AssessAsync(new PlannedAction(action.Type, runtime?.Backend?.Ref, TargetSize(action, runtime),
                    action.Params?["name"] is JsonValue n && n.TryGetValue<string>(out var newName) ? newName : null,
                    action.Params?["namespace"] is JsonValue ns && ns.TryGetValue<string>(out var newNs) ? newNs : null), cancellationToken).ConfigureAwait(false);
                blocking.AddRange(assessment.BlockingReasons);
                notes.AddRange(assessment.Notes);
                disrupted.AddRange(assessment.Disrupted);
            }
            catch (RuntimeDriverException ex)
            {
                notes.Add($"the backend could not assess the action: {ex.Message}");
            }
        }

        var depending = runtime is null
            ? []
            : inventory.Where(r => r.Id != runtime.Id && r.State != RuntimeState.Deleted && DependsOn(r, runtime)).ToList();
        var dependents = depending.Where(r => canSee?.Invoke(r) != false).Select(r => $"{r.Name} ({r.Id})").ToList();
        var unseen = depending.Count - dependents.Count;
        var interrupts = action.Type is ActionType.Stop or ActionType.Restart or ActionType.Delete or ActionType.Restore
                         || (action.Type == ActionType.Scale && needMemory < 0);
        if (depending.Count > 0 && interrupts)
        {
            notes.Add($"{depending.Count} runtime(s) depend on it and may be interrupted");
        }

        if (unseen > 0)
        {
            // Another tenant's runtime is not named to this caller, but the blast radius is not hidden either.
            notes.Add($"{unseen} runtime(s) that depend on it are in tenants you cannot see (counted, not named)");
        }

        var inside = new List<string>();
        if (interrupts && runtime is { Type: RuntimeType.Vcluster } && graph is not null && action.Type != ActionType.Scale)
        {
            try
            {
                if (await graph.InsideAsync(runtime, cancellationToken).ConfigureAwait(false) is { } radius)
                {
                    inside.AddRange(radius.Workloads.Concat(radius.Services).Take(MaxInside));
                    var goes = action.Type == ActionType.Restart ? "are interrupted" : "go down";
                    notes.Add($"inside it {radius.Workloads.Count} workload(s), {radius.Services.Count} Service(s) and {radius.Pods} pod(s) {goes}" +
                              (radius.Workloads.Count + radius.Services.Count > MaxInside ? $" (first {MaxInside} listed)" : string.Empty) +
                              (radius.Note is null ? string.Empty : $"; {radius.Note}"));
                }
            }
            catch (RuntimeDriverException ex)
            {
                notes.Add($"what runs inside is not known: {ex.Message}");
            }
        }

        var disruptive = interrupts && runtime?.Labels.TryGetValue("availability", out var availability) == true && availability == "high";
        if (disruptive)
        {
            notes.Add("labelled availability=high: a human must approve this disruption");
        }

        var (reversible, compensation) = Compensation(action.Type);
        if (!reversible)
        {
            notes.Add("cannot be undone automatically");
        }

        return new SimulationReport
        {
            RuntimeId = runtime?.Id,
            Action = action.Type,
            FromState = from,
            ToState = to,
            ValidTransition = !blocking.Any(b => b.StartsWith("invalid transition", StringComparison.Ordinal)),
            CapacityOk = capacityOk,
            CapacityDetail = capacityDetail,
            Dependents = dependents,
            Disrupted = disrupted,
            Inside = inside,
            Disruptive = disruptive,
            Reversible = reversible,
            Compensation = compensation,
            BlockingReasons = blocking,
            Notes = notes,
        };
    }

    private static RuntimeState? NextState(ActionType action, RuntimeState? from, List<string> blocking)
    {
        string? Invalid(string why)
        {
            blocking.Add($"invalid transition: {why}");
            return null;
        }

        if (from == RuntimeState.Deleted && action != ActionType.Create)
        {
            Invalid("the runtime is deleted");
            return from;
        }

        switch (action)
        {
            case ActionType.Create:
                return RuntimeState.Running;
            case ActionType.Start:
                if (from == RuntimeState.Running)
                {
                    Invalid("start needs a stopped runtime, it is running");
                }

                return RuntimeState.Running;
            case ActionType.Stop:
                if (from == RuntimeState.Stopped)
                {
                    Invalid("stop needs a running runtime, it is stopped");
                }

                return RuntimeState.Stopped;
            case ActionType.Restart:
                if (from != RuntimeState.Running)
                {
                    Invalid($"restart needs a running runtime, it is {(from is { } f ? EnumText.Name(f) : "unknown")}");
                }

                return RuntimeState.Running;
            case ActionType.Delete:
                return RuntimeState.Deleted;
            default:
                return from;
        }
    }

    private static long MemoryDeltaMiB(RuntimeAction action, Runtime? runtime)
    {
        long current = runtime is not null && Quantity.TryParseMiB(runtime.Spec.Resources?.Memory, out var m) ? m
            : runtime is not null && SizeTable.TryGet(runtime.Spec.Size, out var s) ? s.MemoryMiB : 0;
        long? target = null;
        if (action.Params?["memory_mib"] is JsonValue mem && mem.TryGetValue<long>(out var explicitMemory))
        {
            target = explicitMemory;
        }
        else if (action.Params?["size"]?.GetValue<string>() is { } name && SizeTable.TryGet(name, out var size))
        {
            target = size.MemoryMiB;
        }
        else if (action.Params?["spec"]?["size"]?.GetValue<string>() is { } specSize && SizeTable.TryGet(specSize, out var created))
        {
            target = created.MemoryMiB;
        }

        return action.Type switch
        {
            ActionType.Create => target ?? 512,
            ActionType.Scale when target is { } t => t - current,
            ActionType.Start => current,
            _ => 0,
        };
    }

    private IRuntimeDriver? CreateDriver(RuntimeAction action)
    {
        var type = action.Params?["type"] is JsonValue t && t.TryGetValue<string>(out var name) && EnumText.TryParse<RuntimeType>(name, out var parsed) ? parsed : RuntimeType.Vm;
        var backend = action.Params?["backend"] is JsonValue b && b.TryGetValue<string>(out var named) ? named : null;
        return drivers.ForType(type, backend);
    }

    private static ScaleTarget? TargetSize(RuntimeAction action, Runtime? runtime)
    {
        var sizeName = action.Params?["size"] is JsonValue v && v.TryGetValue<string>(out var n) ? n
            : action.Params?["spec"]?["size"] is JsonValue sv && sv.TryGetValue<string>(out var sn) ? sn
            : action.Type == ActionType.Create ? "nano" : null;
        SizeTable.TryGet(sizeName, out var size);
        int? vcpus = action.Params?["vcpus"] is JsonValue c && c.TryGetValue<int>(out var cv) ? cv : size?.Vcpus;
        long? memory = action.Params?["memory_mib"] is JsonValue m && m.TryGetValue<long>(out var mv) ? mv : size?.MemoryMiB;
        if (vcpus is null && memory is null)
        {
            return null;
        }

        var currentCpu = (int?)runtime?.Spec.Resources?.Cpu;
        long? currentMemory = Quantity.TryParseMiB(runtime?.Spec.Resources?.Memory, out var cm) ? cm : null;
        return new ScaleTarget(vcpus ?? currentCpu ?? 1, memory ?? currentMemory ?? 512);
    }

    private static bool DependsOn(Runtime candidate, Runtime target) =>
        candidate.Labels.TryGetValue(DependsOnLabel, out var list)
        && list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(d => d == target.Name || d == target.Id);

    private static (bool Reversible, string? Compensation) Compensation(ActionType action) => action switch
    {
        ActionType.Start => (true, "stop_runtime"),
        ActionType.Stop => (true, "start_runtime"),
        ActionType.Restart => (true, "none needed (state is unchanged)"),
        ActionType.Scale => (true, "scale_runtime back to the recorded size"),
        ActionType.Snapshot => (true, "delete the snapshot"),
        ActionType.Create => (true, "delete_runtime"),
        ActionType.Restore => (false, null),
        ActionType.Delete => (false, null),
        _ => (false, null),
    };
}
