namespace RuntimeAI.Drivers.Libvirt.Tests;

public sealed class DomainXmlTests
{
    [Fact]
    public void BuildThenParse_RoundTripsSizeDiskAndMetadata()
    {
        var metadata = new RuntimeMetadata("rt_1", "t1", new Dictionary<string, string> { ["a"] = "1", ["b"] = "<x>" }, "nano", "/pool/vm.qcow2");
        var xml = DomainXml.Build(new DomainDefinition("vm", "qemu", "x86_64", 1, 4, 64, "/pool/vm.qcow2", NetworkAttachment.UserMode, null, metadata));

        var parsed = DomainXml.Parse(xml);

        Assert.Equal("vm", parsed.Name);
        Assert.Equal(1, parsed.Vcpus);
        Assert.Equal(4, parsed.MaxVcpus);
        Assert.Equal(64, parsed.MemoryMiB);
        Assert.Equal(["/pool/vm.qcow2"], parsed.DiskPaths);
        Assert.Equal("rt_1", parsed.Metadata!.RuntimeId);
        Assert.Equal("<x>", parsed.Metadata.Labels["b"]);
        Assert.Equal("/pool/vm.qcow2", parsed.Metadata.ManagedDiskPath);
        Assert.Contains("<interface type=\"user\">", xml, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NoNetworking_HasNoInterface()
    {
        var xml = DomainXml.Build(new DomainDefinition("vm", "test", null, 1, 1, 512, null, NetworkAttachment.None, null,
            new RuntimeMetadata(null, null, new Dictionary<string, string>(), null, null)));
        Assert.DoesNotContain("<interface", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("current=", xml, StringComparison.Ordinal);
    }

    [Fact]
    public void PickGuest_PrefersKvmOverQemu()
    {
        const string caps = """
            <capabilities><host><cpu><arch>x86_64</arch></cpu></host>
            <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/><domain type='kvm'/></arch></guest>
            <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
            </capabilities>
            """;
        Assert.Equal(("kvm", "x86_64"), DomainXml.PickGuest(caps));
    }

    [Fact]
    public void PickGuest_TcgOnly_PicksQemu()
    {
        const string caps = """
            <capabilities><host><cpu><arch>x86_64</arch></cpu></host>
            <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/></arch></guest>
            </capabilities>
            """;
        Assert.Equal(("qemu", "x86_64"), DomainXml.PickGuest(caps));
    }

    [Theory]
    [InlineData(1, 1, "running (booted)")]
    [InlineData(5, 2, "shut off (destroyed)")]
    [InlineData(3, 1, "paused (user)")]
    [InlineData(5, 99, "shut off (unknown)")]
    public void Describe_MatchesVirshWording(int state, int reason, string expected) =>
        Assert.Equal(expected, DomainStates.Describe(state, reason));
}
