using System.Text.Json.Nodes;

namespace RuntimeAI.KubeSim.Tests.KubeVirt;

public sealed class KubeVirtTests
{
    private const string Vms = "apis/kubevirt.io/v1/namespaces/default/virtualmachines";
    private const string Actions = "apis/subresources.kubevirt.io/v1/namespaces/default";

    private static string Vm(string name, string runStrategy, string instancetype = "u1.medium") => new JsonObject
    {
        ["apiVersion"] = "kubevirt.io/v1",
        ["kind"] = "VirtualMachine",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["runStrategy"] = runStrategy,
            ["instancetype"] = new JsonObject { ["kind"] = "VirtualMachineClusterInstancetype", ["name"] = instancetype },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["kubevirt.io/domain"] = name } },
                ["spec"] = new JsonObject { ["domain"] = new JsonObject { ["devices"] = new JsonObject() } },
            },
        },
    }.ToJsonString();

    private static async Task<string> PrintableStatusAsync(SimHost sim, string name) =>
        (await sim.GetObjectAsync($"{Vms}/{name}"))["status"]!["printableStatus"]!.GetValue<string>();

    [Fact]
    public async Task Instancetypes_Seeded_U1SeriesWithGuestResources()
    {
        await using var sim = await SimHost.StartAsync();

        var list = await sim.GetObjectAsync("apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes");

        var rows = list["items"]!.AsArray().ToDictionary(i => i!["metadata"]!["name"]!.GetValue<string>(), i => $"{i!["spec"]!["cpu"]!["guest"]}/{i["spec"]!["memory"]!["guest"]}");
        Assert.Equal("1/512Mi", rows["u1.nano"]);
        Assert.Equal("1/1Gi", rows["u1.micro"]);
        Assert.Equal("1/2Gi", rows["u1.small"]);
        Assert.Equal("1/4Gi", rows["u1.medium"]);
        Assert.Equal("2/8Gi", rows["u1.large"]);
        Assert.Equal("4/16Gi", rows["u1.xlarge"]);
        Assert.Equal("8/32Gi", rows["u1.2xlarge"]);
    }

    [Fact]
    public async Task VirtualMachine_Always_StartsThroughPhasesToRunning()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Always"));

        await sim.SettleAsync();
        Assert.Equal("Starting", await PrintableStatusAsync(sim, "vm1"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("Running", await PrintableStatusAsync(sim, "vm1"));
        var vmi = await sim.GetObjectAsync("apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/vm1");
        Assert.Equal("Running", vmi["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("4Gi", vmi["spec"]!["domain"]!["memory"]!["guest"]!.GetValue<string>());
        Assert.StartsWith("10.244.", vmi["status"]!["interfaces"]![0]!["ipAddress"]!.GetValue<string>());
        var launcher = (await sim.GetObjectAsync("api/v1/namespaces/default/pods?labelSelector=kubevirt.io%3Dvirt-launcher"))["items"]!.AsArray().Single()!;
        Assert.Equal(vmi["status"]!["nodeName"]!.GetValue<string>(), launcher["spec"]!["nodeName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Start_AlwaysRunning_Returns409()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Always"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var (status, body) = await sim.PutAsync($"{Actions}/virtualmachines/vm1/start", "{}");

        Assert.Equal(409, status);
        Assert.Equal("VM is already running", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task StopThenStart_AlwaysVm_HaltsThenRunsAgain()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Always"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(202, (await sim.PutAsync($"{Actions}/virtualmachines/vm1/stop", "{}")).Status);
        await sim.SettleAsync();
        Assert.Equal("Stopping", await PrintableStatusAsync(sim, "vm1"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal("Stopped", await PrintableStatusAsync(sim, "vm1"));
        Assert.Equal("Halted", (await sim.GetObjectAsync($"{Vms}/vm1"))["spec"]!["runStrategy"]!.GetValue<string>());
        Assert.Equal(409, (await sim.PutAsync($"{Actions}/virtualmachines/vm1/stop", "{}")).Status);

        Assert.Equal(202, (await sim.PutAsync($"{Actions}/virtualmachines/vm1/start", "{}")).Status);
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("Running", await PrintableStatusAsync(sim, "vm1"));
    }

    [Fact]
    public async Task Manual_StartAndStopRequests_DriveTheInstance()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Manual"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("Stopped", await PrintableStatusAsync(sim, "vm1"));
        Assert.Equal(409, (await sim.PutAsync($"{Actions}/virtualmachines/vm1/stop", "{}")).Status);

        await sim.PutAsync($"{Actions}/virtualmachines/vm1/start", "{}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("Running", await PrintableStatusAsync(sim, "vm1"));

        await sim.PutAsync($"{Actions}/virtualmachines/vm1/stop", "{}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal("Stopped", await PrintableStatusAsync(sim, "vm1"));
        Assert.Equal("Manual", (await sim.GetObjectAsync($"{Vms}/vm1"))["spec"]!["runStrategy"]!.GetValue<string>());
    }

    [Fact]
    public async Task Restart_HaltedVm_Returns409WithRunStrategyMessage()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Halted"));
        await sim.SettleAsync();

        var (status, body) = await sim.PutAsync($"{Actions}/virtualmachines/vm1/restart", "{}");

        Assert.Equal(409, status);
        Assert.Contains("Halted does not support manual restart requests", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Restart_RunningVm_ReplacesInstance()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Always"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var before = (await sim.GetObjectAsync("apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/vm1"))["metadata"]!["uid"]!.GetValue<string>();

        Assert.Equal(202, (await sim.PutAsync($"{Actions}/virtualmachines/vm1/restart", "{}")).Status);
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        var after = await sim.GetObjectAsync("apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/vm1");
        Assert.NotEqual(before, after["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal("Running", await PrintableStatusAsync(sim, "vm1"));
    }

    [Fact]
    public async Task PauseUnpause_RunningInstance_TogglesPaused()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Always"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(202, (await sim.PutAsync($"{Actions}/virtualmachineinstances/vm1/pause", "{}")).Status);
        await sim.SettleAsync();
        Assert.Equal("Paused", await PrintableStatusAsync(sim, "vm1"));
        Assert.Equal(409, (await sim.PutAsync($"{Actions}/virtualmachineinstances/vm1/pause", "{}")).Status);

        Assert.Equal(202, (await sim.PutAsync($"{Actions}/virtualmachineinstances/vm1/unpause", "{}")).Status);
        await sim.SettleAsync();
        Assert.Equal("Running", await PrintableStatusAsync(sim, "vm1"));
    }

    [Fact]
    public async Task Create_UnknownInstancetype_Returns422()
    {
        await using var sim = await SimHost.StartAsync();

        var (status, body) = await sim.PostAsync(Vms, Vm("vm1", "Always", "u9.huge"));

        Assert.Equal(422, status);
        Assert.Contains("Failure to find instancetype", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task VirtualMachine_BeyondQuota_InstanceRecordsFailedCreate()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("api/v1/namespaces/default/resourcequotas", """{"metadata":{"name":"q"},"spec":{"hard":{"requests.memory":"2Gi"}}}""");
        await sim.CreateAsync(Vms, Vm("vm1", "Always", "u1.medium"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("Starting", await PrintableStatusAsync(sim, "vm1"));
        var events = (await sim.GetObjectAsync("api/v1/namespaces/default/events?fieldSelector=reason%3DFailedCreate"))["items"]!.AsArray();
        Assert.Contains("exceeded quota", events[0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task SnapshotAndRestore_StoppedVm_RestoresSavedSpec()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Always", "u1.small"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        await sim.CreateAsync("apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots",
            """{"metadata":{"name":"snap1"},"spec":{"source":{"apiGroup":"kubevirt.io","kind":"VirtualMachine","name":"vm1"}}}""");
        await sim.SettleAsync();
        var snap = await sim.GetObjectAsync("apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots/snap1");
        Assert.Equal("Succeeded", snap["status"]!["phase"]!.GetValue<string>());
        Assert.True(snap["status"]!["readyToUse"]!.GetValue<bool>());
        Assert.Contains("Online", snap["status"]!["indications"]!.AsArray().Select(i => i!.GetValue<string>()));

        await sim.PatchAsync($"{Vms}/vm1", """{"spec":{"instancetype":{"name":"u1.large"}}}""", "application/merge-patch+json");
        await sim.CreateAsync("apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores",
            """{"metadata":{"name":"restore1"},"spec":{"target":{"apiGroup":"kubevirt.io","kind":"VirtualMachine","name":"vm1"},"virtualMachineSnapshotName":"snap1"}}""");
        await sim.SettleAsync();
        var waiting = await sim.GetObjectAsync("apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores/restore1");
        Assert.False(waiting["status"]!["complete"]!.GetValue<bool>());

        await sim.PutAsync($"{Actions}/virtualmachines/vm1/stop", "{}");
        await sim.AdvanceAsync(TimeSpan.FromSeconds(2));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(1));

        var restore = await sim.GetObjectAsync("apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores/restore1");
        Assert.True(restore["status"]!["complete"]!.GetValue<bool>());
        var vm = await sim.GetObjectAsync($"{Vms}/vm1");
        Assert.Equal("u1.small", vm["spec"]!["instancetype"]!["name"]!.GetValue<string>());
        Assert.Equal("Halted", vm["spec"]!["runStrategy"]!.GetValue<string>());
    }

    [Fact]
    public async Task Snapshot_MissingSource_Fails()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync("apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots",
            """{"metadata":{"name":"snap1"},"spec":{"source":{"apiGroup":"kubevirt.io","kind":"VirtualMachine","name":"ghost"}}}""");
        await sim.SettleAsync();

        var snap = await sim.GetObjectAsync("apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots/snap1");

        Assert.Equal("Failed", snap["status"]!["phase"]!.GetValue<string>());
    }

    [Fact]
    public async Task Migrate_RunningVm_MovesToAnotherNode()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(Vms, Vm("vm1", "Always"));
        await sim.AdvanceAsync(TimeSpan.FromSeconds(5));
        var before = (await sim.GetObjectAsync("apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/vm1"))["status"]!["nodeName"]!.GetValue<string>();

        Assert.Equal(202, (await sim.PutAsync($"{Actions}/virtualmachines/vm1/migrate", "{}")).Status);

        var vmi = await sim.GetObjectAsync("apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/vm1");
        Assert.NotEqual(before, vmi["status"]!["nodeName"]!.GetValue<string>());
        Assert.True(vmi["status"]!["migrationState"]!["completed"]!.GetValue<bool>());
    }
}
