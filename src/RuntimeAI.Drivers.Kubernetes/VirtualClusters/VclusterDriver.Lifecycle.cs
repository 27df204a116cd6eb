using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.Cluster;

namespace RuntimeAI.Drivers.Kubernetes.VirtualClusters;

public sealed partial class VclusterDriver
{
    /// <inheritdoc />
    public async Task<CreateResult> CreateAsync(string runtimeId, RuntimeCreateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = request.Name;
        var ns = request.Namespace ?? $"vcluster-{name}";
        var size = SizeTable.TryGet(request.Spec.Size, out var s) ? s : SizeTable.All[0];
        var vcpus = (int?)request.Spec.Resources?.Cpu ?? size.Vcpus;
        var memory = Quantity.TryParseMiB(request.Spec.Resources?.Memory, out var m) ? m : size.MemoryMiB;
        if (await TryGetControlPlaneAsync(ns, name, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new RuntimeDriverException($"vcluster {ns}/{name} already exists on {Name}; choose another name or import it with list_runtimes") { Code = "already_exists" };
        }

        var createdNamespace = false;
        var created = new List<Func<Task>>();
        try
        {
            var existing = await _cluster.TryCallAsync($"read namespace {ns}", (c, ct) => c.CoreV1.ReadNamespaceAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                await _cluster.CallAsync($"create namespace {ns}", (c, ct) => c.CoreV1.CreateNamespaceAsync(new V1Namespace
                {
                    Metadata = new V1ObjectMeta { Name = ns, Labels = new Dictionary<string, string>(StringComparer.Ordinal) { [VclusterNames.ManagedNamespace] = "true" } },
                }, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                createdNamespace = true;
            }

            var replicas = VclusterTemplate.ReplicasFor(vcpus);
            var annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [VclusterNames.RuntimeId] = runtimeId };
            if (request.Labels.Count > 0)
            {
                annotations[VclusterNames.Labels] = new JsonObject(request.Labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))).ToJsonString();
            }

            await _cluster.CallAsync($"create serviceaccount {ns}/vc-{name}", (c, ct) => c.CoreV1.CreateNamespacedServiceAccountAsync(VclusterTemplate.ServiceAccount(name, ns), ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            created.Add(() => _cluster.CallAsync("delete serviceaccount", (c, ct) => c.CoreV1.DeleteNamespacedServiceAccountAsync($"vc-{name}", ns, cancellationToken: ct), CancellationToken.None));
            await _cluster.CallAsync($"create secret {ns}/vc-config-{name}", (c, ct) => c.CoreV1.CreateNamespacedSecretAsync(VclusterTemplate.ConfigSecret(name, ns, replicas), ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            created.Add(() => _cluster.CallAsync("delete secret", (c, ct) => c.CoreV1.DeleteNamespacedSecretAsync($"vc-config-{name}", ns, cancellationToken: ct), CancellationToken.None));
            await _cluster.CallAsync($"create service {ns}/{name}-headless", (c, ct) => c.CoreV1.CreateNamespacedServiceAsync(VclusterTemplate.HeadlessService(name, ns), ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            created.Add(() => _cluster.CallAsync("delete service", (c, ct) => c.CoreV1.DeleteNamespacedServiceAsync($"{name}-headless", ns, cancellationToken: ct), CancellationToken.None));
            await _cluster.CallAsync($"create service {ns}/{name}", (c, ct) => c.CoreV1.CreateNamespacedServiceAsync(VclusterTemplate.Service(name, ns), ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            created.Add(() => _cluster.CallAsync("delete service", (c, ct) => c.CoreV1.DeleteNamespacedServiceAsync(name, ns, cancellationToken: ct), CancellationToken.None));
            var sts = VclusterTemplate.StatefulSet(name, ns, vcpus, memory, annotations);
            if (request.TenantId is { } tenant)
            {
                sts.Metadata.Labels[VclusterNames.Tenant] = tenant;
            }

            await _cluster.CallAsync($"create statefulset {ns}/{name}", (c, ct) => c.AppsV1.CreateNamespacedStatefulSetAsync(sts, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            created.Add(() => _cluster.CallAsync("delete statefulset", (c, ct) => c.AppsV1.DeleteNamespacedStatefulSetAsync(name, ns, propagationPolicy: "Background", cancellationToken: ct), CancellationToken.None));

            var (plane, pods) = await WaitAsync(ns, name, (p, _) => p.ReadyReplicas >= p.Replicas, cancellationToken).ConfigureAwait(false);
            var (state, _) = StateOf(plane, pods);
            if (state == RuntimeState.Error)
            {
                throw new RuntimeDriverException($"vcluster {ns}/{name} cannot start: {StateOf(plane, pods).Reason}; choose a smaller size or free capacity") { Code = "no_capacity" };
            }

            return new CreateResult(KubeRefs.Format(Name, ns, name), state, vcpus, memory, null);
        }
        catch (Exception ex) when (ex is RuntimeDriverException or OperationCanceledException)
        {
            // Nothing half-created: remove what this call made, newest first.
            foreach (var undo in Enumerable.Reverse(created))
            {
                try
                {
                    await undo().ConfigureAwait(false);
                }
                catch (KubeApiException)
                {
                    // Already gone, or the API is down: the error below is what the caller needs.
                }
            }

            if (createdNamespace)
            {
                try
                {
                    await _cluster.CallAsync("delete namespace", (c, ct) => c.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: ct), CancellationToken.None).ConfigureAwait(false);
                }
                catch (KubeApiException)
                {
                    // As above.
                }
            }

            throw;
        }
    }

    /// <summary>Resume, as <c>vcluster resume</c>: restore exactly the replicas <c>loft.sh/paused-replicas</c> recorded.</summary>
    public async Task<MutationResult> StartAsync(string backendRef, CancellationToken cancellationToken)
    {
        var before = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        if (!before.Paused && before.Replicas > 0)
        {
            throw new RuntimeDriverException($"vcluster {before.Namespace}/{before.Release} is not paused ({before.ReadyReplicas}/{before.Replicas} control-plane replicas ready); nothing to resume") { Code = "invalid_state" };
        }

        await MutateAsync(backendRef, plane =>
        {
            var replicas = int.TryParse(plane.Annotations.GetValueOrDefault(VclusterNames.PausedReplicas), NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) && r > 0 ? r : 1;
            return new JsonObject
            {
                ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [VclusterNames.Paused] = null, [VclusterNames.PausedReplicas] = null } },
                ["spec"] = new JsonObject { ["replicas"] = replicas },
            };
        }, strategic: false, cancellationToken).ConfigureAwait(false);
        var (after, pods) = await WaitAsync(before.Namespace, before.Release, (p, _) => p.Replicas > 0 && p.ReadyReplicas >= p.Replicas, cancellationToken).ConfigureAwait(false);
        return Result(before, StateOf(after, pods).State, after.Replicas > 0 ? [$"resumed with {after.Replicas} control-plane replica(s)"] : []);
    }

    /// <summary>
    /// Pause, as <c>vcluster pause</c>: record the replicas in <c>loft.sh/paused-replicas</c>, mark
    /// <c>loft.sh/paused</c>, scale the control plane to 0, and remove the workloads it synced to the
    /// host. Volume claims and Services stay.
    /// </summary>
    public async Task<MutationResult> StopAsync(string backendRef, StopOptions options, CancellationToken cancellationToken)
    {
        var before = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        if (before.Paused)
        {
            throw new RuntimeDriverException($"vcluster {before.Namespace}/{before.Release} is already paused; start_runtime resumes it") { Code = "invalid_state" };
        }

        await MutateAsync(backendRef, plane => new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["annotations"] = new JsonObject
                {
                    [VclusterNames.Paused] = "true",
                    [VclusterNames.PausedReplicas] = Math.Max(1, plane.Replicas).ToString(CultureInfo.InvariantCulture),
                },
            },
            ["spec"] = new JsonObject { ["replicas"] = 0 },
        }, strategic: false, cancellationToken).ConfigureAwait(false);
        var synced = await SyncedPodsAsync(before, cancellationToken).ConfigureAwait(false);
        if (synced.Count > 0)
        {
            await _cluster.CallAsync($"delete synced workloads of vcluster {before.Namespace}/{before.Release}",
                (c, ct) => c.CoreV1.DeleteCollectionNamespacedPodAsync(before.Namespace, labelSelector: $"{VclusterNames.ManagedBy}={before.Release}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }

        var (after, pods) = await WaitAsync(before.Namespace, before.Release, (_, p) => p.Count == 0, cancellationToken).ConfigureAwait(false);
        return Result(before, StateOf(after, pods).State,
            [$"paused: {before.Replicas} control-plane replica(s) recorded in {VclusterNames.PausedReplicas}", $"{synced.Count} synced workload pod(s) removed from the host; volume claims and services kept"]);
    }

    /// <summary>Rollout restart of the control plane (as <c>kubectl rollout restart</c>).</summary>
    public async Task<MutationResult> RestartAsync(string backendRef, CancellationToken cancellationToken)
    {
        var before = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        if (before.Paused || before.Replicas == 0)
        {
            throw new RuntimeDriverException($"vcluster {before.Namespace}/{before.Release} is paused; restart needs a running control plane (start_runtime resumes it)") { Code = "invalid_state" };
        }

        var podsBefore = (await ControlPlanePodsAsync(before, cancellationToken).ConfigureAwait(false)).Select(p => p.Metadata.Uid).ToHashSet(StringComparer.Ordinal);
        var stamp = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        await MutateAsync(backendRef, _ => new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["kubectl.kubernetes.io/restartedAt"] = stamp } } },
            },
        }, strategic: true, cancellationToken).ConfigureAwait(false);
        var (after, pods) = await WaitAsync(before.Namespace, before.Release,
            (p, list) => p.ReadyReplicas >= p.Replicas && list.Count == p.Replicas && list.All(x => !podsBefore.Contains(x.Metadata.Uid)), cancellationToken).ConfigureAwait(false);
        return Result(before, StateOf(after, pods).State, [$"rollout restart at {stamp}: {pods.Count} control-plane pod(s) replaced"]);
    }

    /// <summary>Sets the control plane's resources (and replicas: HA from size large up); a paused vcluster keeps 0 and resumes with the new count.</summary>
    public async Task<MutationResult> ScaleAsync(string backendRef, ScaleTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var before = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        var replicas = VclusterTemplate.ReplicasFor(target.Vcpus);
        var resources = VclusterTemplate.Resources(target.Vcpus, target.MemoryMiB);
        await MutateAsync(backendRef, plane =>
        {
            var patch = new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["template"] = new JsonObject
                    {
                        ["spec"] = new JsonObject
                        {
                            ["containers"] = new JsonArray(new JsonObject
                            {
                                ["name"] = "syncer",
                                ["resources"] = new JsonObject
                                {
                                    ["requests"] = new JsonObject { ["cpu"] = resources.Requests["cpu"].ToString(), ["memory"] = resources.Requests["memory"].ToString() },
                                    ["limits"] = new JsonObject { ["cpu"] = resources.Limits["cpu"].ToString(), ["memory"] = resources.Limits["memory"].ToString() },
                                },
                            }),
                        },
                    },
                },
            };
            if (plane.Paused)
            {
                patch["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [VclusterNames.PausedReplicas] = replicas.ToString(CultureInfo.InvariantCulture) } };
            }
            else
            {
                patch["spec"]!["replicas"] = replicas;
            }

            return patch;
        }, strategic: true, cancellationToken).ConfigureAwait(false);
        if (before.Paused)
        {
            return Result(before, RuntimeState.Stopped, [$"paused: resumes with {replicas} replica(s) of {target.Vcpus} vCPU / {target.MemoryMiB} MiB"]) with
            {
                PreviousSize = new ScaleTarget(before.Vcpus, before.MemoryMiB),
                NewSize = target,
            };
        }

        var (after, pods) = await WaitAsync(before.Namespace, before.Release,
            (p, list) => p.Vcpus == target.Vcpus && p.MemoryMiB == target.MemoryMiB && p.Replicas == replicas && p.ReadyReplicas >= replicas
                         && list.Count == replicas && list.All(x => KubeQuantities.MiB(KubeQuantities.Get(x.Spec.Containers[0].Resources?.Requests, "memory")) == target.MemoryMiB), cancellationToken).ConfigureAwait(false);
        return Result(before, StateOf(after, pods).State, [$"control plane: {replicas} replica(s) of {target.Vcpus} vCPU / {target.MemoryMiB} MiB"]) with
        {
            PreviousSize = new ScaleTarget(before.Vcpus, before.MemoryMiB),
            NewSize = target,
        };
    }

    /// <summary>Removes the vcluster's objects and, unless <see cref="DeleteOptions.KeepDisk"/> (keep_data), its volume claims and the namespace RuntimeAI created for it.</summary>
    public async Task<MutationResult> DeleteAsync(string backendRef, DeleteOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        if (plane.Annotations.GetValueOrDefault(VclusterNames.NonDeletable) == "true" || plane.Labels.GetValueOrDefault(VclusterNames.NonDeletable) == "true")
        {
            throw new RuntimeDriverException(
                $"vcluster {plane.Namespace}/{plane.Release} is marked {VclusterNames.NonDeletable}=true and cannot be deleted; remove the annotation on {ObjectRef(plane)} first if it really must go")
            { Code = "protected" };
        }

        var (previous, _) = StateOf(plane, await ControlPlanePodsAsync(plane, cancellationToken).ConfigureAwait(false));
        var (ns, name) = (plane.Namespace, plane.Release);
        var notes = new List<string>();
        if (plane.Kind == ControlPlane.StatefulSet)
        {
            await _cluster.CallAsync($"delete {ObjectRef(plane)}", (c, ct) => c.AppsV1.DeleteNamespacedStatefulSetAsync(plane.ObjectName, ns, propagationPolicy: "Background", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _cluster.CallAsync($"delete {ObjectRef(plane)}", (c, ct) => c.AppsV1.DeleteNamespacedDeploymentAsync(plane.ObjectName, ns, propagationPolicy: "Background", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }

        var selector = $"app=vcluster,release={name}";
        await _cluster.CallAsync("delete synced workloads", (c, ct) => c.CoreV1.DeleteCollectionNamespacedPodAsync(ns, labelSelector: $"{VclusterNames.ManagedBy}={name}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        foreach (var service in (await _cluster.CallAsync("list services", (c, ct) => c.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: selector, cancellationToken: ct), cancellationToken).ConfigureAwait(false)).Items)
        {
            await _cluster.TryCallAsync($"delete service {ns}/{service.Metadata.Name}", (c, ct) => c.CoreV1.DeleteNamespacedServiceAsync(service.Metadata.Name, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }

        foreach (var secret in (await _cluster.CallAsync("list secrets", (c, ct) => c.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: selector, cancellationToken: ct), cancellationToken).ConfigureAwait(false)).Items)
        {
            await _cluster.TryCallAsync($"delete secret {ns}/{secret.Metadata.Name}", (c, ct) => c.CoreV1.DeleteNamespacedSecretAsync(secret.Metadata.Name, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }

        await _cluster.TryCallAsync($"delete serviceaccount {ns}/vc-{name}", (c, ct) => c.CoreV1.DeleteNamespacedServiceAccountAsync($"vc-{name}", ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        await _cluster.CallAsync("delete snapshot requests", (c, ct) => c.CoreV1.DeleteCollectionNamespacedConfigMapAsync(ns, labelSelector: $"{VclusterNames.VclusterName}={name}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        await _cluster.CallAsync("delete snapshot options", (c, ct) => c.CoreV1.DeleteCollectionNamespacedSecretAsync(ns, labelSelector: $"{VclusterNames.VclusterName}={name}", cancellationToken: ct), cancellationToken).ConfigureAwait(false);

        var claims = (await _cluster.CallAsync("list volume claims", (c, ct) => c.CoreV1.ListNamespacedPersistentVolumeClaimAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false)).Items
            .Where(pvc => pvc.Metadata.Name.StartsWith($"{VclusterTemplate.DataVolume}-{plane.ObjectName}-", StringComparison.Ordinal)
                          || KubeMeta.Label(pvc.Metadata.Labels, "release") == name)
            .ToList<V1PersistentVolumeClaim>();
        if (options.KeepDisk)
        {
            notes.Add($"kept {claims.Count} volume claim(s): {string.Join(", ", claims.Select(c => c.Metadata.Name))}");
        }
        else
        {
            foreach (var claim in claims)
            {
                await _cluster.TryCallAsync($"delete pvc {ns}/{claim.Metadata.Name}", (c, ct) => c.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(claim.Metadata.Name, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            }

            notes.Add($"deleted {claims.Count} volume claim(s)");
            var namespaceObject = await _cluster.TryCallAsync($"read namespace {ns}", (c, ct) => c.CoreV1.ReadNamespaceAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (KubeMeta.Label(namespaceObject?.Metadata.Labels, VclusterNames.ManagedNamespace) == "true")
            {
                await _cluster.TryCallAsync($"delete namespace {ns}", (c, ct) => c.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                notes.Add($"deleted namespace {ns} (created by RuntimeAI)");
            }
        }

        return new MutationResult { PreviousState = previous, NewState = RuntimeState.Deleted, Notes = notes };
    }

    private static MutationResult Result(ControlPlane before, RuntimeState state, IReadOnlyList<string> notes) =>
        new() { PreviousState = StateOf(before, []).State, NewState = state, Notes = notes };

    /// <summary>
    /// Reads the control plane, builds a patch from what it read (pinned to its resourceVersion) and
    /// applies it; a stale resourceVersion (someone changed it meanwhile) is read again and retried
    /// once, then reported.
    /// </summary>
    private async Task MutateAsync(string backendRef, Func<ControlPlane, JsonObject> build, bool strategic, CancellationToken cancellationToken)
    {
        var plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            var patch = build(plane);
            var metadata = patch["metadata"] as JsonObject ?? new JsonObject();
            metadata["resourceVersion"] = plane.ResourceVersion;
            patch["metadata"] = metadata;
            var body = new V1Patch(patch.ToJsonString(), strategic ? V1Patch.PatchType.StrategicMergePatch : V1Patch.PatchType.MergePatch);
            var p = plane;
            try
            {
                if (p.Kind == ControlPlane.StatefulSet)
                {
                    await _cluster.CallAsync($"patch {ObjectRef(p)}", (c, ct) => c.AppsV1.PatchNamespacedStatefulSetAsync(body, p.ObjectName, p.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _cluster.CallAsync($"patch {ObjectRef(p)}", (c, ct) => c.AppsV1.PatchNamespacedDeploymentAsync(body, p.ObjectName, p.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (KubeApiException ex) when (ex.IsStaleResourceVersion)
            {
                if (attempt >= 2)
                {
                    throw new RuntimeDriverException(
                        $"{ObjectRef(p)} changed again while RuntimeAI updated it (resourceVersion {p.ResourceVersion} was stale twice): someone else is changing this vcluster; check get_runtime_status and retry", ex)
                    { Code = "conflict" };
                }

                plane = await GetControlPlaneAsync(backendRef, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<(ControlPlane Plane, IList<V1Pod> Pods)> WaitAsync(string ns, string name, Func<ControlPlane, IList<V1Pod>, bool> done, CancellationToken cancellationToken)
    {
        var ((plane, pods), converged) = await Converge.UntilAsync(
            async ct =>
            {
                var plane = await TryGetControlPlaneAsync(ns, name, ct).ConfigureAwait(false)
                    ?? throw new RuntimeDriverException($"vcluster {ns}/{name} disappeared while RuntimeAI was changing it") { Code = "not_found" };
                var pods = await ControlPlanePodsAsync(plane, ct).ConfigureAwait(false);
                return (plane, pods);
            },
            x => done(x.plane, x.pods) || StateOf(x.plane, x.pods).State == RuntimeState.Error,
            _cluster.Options, _time, cancellationToken).ConfigureAwait(false);
        _ = converged;
        return (plane, pods);
    }
}
