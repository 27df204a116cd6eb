using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.KubeSim;

namespace RuntimeAI.Host;

/// <summary>
/// The Kubernetes half of the sandbox: KubeSim (a Kubernetes API simulator, not a cluster) started
/// in-process on an ephemeral loopback port, seeded with two vclusters and two KubeVirt VMs, its
/// kubeconfig written under the data directory so kubectl can look at the same world.
/// </summary>
internal static class SandboxWorld
{
    /// <summary>The seed: namespaces with a quota and a disruption budget, two vclusters, two KubeVirt VMs.</summary>
    public const string Seed = """
        namespaces:
          - vms
        objects:
          - apiVersion: v1
            kind: ResourceQuota
            metadata: {name: vms-quota, namespace: vms}
            spec:
              hard: {requests.cpu: "4", requests.memory: 24Gi, pods: "10"}
          - apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: db-vm
              namespace: vms
              annotations: {runtimeai.io/labels: '{"env":"sandbox","availability":"high"}'}
            spec:
              runStrategy: Always
              instancetype: {kind: VirtualMachineClusterInstancetype, name: u1.medium}
              template:
                metadata: {labels: {kubevirt.io/domain: db-vm}}
                spec:
                  domain: {devices: {}}
          - apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: batch-vm
              namespace: vms
              annotations: {runtimeai.io/labels: '{"env":"sandbox"}'}
            spec:
              runStrategy: Halted
              instancetype: {kind: VirtualMachineClusterInstancetype, name: u1.small}
              template:
                metadata: {labels: {kubevirt.io/domain: batch-vm}}
                spec:
                  domain: {devices: {}}
        vclusters:
          - name: dev
            namespace: vcluster-dev
            namespaces: [apps]
            objects:
              - apiVersion: v1
                kind: Pod
                metadata: {name: web, namespace: apps, labels: {app: web}}
                spec:
                  containers: [{name: nginx, image: "nginx:1.27", resources: {requests: {cpu: 100m, memory: 64Mi}}}]
          - name: staging
            namespace: vcluster-staging
            namespaces: [apps]
        """;

    /// <summary>Starts the simulator, registers it for disposal, and returns the kubeconfig path.</summary>
    public static string Start(IServiceCollection services, string dataDir, TextWriter announce)
    {
        var server = KubeSimServer.StartAsync(new KubeSimOptions
        {
            Port = 0,
            SeedYaml = Seed,
            RunControllersInBackground = true,
            SettleSeed = true,
            PodStartDelay = TimeSpan.FromMilliseconds(500),
            VirtualMachineStartDelay = TimeSpan.FromSeconds(1),
            VirtualMachineStopDelay = TimeSpan.FromMilliseconds(500),
        }, CancellationToken.None).GetAwaiter().GetResult();
        services.AddHostedService(_ => new Lifetime(server));
        var dir = Path.Combine(dataDir, "sandbox");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "kubesim.kubeconfig");
        File.WriteAllText(path, server.CreateKubeconfigYaml());
        announce.WriteLine($"runtimeai: SANDBOX backend: KubeSim at {server.BaseAddress} — a Kubernetes API simulator, not a cluster (no container or VM runs) — with vclusters dev, staging and KubeVirt VMs db-vm, batch-vm. kubectl: KUBECONFIG={path}. Use --kubeconfig FILE for a real cluster.");
        return path;
    }

    /// <summary>Stops the simulator when the host stops.</summary>
    private sealed class Lifetime(KubeSimServer server) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken) => await server.DisposeAsync();
    }
}
