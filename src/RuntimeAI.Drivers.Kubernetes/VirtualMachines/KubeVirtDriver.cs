using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualMachines;

/// <summary>
/// Runs <see cref="RuntimeType.Vm"/> runtimes as KubeVirt VirtualMachines: created from the size
/// table (a <c>u1.SIZE</c> cluster instancetype when the cluster has it), started, stopped and
/// restarted through the <c>subresources.kubevirt.io</c> API under the runStrategy rules, snapshot
/// and restore with VirtualMachineSnapshot/VirtualMachineRestore, status from printableStatus and
/// conditions. KubeVirt objects are custom resources: they travel as JSON through
/// <see cref="KubeCluster.SendAsync"/> (the library's HttpClient and credentials). Backend
/// references have the form <c>kubevirt:{context}#{namespace}/{name}</c>.
/// </summary>
public sealed partial class KubeVirtDriver : IRuntimeDriver
{
    internal const string VmApi = "/apis/kubevirt.io/v1";
    internal const string SubresourceApi = "/apis/subresources.kubevirt.io/v1";
    internal const string SnapshotApi = "/apis/snapshot.kubevirt.io/v1beta1";
    internal const string InstancetypeApi = "/apis/instancetype.kubevirt.io/v1beta1";
    internal const string ContainerDiskImage = "quay.io/containerdisks/fedora:41";
    private const string RuntimeIdAnnotation = "runtimeai.io/runtime-id";
    private const string LabelsAnnotation = "runtimeai.io/labels";
    private const string TenantLabel = "runtimeai.io/tenant";
    private const string SnapshotNameAnnotation = "runtimeai.io/snapshot-name";
    private const string DescriptionAnnotation = "runtimeai.io/description";

    private readonly KubeCluster _cluster;
    private readonly TimeProvider _time;

    /// <summary>Creates the driver on a cluster; nothing is sent until the first call.</summary>
    /// <param name="cluster">The cluster (shared with the vCluster driver; the caller disposes it).</param>
    /// <param name="time">Clock for waits and timestamps.</param>
    public KubeVirtDriver(KubeCluster cluster, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(time);
        _cluster = cluster;
        _time = time;
        Name = "kubevirt:" + cluster.ContextName;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public RuntimeType RuntimeType => RuntimeType.Vm;

    /// <inheritdoc />
    public BackendKind BackendKind => BackendKind.K8sBackend;

    /// <inheritdoc />
    public bool IsSandbox => _cluster.Options.IsSandbox;

    /// <inheritdoc />
    public event EventHandler<DriverEvent>? RuntimeEventObserved
    {
        add { }
        remove { }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DiscoveredRuntime>> DiscoverAsync(CancellationToken cancellationToken)
    {
        var found = new List<DiscoveredRuntime>();
        var paths = _cluster.Options.Namespaces.Count == 0
            ? [$"{VmApi}/virtualmachines"]
            : _cluster.Options.Namespaces.Select(ns => $"{VmApi}/namespaces/{ns}/virtualmachines").ToList();
        foreach (var path in paths)
        {
            // A cluster without KubeVirt has no such resource: nothing to discover there.
            var list = await _cluster.TryGetAsync(path, cancellationToken).ConfigureAwait(false);
            foreach (var vm in (list?["items"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var meta = vm["metadata"]!;
                var ns = meta["namespace"]!.GetValue<string>();
                var name = meta["name"]!.GetValue<string>();
                var (vcpus, memory) = await SizeOfAsync(vm, cancellationToken).ConfigureAwait(false);
                var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["namespace"] = ns };
                if (meta["annotations"]?[LabelsAnnotation]?.GetValue<string>() is { } json && JsonNode.Parse(json) is JsonObject stored)
                {
                    foreach (var (k, v) in stored)
                    {
                        labels[k] = v?.GetValue<string>() ?? string.Empty;
                    }
                }

                found.Add(new DiscoveredRuntime(KubeRefs.Format(Name, ns, name), name, StateOf(vm).State, vcpus, memory, labels,
                    meta["annotations"]?[RuntimeIdAnnotation]?.GetValue<string>(), meta["labels"]?[TenantLabel]?.GetValue<string>()));
            }
        }

        return found;
    }

    /// <inheritdoc />
    public async Task<RuntimeObservation> ObserveAsync(string backendRef, CancellationToken cancellationToken)
    {
        var (ns, name) = KubeRefs.Parse(Name, backendRef);
        var vm = await GetVmAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var (state, reason) = StateOf(vm);
        var (vcpus, memory) = await SizeOfAsync(vm, cancellationToken).ConfigureAwait(false);
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["namespace"] = ns,
            ["printable_status"] = Str(vm, "status", "printableStatus") ?? "Unknown",
            ["run_strategy"] = RunStrategy(vm),
        };
        if (Str(vm, "spec", "instancetype", "name") is { } instancetype)
        {
            details["instancetype"] = instancetype;
        }

        TimeSpan? uptime = null;
        var vmi = await _cluster.TryGetAsync($"{VmApi}/namespaces/{ns}/virtualmachineinstances/{name}", cancellationToken).ConfigureAwait(false);
        if (vmi is not null)
        {
            details["node"] = Str(vmi, "status", "nodeName") ?? "(not scheduled)";
            details["phase"] = Str(vmi, "status", "phase") ?? "Pending";
            if (vmi["status"]?["interfaces"]?[0]?["ipAddress"]?.GetValue<string>() is { } ip)
            {
                details["ip"] = ip;
            }

            var running = (vmi["status"]?["phaseTransitionTimestamps"] as JsonArray ?? [])
                .FirstOrDefault(t => t?["phase"]?.GetValue<string>() == "Running")?["phaseTransitionTimestamp"]?.GetValue<string>();
            if (state == RuntimeState.Running && running is not null && DateTimeOffset.TryParse(running, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
            {
                uptime = _time.GetUtcNow() - since;
            }
        }

        return new RuntimeObservation
        {
            State = state,
            Reason = reason,
            Vcpus = vcpus,
            MemoryMiB = memory,
            MaxMemoryMiB = memory,
            Uptime = uptime,
            Details = details,
            ObservedAt = _time.GetUtcNow(),
        };
    }

    /// <inheritdoc />
    public async Task<HostCapacity> GetCapacityAsync(CancellationToken cancellationToken)
    {
        var rooms = await NodeRoom.ListAsync(_cluster, cancellationToken).ConfigureAwait(false);
        return new HostCapacity((int)(rooms.Sum(r => r.AllocatableMilliCpu) / 1000), rooms.Sum(r => r.AllocatableMiB), rooms.Sum(r => r.FreeMiB));
    }

    /// <inheritdoc />
    public Task<BackendHealth> ProbeAsync(CancellationToken cancellationToken) => _cluster.ProbeAsync(cancellationToken);

    /// <summary>Quota and node room for create and scale (the virt-launcher pod's requests), disruption budgets for stop and restart.</summary>
    public async Task<ActionAssessment> AssessAsync(PlannedAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var blocking = new List<string>();
        var notes = new List<string>();
        var disrupted = new List<string>();
        var (ns, name) = action.BackendRef is null ? (action.Namespace ?? _cluster.Options.VirtualMachineNamespace, action.Name ?? "") : KubeRefs.Parse(Name, action.BackendRef);
        switch (action.Action)
        {
            case ActionType.Create or ActionType.Scale when action.Target is { } target:
            {
                var (cpu, memory) = LauncherRequests(target.Vcpus, target.MemoryMiB);
                long currentCpu = 0, currentMemory = 0;
                if (action.BackendRef is not null)
                {
                    var vm = await GetVmAsync(ns, name, cancellationToken).ConfigureAwait(false);
                    var (v, m) = await SizeOfAsync(vm, cancellationToken).ConfigureAwait(false);
                    (currentCpu, currentMemory) = StateOf(vm).State == RuntimeState.Running ? LauncherRequests(v, m) : (0, 0);
                    if (action.Action == ActionType.Scale && StateOf(vm).State == RuntimeState.Running)
                    {
                        notes.Add("KubeVirt applies a new size at the next start: the VM keeps its current size until it is restarted");
                    }
                }

                blocking.AddRange(await Disruption.QuotaRefusalsAsync(_cluster, ns, cpu - currentCpu, memory - currentMemory, action.BackendRef is null ? 1 : 0, cancellationToken).ConfigureAwait(false));
                var rooms = await NodeRoom.ListAsync(_cluster, cancellationToken).ConfigureAwait(false);
                if (!rooms.Any(r => r.FreeMilliCpu >= cpu && r.FreeMiB >= memory))
                {
                    var best = rooms.OrderByDescending(r => r.FreeMiB).FirstOrDefault();
                    blocking.Add($"no node can fit the virt-launcher pod ({KubeQuantities.Cpu(cpu)} CPU / {memory} MiB with KubeVirt's overhead; most room: {(best is null ? "no ready node" : $"{best.Name} with {best.FreeMiB} MiB free")}); choose a smaller size or add nodes");
                }

                break;
            }

            case ActionType.Stop or ActionType.Restart or ActionType.Delete when action.BackendRef is not null:
            {
                var pods = await _cluster.CallAsync($"list virt-launcher pods of {ns}/{name}",
                    (c, ct) => c.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"vm.kubevirt.io/name={name}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                disrupted.AddRange(pods.Items.Select(p => $"virt-launcher pod {ns}/{p.Metadata.Name}"));
                var verb = action.Action switch { ActionType.Stop => "the stop", ActionType.Restart => "the restart", _ => "the delete" };
                blocking.AddRange(await Disruption.BudgetRefusalsAsync(_cluster, ns, pods.Items, 1, verb, cancellationToken).ConfigureAwait(false));
                break;
            }
        }

        return new ActionAssessment { BlockingReasons = blocking, Notes = notes, Disrupted = disrupted };
    }

    /// <summary>What the virt-launcher pod requests: 100m CPU per vCPU (KubeVirt's default cpuAllocationRatio 10) and guest memory plus overhead.</summary>
    internal static (long MilliCpu, long MemoryMiB) LauncherRequests(int vcpus, long memoryMiB) => (vcpus * 100L, memoryMiB + 220);

    internal static string? Str(JsonNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node?[key];
        }

        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }

    internal static string RunStrategy(JsonNode vm) =>
        Str(vm, "spec", "runStrategy") ?? (vm["spec"]?["running"] is JsonValue r && r.TryGetValue<bool>(out var running) ? (running ? "Always" : "Halted") : "Halted");

    /// <summary>The runtime state from printableStatus (as <c>kubectl get vm</c> prints it) and the Ready/Failure conditions.</summary>
    internal static (RuntimeState State, string? Reason) StateOf(JsonNode vm)
    {
        var printable = Str(vm, "status", "printableStatus") ?? "Stopped";
        var failure = (vm["status"]?["conditions"] as JsonArray ?? [])
            .FirstOrDefault(c => Str(c, "type") is "Failure" && Str(c, "status") == "True");
        return printable switch
        {
            "Running" or "Migrating" => (RuntimeState.Running, null),
            "Stopped" => (RuntimeState.Stopped, null),
            "Paused" => (RuntimeState.Stopped, "paused (the guest is frozen; unpause with virtctl)"),
            "Starting" or "Provisioning" or "WaitingForVolumeBinding" => (RuntimeState.Creating, printable),
            "Stopping" or "Terminating" => (RuntimeState.Deleting, printable),
            _ => (RuntimeState.Error, $"{printable}{(failure is null ? "" : ": " + Str(failure, "message"))}"),
        };
    }

    internal async Task<JsonNode> GetVmAsync(string ns, string name, CancellationToken cancellationToken) =>
        await _cluster.TryGetAsync($"{VmApi}/namespaces/{ns}/virtualmachines/{name}", cancellationToken).ConfigureAwait(false)
        ?? throw new RuntimeDriverException($"VirtualMachine {ns}/{name} does not exist on {Name}; call list_runtimes") { Code = "not_found" };

    /// <summary>vCPUs and memory: from the instancetype when it names one, else the domain's cpu and memory.</summary>
    internal async Task<(int Vcpus, long MemoryMiB)> SizeOfAsync(JsonNode vm, CancellationToken cancellationToken)
    {
        if (Str(vm, "spec", "instancetype", "name") is { } instancetype)
        {
            var kind = Str(vm, "spec", "instancetype", "kind") ?? "VirtualMachineClusterInstancetype";
            var path = kind == "VirtualMachineInstancetype"
                ? $"{InstancetypeApi}/namespaces/{Str(vm, "metadata", "namespace")}/virtualmachineinstancetypes/{instancetype}"
                : $"{InstancetypeApi}/virtualmachineclusterinstancetypes/{instancetype}";
            var type = await _cluster.TryGetAsync(path, cancellationToken).ConfigureAwait(false);
            if (type is not null)
            {
                var guests = type["spec"]?["cpu"]?["guest"] is JsonValue g && g.TryGetValue<int>(out var n) ? n : 1;
                return (guests, KubeQuantities.MiB(Str(type, "spec", "memory", "guest")));
            }

            if (SizeTable.TryGet(instancetype.StartsWith("u1.", StringComparison.Ordinal) ? instancetype[3..] : instancetype, out var size))
            {
                return (size.Vcpus, size.MemoryMiB);
            }
        }

        var domain = vm["spec"]?["template"]?["spec"]?["domain"];
        var cores = domain?["cpu"]?["cores"] is JsonValue c && c.TryGetValue<int>(out var cv) ? cv : 1;
        var sockets = domain?["cpu"]?["sockets"] is JsonValue s && s.TryGetValue<int>(out var sv) ? sv : 1;
        var memory = Str(domain, "memory", "guest") ?? Str(domain, "resources", "requests", "memory");
        return (cores * sockets, KubeQuantities.MiB(memory));
    }

    /// <summary>Turns KubeVirt's 409 on a subresource into a message that says why and what to do.</summary>
    internal static RuntimeDriverException Refused(string verb, string ns, string name, JsonNode vm, KubeApiException ex)
    {
        var strategy = RunStrategy(vm);
        var printable = Str(vm, "status", "printableStatus") ?? "Unknown";
        var hint = (verb, strategy) switch
        {
            ("start", "Always" or "Once") => $"runStrategy {strategy} keeps it running already; stop_runtime first if it must start afresh",
            ("start", _) => "it is already running; use restart_runtime to reboot it",
            ("stop", _) => "it is not running; nothing to stop",
            ("restart", "Halted") => "runStrategy Halted means it is stopped: start_runtime instead",
            ("restart", _) => "it is not running; start_runtime instead",
            _ => "check get_runtime_status",
        };
        var apiMessage = ex.Message;
        var cut = apiMessage.IndexOf(": ", StringComparison.Ordinal);
        apiMessage = cut >= 0 ? apiMessage[(cut + 2)..] : apiMessage;
        return new RuntimeDriverException($"KubeVirt refused to {verb} VirtualMachine {ns}/{name} (runStrategy {strategy}, {printable}): {apiMessage}; {hint}", ex) { Code = "invalid_state" };
    }

    internal static bool IsConflict(KubeApiException ex) => ex.StatusCode == HttpStatusCode.Conflict;
}
