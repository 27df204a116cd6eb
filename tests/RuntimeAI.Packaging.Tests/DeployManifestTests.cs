using RuntimeAI.KubeSim;

namespace RuntimeAI.Packaging.Tests;

/// <summary>
/// deploy/kubernetes/ applied by the real kubectl with <c>--dry-run=server</c> against KubeSim (the
/// Kubernetes API simulator): every object is sent to the API server, admitted and not stored.
/// </summary>
public sealed class DeployManifestTests(ITestOutputHelper output)
{
    private static readonly string s_manifests = Path.Combine(RepoPaths.Root, "deploy", "kubernetes");

    private sealed class Kubectl(string kubeconfig, string home, ITestOutputHelper output)
    {
        public async Task<ProcessResult> RunAsync(params string[] args)
        {
            var r = await Processes.RunAsync(FindKubectl(), args, home, TimeSpan.FromSeconds(90),
                new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = home });
            output.WriteLine($"$ kubectl {string.Join(' ', args)}   (exit {r.ExitCode})\n{r.Stdout}{r.Stderr}");
            return r;
        }
    }

    private static string FindKubectl()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        Assert.SkipWhen(found is null, "kubectl is not on PATH (scripts/deps.sh installs it): the deploy manifests are checked with the real kubectl.");
        return found!;
    }

    private static async Task<(KubeSimServer Sim, Kubectl Kubectl)> StartAsync(ITestOutputHelper output)
    {
        FindKubectl();
        var sim = await KubeSimServer.StartAsync(new KubeSimOptions { Port = 0 }, TestContext.Current.CancellationToken);
        var home = RepoPaths.NewTempDir("kubectl");
        var kubeconfig = Path.Combine(home, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, sim.CreateKubeconfigYaml(), TestContext.Current.CancellationToken);
        return (sim, new Kubectl(kubeconfig, home, output));
    }

    private static string[] ManifestObjects() =>
    [
        "serviceaccount/runtimeai", "clusterrole.rbac.authorization.k8s.io/runtimeai-drivers",
        "clusterrolebinding.rbac.authorization.k8s.io/runtimeai-drivers", "configmap/runtimeai-config", "secret/runtimeai-env",
        "persistentvolumeclaim/runtimeai-data", "deployment.apps/runtimeai", "service/runtimeai",
    ];

    [Fact]
    public async Task ApplyDryRunServer_EveryObject_AdmittedAndNothingStored()
    {
        var (sim, kubectl) = await StartAsync(output);
        await using var _ = sim;
        Assert.Equal(0, (await kubectl.RunAsync("create", "namespace", "runtimeai")).ExitCode);

        var applied = await kubectl.RunAsync("apply", "--dry-run=server", "-f", s_manifests);

        Assert.True(applied.ExitCode == 0, applied.Describe("kubectl apply --dry-run=server"));
        foreach (var obj in ManifestObjects())
        {
            Assert.Contains($"{obj} created (server dry run)", applied.Stdout, StringComparison.Ordinal);
        }

        var listed = await kubectl.RunAsync("get", "deployments,services,configmaps,serviceaccounts,persistentvolumeclaims", "-n", "runtimeai", "-o", "name");
        Assert.Equal(0, listed.ExitCode);
        Assert.DoesNotContain("runtimeai", listed.Stdout, StringComparison.Ordinal);
        var roles = await kubectl.RunAsync("get", "clusterroles", "-o", "name");
        Assert.DoesNotContain("runtimeai-drivers", roles.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_ThenGet_RbacAndDeploymentAreServedAsWritten()
    {
        var (sim, kubectl) = await StartAsync(output);
        await using var _ = sim;
        Assert.Equal(0, (await kubectl.RunAsync("create", "namespace", "runtimeai")).ExitCode);

        var applied = await kubectl.RunAsync("apply", "--server-side", "-f", s_manifests);
        Assert.True(applied.ExitCode == 0, applied.Describe("kubectl apply --server-side"));

        var verbs = await kubectl.RunAsync("get", "clusterrole", "runtimeai-drivers", "-o",
            "jsonpath={range .rules[?(@.apiGroups[0]==\"subresources.kubevirt.io\")]}{.verbs}{end}");
        Assert.Equal("[\"update\"]", verbs.Stdout.Trim());
        var subject = await kubectl.RunAsync("get", "clusterrolebinding", "runtimeai-drivers", "-o", "jsonpath={.subjects[0].namespace}/{.subjects[0].name}");
        Assert.Equal("runtimeai/runtimeai", subject.Stdout.Trim());
        var probe = await kubectl.RunAsync("get", "deployment", "runtimeai", "-n", "runtimeai", "-o",
            "jsonpath={.spec.template.spec.containers[0].readinessProbe.httpGet.path} {.spec.template.spec.containers[0].livenessProbe.httpGet.path} {.spec.template.spec.securityContext.runAsNonRoot}");
        Assert.Equal("/readyz /healthz true", probe.Stdout.Trim());
    }

    /// <summary>
    /// The scale-out variant (deploy/kubernetes/scale-out/, docs/scale-out.md): the shared objects of the
    /// single-replica set (service account, RBAC, env Secret, Service) plus the variant's ConfigMap,
    /// Deployment and PodDisruptionBudget, as the page says to apply them.
    /// </summary>
    private static string[] ScaleOutFiles() =>
    [
        "-f", Path.Combine(s_manifests, "00-serviceaccount.yaml"), "-f", Path.Combine(s_manifests, "10-rbac.yaml"),
        "-f", Path.Combine(s_manifests, "30-secret.yaml"), "-f", Path.Combine(s_manifests, "60-service.yaml"),
        "-f", Path.Combine(s_manifests, "scale-out"),
    ];

    [Fact]
    public async Task ScaleOut_ApplyDryRunServer_EveryObjectAdmitted_NoVolumeClaim()
    {
        var (sim, kubectl) = await StartAsync(output);
        await using var _ = sim;
        Assert.Equal(0, (await kubectl.RunAsync("create", "namespace", "runtimeai")).ExitCode);

        var applied = await kubectl.RunAsync(["apply", "--dry-run=server", .. ScaleOutFiles()]);

        Assert.True(applied.ExitCode == 0, applied.Describe("kubectl apply --dry-run=server (scale-out)"));
        foreach (var obj in new[]
                 {
                     "serviceaccount/runtimeai", "clusterrole.rbac.authorization.k8s.io/runtimeai-drivers", "clusterrolebinding.rbac.authorization.k8s.io/runtimeai-drivers",
                     "configmap/runtimeai-config", "secret/runtimeai-env", "deployment.apps/runtimeai", "poddisruptionbudget.policy/runtimeai", "service/runtimeai",
                 })
        {
            Assert.Contains($"{obj} created (server dry run)", applied.Stdout, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("persistentvolumeclaim", applied.Stdout, StringComparison.Ordinal);
        var listed = await kubectl.RunAsync("get", "deployments,poddisruptionbudgets,configmaps", "-n", "runtimeai", "-o", "name");
        Assert.Equal(0, listed.ExitCode);
        Assert.DoesNotContain("runtimeai", listed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScaleOut_Apply_ReplicasBudgetReadinessAndTheConnectionFromASecret()
    {
        var (sim, kubectl) = await StartAsync(output);
        await using var _ = sim;
        Assert.Equal(0, (await kubectl.RunAsync("create", "namespace", "runtimeai")).ExitCode);
        var applied = await kubectl.RunAsync(["apply", "--server-side", .. ScaleOutFiles()]);
        Assert.True(applied.ExitCode == 0, applied.Describe("kubectl apply --server-side (scale-out)"));

        var spec = await kubectl.RunAsync("get", "deployment", "runtimeai", "-n", "runtimeai", "-o",
            "jsonpath={.spec.replicas} {.spec.strategy.rollingUpdate.maxUnavailable} {.spec.template.spec.containers[0].readinessProbe.httpGet.path} {.spec.template.spec.containers[0].startupProbe.httpGet.path} {.spec.template.spec.containers[0].args}");
        var fields = spec.Stdout.Trim().Split(' ');
        Assert.True(int.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture) >= 2, spec.Stdout);
        Assert.Equal(["0", "/readyz", "/readyz", "[\"serve\"]"], fields[1..]);

        // The state is in PostgreSQL: no claim; the connection string is a file from the Secret, never an argument or env value.
        var volumes = await kubectl.RunAsync("get", "deployment", "runtimeai", "-n", "runtimeai", "-o",
            "jsonpath={range .spec.template.spec.volumes[*]}{.name}={.persistentVolumeClaim.claimName}{.secret.secretName}{.emptyDir}{.configMap.name};{end}");
        Assert.Equal("config=runtimeai-config;postgres=runtimeai-postgres;data={};tmp={};", volumes.Stdout.Trim());
        var env = await kubectl.RunAsync("get", "deployment", "runtimeai", "-n", "runtimeai", "-o", "jsonpath={.spec.template.spec.containers[0].env}");
        Assert.DoesNotContain("POSTGRES", env.Stdout, StringComparison.OrdinalIgnoreCase);
        var config = await kubectl.RunAsync("get", "configmap", "runtimeai-config", "-n", "runtimeai", "-o", "jsonpath={.data.config\\.json}");
        var json = System.Text.Json.Nodes.JsonNode.Parse(config.Stdout)!;
        Assert.Equal("postgres", json["store"]!.GetValue<string>());
        Assert.Equal("/etc/runtimeai-postgres/connection", json["postgres"]!["connection_string_file"]!.GetValue<string>());
        var mount = await kubectl.RunAsync("get", "deployment", "runtimeai", "-n", "runtimeai", "-o",
            "jsonpath={.spec.template.spec.containers[0].volumeMounts[?(@.name==\"postgres\")].mountPath}");
        Assert.Equal("/etc/runtimeai-postgres", mount.Stdout.Trim());

        // The budget selects the Deployment's pods and lets one go at a time.
        var pdb = await kubectl.RunAsync("get", "poddisruptionbudget", "runtimeai", "-n", "runtimeai", "-o",
            "jsonpath={.spec.maxUnavailable} {.spec.selector.matchLabels.app\\.kubernetes\\.io/name}");
        var labels = await kubectl.RunAsync("get", "deployment", "runtimeai", "-n", "runtimeai", "-o",
            "jsonpath={.spec.template.metadata.labels.app\\.kubernetes\\.io/name}");
        Assert.Equal($"1 {labels.Stdout.Trim()}", pdb.Stdout.Trim());
        Assert.Equal("runtimeai", labels.Stdout.Trim());
    }

    [Fact]
    public async Task ApplyDryRunServer_NamespaceMissing_RefusedNamingIt()
    {
        var (sim, kubectl) = await StartAsync(output);
        await using var _ = sim;

        var applied = await kubectl.RunAsync("apply", "--dry-run=server", "-f", Path.Combine(s_manifests, "60-service.yaml"));

        Assert.NotEqual(0, applied.ExitCode);
        Assert.Contains("namespaces \"runtimeai\" not found", applied.Stderr, StringComparison.Ordinal);
    }
}
