using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Policies;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// One saga on a real hypervisor: through the MCP boundary against qemu:///system (libvirtd
/// started by scripts/qemu-tier.sh), a failing last step is compensated in reverse and virsh —
/// the real client — sees the VM back as it was. Runs only when RUNTIMEAI_QEMU_URI is set.
/// </summary>
[Trait("Category", "Qemu")]
public sealed class QemuSagaTests(ITestOutputHelper output)
{
    internal static string Virsh(string uri, params string[] args)
    {
        var info = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(uri);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? stdout.Trim() : $"(virsh exit {process.ExitCode}) {process.StandardError.ReadToEnd().Trim()}";
    }

    private static string Text(CallToolResult result) => string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    [Fact]
    public async Task ExecuteActions_LastStepFails_CompensatedOnRealQemu_VirshAgrees()
    {
        var uri = Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_URI");
        if (string.IsNullOrEmpty(uri))
        {
            Assert.Skip("RUNTIMEAI_QEMU_URI is not set. Run scripts/qemu-tier.sh to exercise a real qemu/KVM hypervisor.");
        }

        var dataDir = Path.Combine(Environment.GetEnvironmentVariable("RUNTIMEAI_QEMU_DATADIR") ?? Path.GetTempPath(), "saga-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var options = new RuntimeAiServerOptions { DataDir = dataDir, Autonomy = AutonomyLevel.Autonomous, PoliciesDir = TestPolicies.AllowAll() };
        options.Libvirt.Add(uri);
        await using var session = await InProcessSession.StartAsync(options, CancellationToken.None);
        var name = "rtq-saga-" + Guid.NewGuid().ToString("N")[..6];

        var created = await session.Client.CallToolAsync("create_runtime", new Dictionary<string, object?> { ["name"] = name, ["type"] = "vm" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(created.IsError != true, Text(created));
        var id = created.StructuredContent!.Value.GetProperty("runtime_id").GetString()!;
        try
        {
            Assert.Equal("running", Virsh(uri, "domstate", name));

            var saga = await session.Client.CallToolAsync("execute_actions", new Dictionary<string, object?>
            {
                ["runtime_id"] = id,
                ["idempotency_key"] = "qemu-saga-" + name,
                ["actions"] = new object[]
                {
                    new Dictionary<string, object?> { ["type"] = "snapshot", ["params"] = new Dictionary<string, object?> { ["name"] = "s1" } },
                    new Dictionary<string, object?> { ["type"] = "stop", ["params"] = new Dictionary<string, object?> { ["force"] = true } },
                    new Dictionary<string, object?> { ["type"] = "restore", ["params"] = new Dictionary<string, object?> { ["snapshot"] = "does-not-exist" } },
                },
            }, cancellationToken: TestContext.Current.CancellationToken);
            output.WriteLine(Text(saga));

            Assert.True(saga.IsError);
            Assert.Contains("does-not-exist", Text(saga), StringComparison.Ordinal);
            // The stop was compensated by a start and the snapshot by its deletion: virsh sees the VM as before.
            Assert.Equal("running", Virsh(uri, "domstate", name));
            Assert.DoesNotContain("s1", Virsh(uri, "snapshot-list", name, "--name"), StringComparison.Ordinal);
            var status = await session.Client.CallToolAsync("get_runtime_status", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("running", status.StructuredContent!.Value.GetProperty("state").GetString());
        }
        finally
        {
            var deleted = await session.Client.CallToolAsync("delete_runtime", new Dictionary<string, object?> { ["runtime_id"] = id }, cancellationToken: TestContext.Current.CancellationToken);
            output.WriteLine(Text(deleted));
        }

        Assert.StartsWith("(virsh exit", Virsh(uri, "domstate", name), StringComparison.Ordinal);
    }
}
