using System.Diagnostics;

namespace RuntimeAI.Host.Tests;

/// <summary><c>runtimeai kubesim</c> as the README shows it, checked with the real kubectl.</summary>
public sealed class KubeSimCommandTests
{
    [Fact]
    public async Task KubeSim_WithSeed_KubectlSeesTheSeededWorld()
    {
        var dir = TestPaths.NewDataDir();
        var kubeconfig = Path.Combine(dir, "kubeconfig");
        var info = new ProcessStartInfo(TestPaths.Executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "kubesim", "--port", "0", "--kubeconfig-out", kubeconfig, "--seed", Path.Combine(TestPaths.RepoRoot, "samples", "kubesim-seed.yaml") })
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        try
        {
            var banner = await process.StandardError.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.Contains("Kubernetes API simulator, not a real cluster", banner, StringComparison.Ordinal);

            var kubectl = new ProcessStartInfo("kubectl", ["get", "namespaces", "-o", "name"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            kubectl.Environment["KUBECONFIG"] = kubeconfig;
            using var run = Process.Start(kubectl)!;
            var output = await run.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await run.WaitForExitAsync(TestContext.Current.CancellationToken);

            Assert.Equal(0, run.ExitCode);
            Assert.Contains("namespace/default", output, StringComparison.Ordinal);
            Assert.Contains("namespace/team-a", output, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task KubeSim_MissingSeed_ExitsTwoNamingTheFile()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync("kubesim", "--seed", "/nonexistent/seed.yaml");

        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/seed.yaml", stderr, StringComparison.Ordinal);
    }
}
