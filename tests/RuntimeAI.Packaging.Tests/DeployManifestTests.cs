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
