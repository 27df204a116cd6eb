using System.Globalization;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualMachines;

public sealed partial class KubeVirtDriver
{
    /// <inheritdoc />
    public async Task<CreateResult> CreateAsync(string runtimeId, RuntimeCreateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ns = request.Namespace ?? _cluster.Options.VirtualMachineNamespace;
        var size = SizeTable.TryGet(request.Spec.Size, out var s) ? s : SizeTable.All[0];
        var vcpus = (int?)request.Spec.Resources?.Cpu ?? size.Vcpus;
        var memory = Quantity.TryParseMiB(request.Spec.Resources?.Memory, out var m) ? m : size.MemoryMiB;
        var custom = vcpus != size.Vcpus || memory != size.MemoryMiB;
        var instancetype = custom ? null : await _cluster.TryGetAsync($"{InstancetypeApi}/virtualmachineclusterinstancetypes/u1.{size.Name}", cancellationToken).ConfigureAwait(false);

        var annotations = new JsonObject { [RuntimeIdAnnotation] = runtimeId };
        if (request.Labels.Count > 0)
        {
            annotations[LabelsAnnotation] = new JsonObject(request.Labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))).ToJsonString();
        }

        var labels = new JsonObject { ["app.kubernetes.io/managed-by"] = "runtimeai" };
        if (request.TenantId is { } tenant)
        {
            labels[TenantLabel] = tenant;
        }

        var domain = new JsonObject
        {
            ["devices"] = new JsonObject
            {
                ["disks"] = new JsonArray(new JsonObject { ["name"] = "rootdisk", ["disk"] = new JsonObject { ["bus"] = "virtio" } }),
                ["interfaces"] = new JsonArray(new JsonObject { ["name"] = "default", ["masquerade"] = new JsonObject() }),
            },
        };
        if (instancetype is null)
        {
            domain["cpu"] = new JsonObject { ["cores"] = vcpus };
            domain["memory"] = new JsonObject { ["guest"] = KubeQuantities.Memory(memory) };
        }

        var vm = new JsonObject
        {
            ["apiVersion"] = "kubevirt.io/v1",
            ["kind"] = "VirtualMachine",
            ["metadata"] = new JsonObject { ["name"] = request.Name, ["namespace"] = ns, ["labels"] = labels, ["annotations"] = annotations },
            ["spec"] = new JsonObject
            {
                ["runStrategy"] = "Always",
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["kubevirt.io/domain"] = request.Name } },
                    ["spec"] = new JsonObject
                    {
                        ["domain"] = domain,
                        ["networks"] = new JsonArray(new JsonObject { ["name"] = "default", ["pod"] = new JsonObject() }),
                        ["volumes"] = new JsonArray(new JsonObject { ["name"] = "rootdisk", ["containerDisk"] = new JsonObject { ["image"] = ContainerDiskImage } }),
                    },
                },
            },
        };
        if (instancetype is not null)
        {
            vm["spec"]!["instancetype"] = new JsonObject { ["kind"] = "VirtualMachineClusterInstancetype", ["name"] = $"u1.{size.Name}" };
        }

        try
        {
            await _cluster.SendAsync(HttpMethod.Post, $"{VmApi}/namespaces/{ns}/virtualmachines", vm, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException ex) when (ex.Code == "already_exists")
        {
            throw new RuntimeDriverException($"VirtualMachine {ns}/{request.Name} already exists on {Name}; choose another name or import it with list_runtimes", ex) { Code = "already_exists" };
        }

        try
        {
            var (state, reason) = await WaitStateAsync(ns, request.Name, x => x.State is RuntimeState.Running or RuntimeState.Error, cancellationToken).ConfigureAwait(false);
            if (state == RuntimeState.Error)
            {
                throw new RuntimeDriverException($"VirtualMachine {ns}/{request.Name} cannot start: {reason}; choose a smaller size or free capacity") { Code = "no_capacity" };
            }

            return new CreateResult(KubeRefs.Format(Name, ns, request.Name), state, vcpus, memory, null);
        }
        catch (Exception ex) when (ex is RuntimeDriverException or OperationCanceledException)
        {
            // Nothing half-created.
            try
            {
                await _cluster.SendAsync(HttpMethod.Delete, $"{VmApi}/namespaces/{ns}/virtualmachines/{request.Name}", null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (KubeApiException)
            {
                // Already gone, or the API is down: the error below is what the caller needs.
            }

            throw;
        }
    }

    /// <summary>Starts through the <c>start</c> subresource (a Halted VM becomes Always); a 409 becomes a message with the runStrategy rule.</summary>
    public Task<MutationResult> StartAsync(string backendRef, CancellationToken cancellationToken) =>
        SubresourceAsync(backendRef, "start", new JsonObject(), x => x.State is RuntimeState.Running or RuntimeState.Error, cancellationToken);

    /// <summary>Stops through the <c>stop</c> subresource (Always becomes Halted); <see cref="StopOptions.Force"/> sends gracePeriod 0.</summary>
    public Task<MutationResult> StopAsync(string backendRef, StopOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var body = options.Force ? new JsonObject { ["gracePeriod"] = 0 } : new JsonObject();
        return SubresourceAsync(backendRef, "stop", body, x => x.State is RuntimeState.Stopped or RuntimeState.Error, cancellationToken);
    }

    /// <summary>Restarts through the <c>restart</c> subresource; waits for a new VirtualMachineInstance to run.</summary>
    public async Task<MutationResult> RestartAsync(string backendRef, CancellationToken cancellationToken)
    {
        var (ns, name) = KubeRefs.Parse(Name, backendRef);
        var vmi = await _cluster.TryGetAsync($"{VmApi}/namespaces/{ns}/virtualmachineinstances/{name}", cancellationToken).ConfigureAwait(false);
        var oldUid = Str(vmi, "metadata", "uid");
        return await SubresourceAsync(backendRef, "restart", new JsonObject(), x => x.State == RuntimeState.Running && x.VmiUid is { } uid && uid != oldUid || x.State == RuntimeState.Error, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Changes the size: the matching <c>u1</c> instancetype when the size is in the table and the
    /// cluster has it, else explicit cores and guest memory. A running VM takes it at the next start
    /// (<see cref="MutationResult.RestartRequired"/>).
    /// </summary>
    public async Task<MutationResult> ScaleAsync(string backendRef, ScaleTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var (ns, name) = KubeRefs.Parse(Name, backendRef);
        var vm = await GetVmAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var before = await SizeOfAsync(vm, cancellationToken).ConfigureAwait(false);
        var (state, _) = StateOf(vm);
        var size = SizeTable.All.FirstOrDefault(x => x.Vcpus == target.Vcpus && x.MemoryMiB == target.MemoryMiB);
        var instancetype = size is null ? null : await _cluster.TryGetAsync($"{InstancetypeApi}/virtualmachineclusterinstancetypes/u1.{size.Name}", cancellationToken).ConfigureAwait(false);
        var patch = instancetype is not null
            ? new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["instancetype"] = new JsonObject { ["kind"] = "VirtualMachineClusterInstancetype", ["name"] = $"u1.{size!.Name}" },
                    ["template"] = new JsonObject { ["spec"] = new JsonObject { ["domain"] = new JsonObject { ["cpu"] = null, ["memory"] = null } } },
                },
            }
            : new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["instancetype"] = null,
                    ["template"] = new JsonObject
                    {
                        ["spec"] = new JsonObject
                        {
                            ["domain"] = new JsonObject
                            {
                                ["cpu"] = new JsonObject { ["cores"] = target.Vcpus },
                                ["memory"] = new JsonObject { ["guest"] = KubeQuantities.Memory(target.MemoryMiB) },
                            },
                        },
                    },
                },
            };
        patch["metadata"] = new JsonObject { ["resourceVersion"] = Str(vm, "metadata", "resourceVersion") };
        await PatchWithRetryAsync(ns, name, patch, cancellationToken).ConfigureAwait(false);
        var running = state == RuntimeState.Running;
        return new MutationResult
        {
            PreviousState = state,
            NewState = state,
            PreviousSize = new ScaleTarget(before.Vcpus, before.MemoryMiB),
            NewSize = target,
            RestartRequired = running,
            Notes = [instancetype is not null ? $"instancetype u1.{size!.Name}" : $"{target.Vcpus} cores / {KubeQuantities.Memory(target.MemoryMiB)} guest memory",
                     .. running ? new[] { "KubeVirt applies the new size at the next start: restart_runtime to take it now" } : []],
        };
    }

    /// <summary>Deletes the VirtualMachine (its instance goes with it) and, unless keep_data, its snapshots.</summary>
    public async Task<MutationResult> DeleteAsync(string backendRef, DeleteOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (ns, name) = KubeRefs.Parse(Name, backendRef);
        var vm = await GetVmAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var (previous, _) = StateOf(vm);
        var notes = new List<string>();
        await _cluster.SendAsync(HttpMethod.Delete, $"{VmApi}/namespaces/{ns}/virtualmachines/{name}", new JsonObject { ["propagationPolicy"] = "Foreground" }, cancellationToken).ConfigureAwait(false);
        var snapshots = await SnapshotObjectsAsync(ns, name, cancellationToken).ConfigureAwait(false);
        if (options.KeepDisk)
        {
            notes.Add($"kept {snapshots.Count} VirtualMachineSnapshot(s); the root disk is an ephemeral containerDisk, so there is no disk to keep");
        }
        else
        {
            foreach (var snapshot in snapshots)
            {
                try
                {
                    await _cluster.SendAsync(HttpMethod.Delete, $"{SnapshotApi}/namespaces/{ns}/virtualmachinesnapshots/{Str(snapshot, "metadata", "name")}", null, cancellationToken).ConfigureAwait(false);
                }
                catch (KubeApiException ex) when (ex.IsNotFound)
                {
                    // Gone meanwhile.
                }
            }

            notes.Add($"deleted {snapshots.Count} VirtualMachineSnapshot(s)");
        }

        await Converge.UntilAsync(ct => _cluster.TryGetAsync($"{VmApi}/namespaces/{ns}/virtualmachines/{name}", ct), x => x is null, _cluster.Options, _time, cancellationToken).ConfigureAwait(false);
        return new MutationResult { PreviousState = previous, NewState = RuntimeState.Deleted, Notes = notes };
    }

    private async Task<MutationResult> SubresourceAsync(string backendRef, string verb, JsonObject body, Func<(RuntimeState State, string? Reason, string? VmiUid), bool> done, CancellationToken cancellationToken)
    {
        var (ns, name) = KubeRefs.Parse(Name, backendRef);
        var vm = await GetVmAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var (before, _) = StateOf(vm);
        try
        {
            await _cluster.SendAsync(HttpMethod.Put, $"{SubresourceApi}/namespaces/{ns}/virtualmachines/{name}/{verb}", body, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException ex) when (IsConflict(ex))
        {
            throw Refused(verb, ns, name, vm, ex);
        }

        var (state, reason) = await WaitStateAsync(ns, name, done, cancellationToken).ConfigureAwait(false);
        return new MutationResult
        {
            PreviousState = before,
            NewState = state,
            Notes = reason is null ? [$"{verb} through subresources.kubevirt.io"] : [$"{verb} through subresources.kubevirt.io", reason],
        };
    }

    private async Task<(RuntimeState State, string? Reason)> WaitStateAsync(string ns, string name, Func<(RuntimeState State, string? Reason, string? VmiUid), bool> done, CancellationToken cancellationToken)
    {
        var (last, _) = await Converge.UntilAsync(
            async ct =>
            {
                var vm = await GetVmAsync(ns, name, ct).ConfigureAwait(false);
                var vmi = await _cluster.TryGetAsync($"{VmApi}/namespaces/{ns}/virtualmachineinstances/{name}", ct).ConfigureAwait(false);
                var (state, reason) = StateOf(vm);
                return (State: state, Reason: reason, VmiUid: Str(vmi, "metadata", "uid"));
            },
            done, _cluster.Options, _time, cancellationToken).ConfigureAwait(false);
        return (last.State, last.Reason);
    }

    /// <summary>Merge-patches the VM pinned to the resourceVersion it read; a stale one is read again and retried once, then reported.</summary>
    private async Task PatchWithRetryAsync(string ns, string name, JsonObject patch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _cluster.SendAsync(HttpMethod.Patch, $"{VmApi}/namespaces/{ns}/virtualmachines/{name}", patch, cancellationToken, "application/merge-patch+json").ConfigureAwait(false);
                return;
            }
            catch (KubeApiException ex) when (ex.IsStaleResourceVersion)
            {
                if (attempt >= 2)
                {
                    throw new RuntimeDriverException($"VirtualMachine {ns}/{name} changed again while RuntimeAI updated it (stale resourceVersion twice): someone else is changing it; check get_runtime_status and retry", ex) { Code = "conflict" };
                }

                var fresh = await GetVmAsync(ns, name, cancellationToken).ConfigureAwait(false);
                patch["metadata"] = new JsonObject { ["resourceVersion"] = Str(fresh, "metadata", "resourceVersion") };
            }
        }
    }

    private async Task<List<JsonNode>> SnapshotObjectsAsync(string ns, string vm, CancellationToken cancellationToken)
    {
        var list = await _cluster.TryGetAsync($"{SnapshotApi}/namespaces/{ns}/virtualmachinesnapshots", cancellationToken).ConfigureAwait(false);
        return (list?["items"] as JsonArray ?? []).OfType<JsonNode>()
            .Where(s => Str(s, "spec", "source", "name") == vm && Str(s, "spec", "source", "kind") == "VirtualMachine")
            .OrderBy(s => Str(s, "metadata", "creationTimestamp"), StringComparer.Ordinal)
            .ToList();
    }
}
