using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RuntimeAI.KubeSim;
using YamlDotNet.RepresentationModel;

namespace RuntimeAI.Packaging.Tests;

/// <summary>
/// The server configuration in deploy/kubernetes/20-configmap.yaml, run by the packaged runtimeai as the
/// pod would: on all interfaces, which it allows only with authentication. The in-cluster kubeconfig
/// reads a service-account token that exists only in a pod, so the test points it at KubeSim.
/// </summary>
public sealed partial class DeployConfigTests(PackageDirectory package)
{
    private static JsonObject ConfigMapConfig()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "kubernetes", "20-configmap.yaml"))));
        var data = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["data"];
        return JsonNode.Parse(((YamlScalarNode)data["config.json"]).Value!)!.AsObject();
    }

    private static async Task<(Process Server, StringBuilder Stderr, Uri? Url)> StartAsync(string executable, JsonObject config)
    {
        var dir = RepoPaths.NewTempDir("serve");
        var configPath = Path.Combine(dir, "config.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString());
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[] { "serve", "--config", configPath, "--data-dir", Path.Combine(dir, "data"), "--urls", "http://0.0.0.0:0" })
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        var url = new TaskCompletionSource<Uri?>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                url.TrySetResult(null);
                return;
            }

            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }

            if (Listening().Match(e.Data) is { Success: true } m)
            {
                url.TrySetResult(new Uri($"http://127.0.0.1:{m.Groups[1].Value}/"));
            }
        };
        process.BeginErrorReadLine();
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var done = await Task.WhenAny(url.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        return (process, stderr, done == url.Task ? await url.Task : null);
    }

    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    [Fact]
    public async Task ConfigMapConfig_AllInterfacesWithApiKeys_ProbesAnswerAndApiNeedsAKey()
    {
        var executable = await InstalledTool.PathAsync(package);
        await using var sim = await KubeSimServer.StartAsync(new KubeSimOptions { Port = 0 }, TestContext.Current.CancellationToken);
        var kubeconfig = Path.Combine(RepoPaths.NewTempDir("kubesim"), "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, sim.CreateKubeconfigYaml("in-cluster"), TestContext.Current.CancellationToken);
        var config = ConfigMapConfig();
        Assert.Equal("http://0.0.0.0:7070", config["urls"]!.GetValue<string>());
        config["kubeconfig"] = new JsonArray(kubeconfig + "#in-cluster");

        var (server, stderr, url) = await StartAsync(executable, config);
        try
        {
            Assert.True(url is not null, "the server did not listen; stderr:\n" + stderr);
            using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };

            // The probes as the Deployment sends them (Host: localhost).
            foreach (var probe in new[] { "/healthz", "/readyz" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, probe) { Headers = { Host = "localhost" } };
                using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{probe}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
            }

            // A client through the Service's DNS name is admitted; another name is refused (DNS rebinding).
            using (var viaService = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Headers = { Host = "runtimeai.runtimeai.svc:7070" } })
            {
                Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(viaService, TestContext.Current.CancellationToken)).StatusCode);
            }

            using (var foreign = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Headers = { Host = "evil.example" } })
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(foreign, TestContext.Current.CancellationToken)).StatusCode);
            }

            Assert.Equal(HttpStatusCode.Unauthorized, (await GetRuntimesAsync(http, null)).StatusCode);

            var key = await Processes.RunAsync(executable, ["keys", "create", "--name", "probe", "--role", "viewer", "--data-dir", DataDirOf(stderr)]);
            Assert.True(key.ExitCode == 0, key.Describe("runtimeai keys create"));
            using var listed = await GetRuntimesAsync(http, key.Stdout.Trim());
            var body = await listed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(listed.StatusCode == HttpStatusCode.OK, $"{(int)listed.StatusCode} {body}");
            Assert.Contains("\"items\"", body, StringComparison.Ordinal);
        }
        finally
        {
            await StopAsync(server);
        }
    }

    [Fact]
    public async Task ConfigMapConfig_WithoutAuth_ServerRefusesToListenOnAllInterfaces()
    {
        var executable = await InstalledTool.PathAsync(package);
        var config = ConfigMapConfig();
        config.Remove("auth");
        config.Remove("kubeconfig");

        var (server, stderr, url) = await StartAsync(executable, config);
        try
        {
            Assert.Null(url);
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(2, server.ExitCode);
            Assert.Contains("refusing to listen on http://0.0.0.0:0 without authentication", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await StopAsync(server);
        }
    }

    private static string DataDirOf(StringBuilder stderr)
    {
        lock (stderr)
        {
            return DataDir().Match(stderr.ToString()).Groups[1].Value;
        }
    }

    private static Task<HttpResponseMessage> GetRuntimesAsync(HttpClient http, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/runtimes") { Headers = { Host = "localhost" } };
        if (key is not null)
        {
            request.Headers.Add("Authorization", "Bearer " + key);
        }

        return http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    [GeneratedRegex(@"listening on http://[^:]+:(\d+)/mcp")]
    private static partial Regex Listening();

    [GeneratedRegex(@"; data ([^)\s]+)\)")]
    private static partial Regex DataDir();
}
