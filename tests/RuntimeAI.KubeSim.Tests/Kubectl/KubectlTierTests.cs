using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Tests.Kubectl;

/// <summary>
/// The kubectl tier: the real kubectl, as a child process, against the in-process simulator. Each test prints the
/// commands it ran and what it compared, so <c>scripts/kubectl-tier.sh</c> shows exactly what was checked.
/// </summary>
public sealed class KubectlTierTests(ITestOutputHelper output)
{
    private const string DeploymentYaml = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: nginx
                image: nginx:1.27
                resources:
                  requests: {cpu: 100m, memory: 64Mi}
        """;

    private async Task<(SimHost Sim, KubectlRunner Kubectl)> StartAsync(string? seed = null)
    {
        var sim = await SimHost.StartAsync(seed);
        return (sim, new KubectlRunner(sim.Server.CreateKubeconfigYaml(), output));
    }

    private static void AssertHeader(KubectlResult r, params string[] columns)
    {
        Assert.Equal(columns, KubectlResult.Columns(r.Lines[0]));
    }

    [Fact]
    public async Task GetNodes_DefaultWorld_PrintsNodeTable()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;

        var r = await kubectl.RunOkAsync("get nodes");

        AssertHeader(r, "NAME", "STATUS", "ROLES", "AGE", "VERSION");
        Assert.Equal(new[] { "kubesim-node-1", "Ready", "<none>", "0s", "v1.32.0" }, KubectlResult.Columns(r.Lines[1]));
        Assert.Equal(4, r.Lines.Length);
        kubectl.Log("checked: header NAME STATUS ROLES AGE VERSION and three Ready nodes");
    }

    [Fact]
    public async Task Version_Server_ReportsSimulatorBuild()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;

        var r = await kubectl.RunOkAsync("version -o json");

        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("v1.32.0+kubesim", json["serverVersion"]!["gitVersion"]!.GetValue<string>());
        kubectl.Log("checked: serverVersion.gitVersion = v1.32.0+kubesim");
    }

    [Fact]
    public async Task ApplyFile_Deployment_CreatedUnchangedConfiguredAndPodsRun()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        var file = kubectl.WriteFile("web.yaml", DeploymentYaml);

        Assert.Equal("deployment.apps/web created", (await kubectl.RunOkAsync($"apply -f {file}")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("deployment.apps/web unchanged", (await kubectl.RunOkAsync($"apply -f {file}")).Stdout.Trim());
        kubectl.WriteFile("web.yaml", DeploymentYaml.Replace("replicas: 2", "replicas: 3", StringComparison.Ordinal));
        Assert.Equal("deployment.apps/web configured", (await kubectl.RunOkAsync($"apply -f {file}")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var deploy = await kubectl.RunOkAsync("get deployment web");
        AssertHeader(deploy, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE");
        Assert.Equal(new[] { "web", "3/3", "3", "3" }, KubectlResult.Columns(deploy.Lines[1])[..4]);
        var pods = await kubectl.RunOkAsync("get pods -l app=web");
        AssertHeader(pods, "NAME", "READY", "STATUS", "RESTARTS", "AGE");
        Assert.Equal(4, pods.Lines.Length);
        Assert.All(pods.Lines.Skip(1), l => Assert.Equal(new[] { "1/1", "Running", "0" }, KubectlResult.Columns(l)[1..4]));
        kubectl.Log("checked: apply created/unchanged/configured; deployment READY 3/3; three pods 1/1 Running");
    }

    [Fact]
    public async Task GetOutput_JsonYamlAndJsonPath_CarryObjectFields()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync($"apply -f {kubectl.WriteFile("web.yaml", DeploymentYaml)}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var json = JsonNode.Parse((await kubectl.RunOkAsync("get deployment web -o json")).Stdout)!;
        var yaml = (await kubectl.RunOkAsync("get deployment web -o yaml")).Stdout;
        var path = (await kubectl.RunOkAsync("get pods -o jsonpath={.items[*].status.phase}")).Stdout;
        var list = JsonNode.Parse((await kubectl.RunOkAsync("get pods -o json")).Stdout)!;

        Assert.Equal("Deployment", json["kind"]!.GetValue<string>());
        Assert.Equal(2, json["status"]!["readyReplicas"]!.GetValue<int>());
        Assert.Equal("1", json["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>());
        Assert.Contains("kind: Deployment", yaml);
        Assert.Contains("  replicas: 2", yaml);
        Assert.Equal("Running Running", path);
        Assert.Equal("List", list["kind"]!.GetValue<string>());
        Assert.Equal(2, list["items"]!.AsArray().Count);
        kubectl.Log("checked: -o json kind/readyReplicas/revision, -o yaml, -o jsonpath phases, list of 2 pods");
    }

    [Fact]
    public async Task Scale_Deployment_ChangesReplicasAndPods()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync($"apply -f {kubectl.WriteFile("web.yaml", DeploymentYaml)}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("deployment.apps/web scaled", (await kubectl.RunOkAsync("scale deployment web --replicas=4")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var pods = await kubectl.RunOkAsync("get pods --no-headers");
        Assert.Equal(4, pods.Lines.Length);
        var rs = await kubectl.RunOkAsync("get rs");
        AssertHeader(rs, "NAME", "DESIRED", "CURRENT", "READY", "AGE");
        Assert.Equal(new[] { "4", "4", "4" }, KubectlResult.Columns(rs.Lines[1])[1..4]);
        kubectl.Log("checked: scale message, 4 pods, ReplicaSet DESIRED/CURRENT/READY 4");
    }

    [Fact]
    public async Task Patch_StrategicMergeJson_RollsOutNewReplicaSet()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync($"apply -f {kubectl.WriteFile("web.yaml", DeploymentYaml)}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var strategic = await kubectl.RunOkAsync("""patch deployment web -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}'""");
        var merge = await kubectl.RunOkAsync("""patch deployment web --type=merge -p '{"metadata":{"annotations":{"owner":"team-a"}}}'""");
        var jsonPatch = await kubectl.RunOkAsync("""patch deployment web --type=json -p '[{"op":"add","path":"/metadata/labels/tier","value":"web"}]'""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("deployment.apps/web patched", strategic.Stdout.Trim());
        Assert.Equal("deployment.apps/web patched", merge.Stdout.Trim());
        Assert.Equal("deployment.apps/web patched", jsonPatch.Stdout.Trim());
        var images = await kubectl.RunOkAsync("get pods -o jsonpath={.items[*].spec.containers[0].image}");
        Assert.Equal("nginx:1.28 nginx:1.28", images.Stdout);
        var rollout = await kubectl.RunOkAsync("rollout status deployment/web --timeout=20s");
        Assert.Contains("successfully rolled out", rollout.Stdout);
        var labels = await kubectl.RunOkAsync("get deployment web -o jsonpath={.metadata.labels.tier}/{.metadata.annotations.owner}");
        Assert.Equal("web/team-a", labels.Stdout);
        kubectl.Log("checked: strategic, merge and json patches; pods run the new image; rollout status succeeds");
    }

    [Fact]
    public async Task Label_Pod_SelectableByNewLabel()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));

        Assert.Equal("pod/p1 labeled", (await kubectl.RunOkAsync("label pod p1 tier=frontend")).Stdout.Trim());
        var overwrite = await kubectl.RunAsync("label pod p1 tier=backend");
        Assert.Equal("pod/p1 labeled", (await kubectl.RunOkAsync("label pod p1 tier=backend --overwrite")).Stdout.Trim());
        var r = await kubectl.RunOkAsync("get pods -l tier=backend --show-labels");

        Assert.NotEqual(0, overwrite.ExitCode);
        Assert.Contains("already has a value", overwrite.Stderr);
        Assert.Equal("tier=backend", KubectlResult.Columns(r.Lines[1])[^1]);
        kubectl.Log("checked: label added, refused without --overwrite, replaced with it, selectable with -l");
    }

    [Fact]
    public async Task Delete_PodAndMissing_DeletesAndReportsNotFound()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1"));

        var deleted = await kubectl.RunOkAsync("delete pod p1");
        var missing = await kubectl.RunAsync("get pod p1");

        Assert.Equal("pod \"p1\" deleted", deleted.Stdout.Trim());
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("Error from server (NotFound): pods \"p1\" not found", missing.Stderr.Trim());
        kubectl.Log("checked: delete message; then get exits 1 with the NotFound Status message");
    }

    [Fact]
    public async Task CreateFile_Twice_SecondFailsAlreadyExists()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        var file = kubectl.WriteFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n");

        var first = await kubectl.RunOkAsync($"create -f {file}");
        var second = await kubectl.RunAsync($"create -f {file}");
        var deleted = await kubectl.RunOkAsync($"delete -f {file}");

        Assert.Equal("configmap/settings created", first.Stdout.Trim());
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("Error from server (AlreadyExists)", second.Stderr);
        Assert.Equal("configmap \"settings\" deleted", deleted.Stdout.Trim());
        kubectl.Log("checked: create -f, AlreadyExists on repeat (exit 1), delete -f");
    }

    [Fact]
    public async Task ApplyServerSide_ConfigMap_CreatesAndUpdates()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        var file = kubectl.WriteFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n");

        var first = await kubectl.RunOkAsync($"apply --server-side -f {file}");
        kubectl.WriteFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: slow\n");
        await kubectl.RunOkAsync($"apply --server-side -f {file}");
        var value = await kubectl.RunOkAsync("get configmap settings -o jsonpath={.data.mode}");

        Assert.Equal("configmap/settings serverside-applied", first.Stdout.Trim());
        Assert.Equal("slow", value.Stdout);
        kubectl.Log("checked: apply --server-side creates, then updates data.mode");
    }

    [Fact]
    public async Task Logs_RunningPod_PrintsSyntheticLines()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await sim.CreateAsync("api/v1/namespaces/default/pods", """{"metadata":{"name":"web"},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}""");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(12));

        var all = await kubectl.RunOkAsync("logs web");
        var tail = await kubectl.RunOkAsync("logs web --tail=1");

        Assert.Contains("Configuration complete; ready for start up", all.Lines[0]);
        Assert.Equal(6, all.Lines.Length);
        Assert.Single(tail.Lines);
        Assert.Matches("^10\\.244\\.\\d+\\.\\d+ - - \\[.*\\] \"GET /\\S* HTTP/1.1\" \\d{3} \\d+", tail.Lines[0]);
        kubectl.Log("checked: nginx banner then access-log lines, one per 5s of simulated time; --tail=1");
    }

    [Fact]
    public async Task GetWatch_ScaleUp_StreamsNewPods()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync($"apply -f {kubectl.WriteFile("web.yaml", DeploymentYaml)}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        await using (var watch = kubectl.Start("get pods -w"))
        {
            await watch.WaitForAsync(o => o.Split('\n').Count(l => l.Contains("Running", StringComparison.Ordinal)) >= 2, "the two running pods");
            await sim.PatchAsync("apis/apps/v1/namespaces/default/deployments/web/scale", """{"spec":{"replicas":3}}""", "application/merge-patch+json");
            await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
            await watch.WaitForAsync(o => o.Split('\n').Count(l => l.Contains("Running", StringComparison.Ordinal)) >= 3 && o.Contains("ContainerCreating", StringComparison.Ordinal), "a new pod going through ContainerCreating to Running");
            Assert.Equal(1, watch.Output.Split('\n').Count(l => l.StartsWith("NAME", StringComparison.Ordinal)));
        }

        kubectl.Log("checked: get -w printed the header once, the existing pods, then the new pod's transitions");
    }

    [Fact]
    public async Task GetAllNamespacesAndEvents_ShowNamespaceColumnAndReasons()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync("create namespace team-a --dry-run=client -o yaml");
        await sim.CreateAsync("api/v1/namespaces", """{"metadata":{"name":"team-a"}}""");
        await sim.CreateAsync("api/v1/namespaces/team-a/pods", SimHost.Pod("p1"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var pods = await kubectl.RunOkAsync("get pods -A");
        var events = await kubectl.RunOkAsync("get events -n team-a");
        var ns = await kubectl.RunOkAsync("get ns team-a");

        AssertHeader(pods, "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE");
        Assert.Equal(new[] { "team-a", "p1", "1/1", "Running" }, KubectlResult.Columns(pods.Lines[1])[..4]);
        AssertHeader(events, "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE");
        Assert.Contains(events.Lines, l => l.Contains("Scheduled", StringComparison.Ordinal) && l.Contains("pod/p1", StringComparison.Ordinal));
        Assert.Contains(events.Lines, l => l.Contains("Started", StringComparison.Ordinal));
        Assert.Equal(new[] { "team-a", "Active" }, KubectlResult.Columns(ns.Lines[1])[..2]);
        kubectl.Log("checked: -A adds NAMESPACE; events Scheduled/Started for the pod; namespace Active");
    }

    [Fact]
    public async Task GetVirtualMachines_Running_ShowsKubeVirtColumns()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        var file = kubectl.WriteFile("vm.yaml", """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: vm1
            spec:
              runStrategy: Always
              instancetype: {name: u1.small}
              template:
                spec:
                  domain: {devices: {}}
            """);

        await kubectl.RunOkAsync($"apply -f {file}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var vms = await kubectl.RunOkAsync("get vm");
        var vmis = await kubectl.RunOkAsync("get vmi");
        var types = await kubectl.RunOkAsync("get virtualmachineclusterinstancetypes -o name");

        AssertHeader(vms, "NAME", "AGE", "STATUS", "READY");
        Assert.Equal(new[] { "Running", "True" }, KubectlResult.Columns(vms.Lines[1])[2..]);
        AssertHeader(vmis, "NAME", "AGE", "PHASE", "IP", "NODENAME", "READY");
        Assert.Equal("Running", KubectlResult.Columns(vmis.Lines[1])[2]);
        Assert.Contains("virtualmachineclusterinstancetype.instancetype.kubevirt.io/u1.2xlarge", types.Lines);
        Assert.Equal(7, types.Lines.Length);
        kubectl.Log("checked: VM STATUS Running READY True, VMI PHASE Running, seven u1 instancetypes");
    }

    [Fact]
    public async Task TopPods_RunningPods_ReportUsage()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await sim.CreateAsync("api/v1/namespaces/default/pods", SimHost.Pod("p1", cpu: "500m"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var pods = await kubectl.RunOkAsync("top pod");
        var nodes = await kubectl.RunOkAsync("top node");

        AssertHeader(pods, "NAME", "CPU(cores)", "MEMORY(bytes)");
        Assert.Matches("^p1\\s+\\d+m\\s+\\d+Mi", pods.Lines[1]);
        Assert.Equal(4, nodes.Lines.Length);
        kubectl.Log("checked: kubectl top pod/node read metrics.k8s.io");
    }

    [Fact]
    public async Task ApiResources_Discovery_ListsSimulatedKinds()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;

        var r = await kubectl.RunOkAsync("api-resources -o name");

        foreach (var name in new[] { "pods", "deployments.apps", "virtualmachines.kubevirt.io", "virtualmachinesnapshots.snapshot.kubevirt.io", "poddisruptionbudgets.policy", "pods.metrics.k8s.io" })
        {
            Assert.Contains(name, r.Lines);
        }

        kubectl.Log("checked: api-resources lists core, apps, policy, KubeVirt and metrics resources");
    }

    [Fact]
    public async Task Cordon_Node_MarksUnschedulable()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;

        Assert.Equal("node/kubesim-node-2 cordoned", (await kubectl.RunOkAsync("cordon kubesim-node-2")).Stdout.Trim());
        var r = await kubectl.RunOkAsync("get node kubesim-node-2");

        Assert.Equal("Ready,SchedulingDisabled", KubectlResult.Columns(r.Lines[1])[1]);
        kubectl.Log("checked: cordon patches spec.unschedulable; STATUS Ready,SchedulingDisabled");
    }

    [Fact]
    public async Task CreateGenerators_ProtobufBodies_CreateObjects()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;

        Assert.Equal("namespace/team-b created", (await kubectl.RunOkAsync("create namespace team-b")).Stdout.Trim());
        Assert.Equal("configmap/cfg created", (await kubectl.RunOkAsync("create configmap cfg -n team-b --from-literal=a=1 --from-literal=b=2")).Stdout.Trim());
        Assert.Equal("secret/pw created", (await kubectl.RunOkAsync("create secret generic pw -n team-b --from-literal=password=hunter2")).Stdout.Trim());
        Assert.Equal("deployment.apps/cache created", (await kubectl.RunOkAsync("create deployment cache -n team-b --image=redis:7 --replicas=2 --port=6379")).Stdout.Trim());
        Assert.Equal("service/cache created", (await kubectl.RunOkAsync("create service clusterip cache -n team-b --tcp=6379:6379")).Stdout.Trim());
        Assert.Equal("resourcequota/q created", (await kubectl.RunOkAsync("create quota q -n team-b --hard=pods=10")).Stdout.Trim());
        Assert.Equal("poddisruptionbudget.policy/cache created", (await kubectl.RunOkAsync("create pdb cache -n team-b --selector=app=cache --min-available=1")).Stdout.Trim());
        Assert.Equal("serviceaccount/robot created", (await kubectl.RunOkAsync("create serviceaccount robot -n team-b")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("""{"a":"1","b":"2"}""", (await kubectl.RunOkAsync("get configmap cfg -n team-b -o jsonpath={.data}")).Stdout);
        Assert.Equal("aHVudGVyMg==", (await kubectl.RunOkAsync("get secret pw -n team-b -o jsonpath={.data.password}")).Stdout);
        var deploy = await kubectl.RunOkAsync("get deployment cache -n team-b -o wide");
        Assert.Equal(new[] { "cache", "2/2", "2", "2" }, KubectlResult.Columns(deploy.Lines[1])[..4]);
        Assert.Equal("6379", (await kubectl.RunOkAsync("get deployment cache -n team-b -o jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}")).Stdout);
        var endpoints = await kubectl.RunOkAsync("get endpoints cache -n team-b");
        Assert.Equal(2, KubectlResult.Columns(endpoints.Lines[1])[1].Split(',').Length);
        var quota = await kubectl.RunOkAsync("get quota q -n team-b");
        Assert.Contains("pods: 2/10", quota.Lines[1]);
        kubectl.Log("checked: kubectl's protobuf generators (namespace, configmap, secret, deployment, service, quota, pdb, serviceaccount) create what they say");
    }

    [Fact]
    public async Task Drain_NodeWithBudget_EvictsThroughPodDisruptionBudget()
    {
        var (sim, kubectl) = await StartAsync("""
            nodes:
              - {name: only-1, cpu: "8", memory: 32Gi}
              - {name: only-2, cpu: "8", memory: 32Gi}
            """);
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync($"apply -f {kubectl.WriteFile("web.yaml", DeploymentYaml)}");
        await kubectl.RunOkAsync("create pdb web --selector=app=web --max-unavailable=1");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var node = (await kubectl.RunOkAsync("get pods -o jsonpath={.items[0].spec.nodeName}")).Stdout;

        var drain = kubectl.Start($"drain {node} --ignore-daemonsets --timeout=60s");
        await using (drain)
        {
            for (var i = 0; i < 400 && !drain.Output.Contains("drained", StringComparison.Ordinal); i++)
            {
                await sim.AdvanceAsync(TimeSpan.FromSeconds(1));
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            await drain.WaitForAsync(o => o.Contains($"node/{node} drained", StringComparison.Ordinal), "the node drained");
            Assert.Contains("evicted", drain.Output);
        }

        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var nodes = (await kubectl.RunOkAsync("get pods -o jsonpath={.items[*].spec.nodeName}")).Stdout.Split(' ');
        Assert.DoesNotContain(node, nodes);
        Assert.Equal(2, nodes.Length);
        kubectl.Log("checked: drain cordons, evicts through the eviction subresource (protobuf) and the pods come back on the other node");
    }

    [Fact]
    public async Task Describe_PodAndDeployment_ShowsStatusAndEvents()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync($"apply -f {kubectl.WriteFile("web.yaml", DeploymentYaml)}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var pod = (await kubectl.RunOkAsync("get pods -o jsonpath={.items[0].metadata.name}")).Stdout;

        var describePod = (await kubectl.RunOkAsync($"describe pod {pod}")).Stdout;
        var describeDeploy = (await kubectl.RunOkAsync("describe deployment web")).Stdout;

        Assert.Matches("Status:\\s+Running", describePod);
        Assert.Matches("Controlled By:\\s+ReplicaSet/web-", describePod);
        Assert.Matches("Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned default/" + pod, describePod);
        Assert.Matches("Normal\\s+Started\\s+\\S+\\s+kubelet\\s+Started container nginx", describePod);
        Assert.Matches("Available\\s+True\\s+MinimumReplicasAvailable", describeDeploy);
        Assert.Matches("NewReplicaSet:\\s+web-\\w+ \\(2/2 replicas created\\)", describeDeploy);
        Assert.Matches("ScalingReplicaSet\\s+\\S+\\s+deployment-controller\\s+Scaled up replica set web-\\w+ from 0 to 2", describeDeploy);
        kubectl.Log("checked: describe pod (status, owner, events) and describe deployment (conditions, new ReplicaSet, events)");
    }

    [Fact]
    public async Task Rollout_SetImageHistoryUndoRestartAndWait_Work()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;
        await kubectl.RunOkAsync($"apply -f {kubectl.WriteFile("web.yaml", DeploymentYaml)}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("deployment.apps/web image updated", (await kubectl.RunOkAsync("set image deployment/web nginx=nginx:1.29")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var history = await kubectl.RunOkAsync("rollout history deployment/web");
        Assert.Equal("deployment.apps/web rolled back", (await kubectl.RunOkAsync("rollout undo deployment/web")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var image = (await kubectl.RunOkAsync("get deployment web -o jsonpath={.spec.template.spec.containers[0].image}")).Stdout;
        var sets = (await kubectl.RunOkAsync("get rs --no-headers")).Lines;
        Assert.Equal("deployment.apps/web restarted", (await kubectl.RunOkAsync("rollout restart deployment/web")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var wait = await kubectl.RunOkAsync("wait --for=condition=Ready pod -l app=web --timeout=20s");

        Assert.Contains(history.Lines, l => KubectlResult.Columns(l).SequenceEqual(new[] { "2", "<none>" }));
        Assert.Equal("nginx:1.27", image);
        Assert.Equal(2, sets.Length);
        Assert.Equal(3, (await kubectl.RunOkAsync("get rs --no-headers")).Lines.Length);
        Assert.Equal(2, wait.Lines.Count(l => l.EndsWith("condition met", StringComparison.Ordinal)));
        kubectl.Log("checked: set image, rollout history (2 revisions), undo back to nginx:1.27 reusing the first ReplicaSet, restart makes a third, wait for Ready");
    }

    [Fact]
    public async Task Auth_CanIAndWhoami_EverythingAllowedForTheSimulatedAdmin()
    {
        var (sim, kubectl) = await StartAsync();
        await using var _ = sim;
        using var __ = kubectl;

        var canI = await kubectl.RunOkAsync("auth can-i delete pods -n kube-system");
        var whoami = await kubectl.RunOkAsync("auth whoami -o jsonpath={.status.userInfo.username}");

        Assert.Equal("yes", canI.Stdout.Trim());
        Assert.Equal("kubesim-admin", whoami.Stdout);
        kubectl.Log("checked: auth can-i answers yes (no authorization is simulated); auth whoami names the simulated admin");
    }

    [Fact]
    public async Task VirtualCluster_KubeconfigFromSecret_KubectlWorksInsideAndSyncShowsOnHost()
    {
        var (sim, kubectl) = await StartAsync("""
            vclusters:
              - {name: dev, namespace: team-a}
            """);
        await using var _ = sim;
        using var __ = kubectl;
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var config = await kubectl.RunOkAsync("get secret vc-dev -n team-a -o jsonpath={.data.config}");
        using var inner = new KubectlRunner(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(config.Stdout)), output);
        Assert.Equal("deployment.apps/web created", (await inner.RunOkAsync($"apply -f {inner.WriteFile("web.yaml", DeploymentYaml)}")).Stdout.Trim());
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(3));

        var insidePods = await inner.RunOkAsync("get pods");
        var hostPods = await kubectl.RunOkAsync("get pods -n team-a -l vcluster.loft.sh/managed-by=dev");
        var hostDeployments = await kubectl.RunAsync("get deployment web");

        Assert.Equal(3, insidePods.Lines.Length);
        Assert.All(insidePods.Lines.Skip(1), l => Assert.Equal("Running", KubectlResult.Columns(l)[2]));
        Assert.Equal(3, hostPods.Lines.Length);
        Assert.All(hostPods.Lines.Skip(1), l => Assert.EndsWith("-x-default-x-dev", KubectlResult.Columns(l)[0]));
        Assert.Equal(1, hostDeployments.ExitCode);
        kubectl.Log("checked: kubectl with the vc-dev kubeconfig applies inside the virtual cluster; its pods run, appear on the host renamed and labelled, the Deployment does not");
    }
}
