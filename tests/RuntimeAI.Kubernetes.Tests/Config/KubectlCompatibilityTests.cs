using System.Diagnostics;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Tests.Infrastructure;

namespace RuntimeAI.Kubernetes.Tests.Config;

/// <summary>Builds kubeconfig files with the real kubectl and checks we read and merge them as it does.</summary>
public sealed class KubectlCompatibilityTests
{
    [Fact]
    public void LoadDefault_FilesWrittenByKubectl_MergeAsKubectlViews()
    {
        Assert.SkipUnless(KubectlAvailable(), "kubectl is not on PATH (scripts/deps.sh installs it); without it there is nothing to compare with.");

        using var dir = new TempDirectory();
        var first = Path.Combine(dir.Path, "first");
        var second = Path.Combine(dir.Path, "second");
        Kubectl(first, "config", "set-cluster", "shared", "--server=https://first.example:6443", "--insecure-skip-tls-verify=true");
        Kubectl(first, "config", "set-credentials", "alice", "--token=alice-token");
        Kubectl(first, "config", "set-context", "a", "--cluster=shared", "--user=alice", "--namespace=team-a");
        Kubectl(second, "config", "set-cluster", "shared", "--server=https://second.example:6443");
        Kubectl(second, "config", "set-cluster", "other", "--server=https://other.example:6443", "--tls-server-name=api.other");
        Kubectl(second, "config", "set-context", "b", "--cluster=other", "--user=alice");
        Kubectl(second, "config", "use-context", "b");
        var merged = string.Join(Path.PathSeparator, first, second);

        var ours = KubeConfigLoader.LoadDefault(getEnvironmentVariable: k => k == "KUBECONFIG" ? merged : null)!;
        var theirs = KubeConfigLoader.Parse(Kubectl(merged, "config", "view", "--raw"));

        Assert.Equal(theirs.CurrentContext, ours.CurrentContext);
        Assert.Equal("b", ours.CurrentContext);
        Assert.Equal(theirs.Clusters.Keys.Order(), ours.Clusters.Keys.Order());
        foreach (var (name, cluster) in theirs.Clusters)
        {
            Assert.Equal(cluster, ours.Clusters[name]);
        }

        Assert.Equal(theirs.Contexts["a"], ours.Contexts["a"]);
        Assert.Equal("https://first.example:6443", ours.Clusters["shared"].Server);
        Assert.Equal("api.other", ours.Clusters["other"].TlsServerName);
        var connection = KubeConfigLoader.Resolve(ours, "a");
        Assert.Equal("alice-token", connection.Token);
        Assert.Equal("team-a", connection.Namespace);
    }

    private static bool KubectlAvailable()
    {
        try
        {
            Kubectl(null, "version", "--client");
            return true;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static string Kubectl(string? kubeconfig, params string[] args)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["KUBECONFIG"] = kubeconfig ?? "/nonexistent";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed: {error}");
        return output;
    }
}
