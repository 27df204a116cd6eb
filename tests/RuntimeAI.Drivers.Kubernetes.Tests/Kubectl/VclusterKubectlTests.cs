using System.Diagnostics;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Kubernetes.VirtualClusters;

namespace RuntimeAI.Drivers.Kubernetes.Tests.Kubectl;

/// <summary>
/// Every step of the vCluster driver, checked with the real kubectl against the same simulator: what
/// a vcluster CLI user looking at the host cluster would see after each call.
/// </summary>
public sealed class VclusterKubectlTests(ITestOutputHelper output)
{
    private async Task<string> KubectlAsync(SimCluster sim, string home, params string[] args)
    {
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        Assert.SkipWhen(kubectl is null, "kubectl is not on PATH; install it (pkgs.k8s.io) or run scripts/kubectl-tier.sh, which downloads it");
        var start = new ProcessStartInfo(kubectl!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KUBECONFIG"] = sim.KubeconfigPath;
        start.Environment["HOME"] = home;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var text = (await stdout).Trim();
        output.WriteLine($"$ kubectl {string.Join(' ', args)}   (exit {process.ExitCode})");
        output.WriteLine("    " + text.Replace("\n", "\n    ", StringComparison.Ordinal));
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return text;
    }

    [Fact]
    public async Task EveryLifecycleStep_IsWhatKubectlShows()
    {
        await using var sim = await SimCluster.StartAsync();
        var home = Directory.CreateTempSubdirectory("kubectl-home-").FullName;
        var driver = new VclusterDriver(sim.Cluster, TimeProvider.System);
        string Sts(string path) => $"jsonpath={path}";

        var created = await driver.CreateAsync("rt_k", new RuntimeCreateRequest { Name = "kc", Type = RuntimeType.Vcluster, Spec = new RuntimeSpec { Size = "micro" } }, TestContext.Current.CancellationToken);
        Assert.Equal("1 1 1Gi", await KubectlAsync(sim, home, "get", "statefulset", "kc", "-n", "vcluster-kc", "-o", Sts("{.spec.replicas} {.status.readyReplicas} {.spec.template.spec.containers[0].resources.requests.memory}")));
        var objects = await KubectlAsync(sim, home, "get", "statefulset,service,secret,serviceaccount,pvc", "-n", "vcluster-kc", "-l", "release=kc", "-o", "name");
        foreach (var expected in new[] { "statefulset.apps/kc", "service/kc", "service/kc-headless", "secret/vc-config-kc", "serviceaccount/vc-kc" })
        {
            Assert.Contains(expected, objects, StringComparison.Ordinal);
        }

        await driver.StopAsync(created.BackendRef, new StopOptions(false, TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);
        Assert.Equal("0 true 1", await KubectlAsync(sim, home, "get", "statefulset", "kc", "-n", "vcluster-kc", "-o", Sts(@"{.spec.replicas} {.metadata.annotations.loft\.sh/paused} {.metadata.annotations.loft\.sh/paused-replicas}")));
        Assert.Equal(string.Empty, await KubectlAsync(sim, home, "get", "pods", "-n", "vcluster-kc", "-o", "name"));
        Assert.Equal("persistentvolumeclaim/data-kc-0", await KubectlAsync(sim, home, "get", "pvc", "-n", "vcluster-kc", "-o", "name"));

        await driver.StartAsync(created.BackendRef, TestContext.Current.CancellationToken);
        Assert.Equal("1 1 ", await KubectlAsync(sim, home, "get", "statefulset", "kc", "-n", "vcluster-kc", "-o", Sts(@"{.spec.replicas} {.status.readyReplicas} {.metadata.annotations.loft\.sh/paused}")) + " ");

        await driver.RestartAsync(created.BackendRef, TestContext.Current.CancellationToken);
        Assert.NotEqual(string.Empty, await KubectlAsync(sim, home, "get", "statefulset", "kc", "-n", "vcluster-kc", "-o", Sts(@"{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}")));
        Assert.Contains("roll out complete", await KubectlAsync(sim, home, "rollout", "status", "statefulset/kc", "-n", "vcluster-kc", "--timeout=30s"), StringComparison.Ordinal);

        await driver.ScaleAsync(created.BackendRef, new ScaleTarget(2, 8192), TestContext.Current.CancellationToken);
        Assert.Equal("3 3 2 8Gi", await KubectlAsync(sim, home, "get", "statefulset", "kc", "-n", "vcluster-kc", "-o", Sts("{.spec.replicas} {.status.readyReplicas} {.spec.template.spec.containers[0].resources.requests.cpu} {.spec.template.spec.containers[0].resources.limits.memory}")));

        await driver.SnapshotAsync(created.BackendRef, "nightly", null, TestContext.Current.CancellationToken);
        Assert.Contains("Completed", await KubectlAsync(sim, home, "get", "configmap", "kc-snapshot-nightly", "-n", "vcluster-kc", "-o", Sts("{.data.snapshotRequest}")), StringComparison.Ordinal);
        Assert.Equal("secret/kc-snapshot-nightly", await KubectlAsync(sim, home, "get", "secret", "-n", "vcluster-kc", "-l", "vcluster.loft.sh/snapshot-request=true", "-o", "name"));

        await driver.DeleteAsync(created.BackendRef, new DeleteOptions(KeepDisk: true), TestContext.Current.CancellationToken);
        Assert.Equal(string.Empty, await KubectlAsync(sim, home, "get", "statefulset,service,configmap", "-n", "vcluster-kc", "-l", "release=kc", "-o", "name"));
        Assert.Contains("persistentvolumeclaim/data-kc-0", await KubectlAsync(sim, home, "get", "pvc", "-n", "vcluster-kc", "-o", "name"), StringComparison.Ordinal);
    }
}
