using System.CommandLine;
using System.Net.Sockets;
using RuntimeAI.KubeSim;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai kubesim</c>: runs KubeSim, the Kubernetes API simulator, on loopback and writes a
/// kubeconfig for it, so kubectl and the Kubernetes backends can be tried without a cluster.
/// </summary>
internal static class KubeSimCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0 picks a free one).", DefaultValueFactory = _ => 0 };
        var kubeconfigOut = new Option<string?>("--kubeconfig-out") { Description = "Write a kubeconfig for the simulator to this file (else print it to stdout)." };
        var seed = new Option<string?>("--seed") { Description = "YAML seed file describing the starting world (see samples/kubesim-seed.yaml)." };
        var command = new Command("kubesim", "Run KubeSim, a Kubernetes API simulator (not a cluster), on 127.0.0.1.") { port, kubeconfigOut, seed };
        command.SetAction(async (parse, ct) =>
        {
            var seedFile = parse.GetValue(seed);
            if (seedFile is not null && !File.Exists(seedFile))
            {
                throw new CliException($"seed file '{seedFile}' does not exist; pass --seed with a YAML file such as samples/kubesim-seed.yaml", 2);
            }

            KubeSimServer server;
            try
            {
                server = await KubeSimServer.StartAsync(new KubeSimOptions { Port = parse.GetValue(port), SeedFile = seedFile }, ct);
            }
            catch (IOException ex) when (ex.InnerException is SocketException || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"port {parse.GetValue(port)} is already in use; pass --port 0 or another free port", 1);
            }

            await using (server)
            {
                var kubeconfig = server.CreateKubeconfigYaml();
                if (parse.GetValue(kubeconfigOut) is { } path)
                {
                    await File.WriteAllTextAsync(path, kubeconfig, ct);
                    await Console.Error.WriteLineAsync($"runtimeai: KubeSim (Kubernetes API simulator, not a real cluster) at {server.BaseAddress}; kubeconfig written to {path} (try: KUBECONFIG={path} kubectl get nodes)");
                }
                else
                {
                    Console.Out.Write(kubeconfig);
                    await Console.Error.WriteLineAsync($"runtimeai: KubeSim (Kubernetes API simulator, not a real cluster) at {server.BaseAddress}");
                }

                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return 0;
        });
        return command;
    }
}
