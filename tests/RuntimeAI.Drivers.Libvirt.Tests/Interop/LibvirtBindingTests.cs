using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt.Tests.Interop;

/// <summary>The raw bindings against test:///default: structs, owned strings, typed errors.</summary>
public sealed class LibvirtBindingTests
{
    private static LibvirtSession Open()
    {
        Assert.True(LibvirtLibrary.IsAvailable(out var reason), reason);
        return LibvirtSession.Open("test:///default", keepAlive: false, onEvent: null);
    }

    [Fact]
    public void NodeGetInfo_ReadsTheTestHost()
    {
        using var session = Open();
        Assert.Equal(0, LibvirtNative.virNodeGetInfo(session.Handle, out var info));
        Assert.Equal(16u, info.Cpus);
        Assert.Equal(3145728UL, (ulong)info.MemoryKiB.Value);
        Assert.True(session.IsAlive);
    }

    [Fact]
    public void LookupByName_Unknown_GivesTypedError()
    {
        using var session = Open();
        using var domain = LibvirtNative.virDomainLookupByName(session.Handle, "no-such-domain-" + Guid.NewGuid());
        Assert.True(domain.IsInvalid);
        var error = LibvirtErrors.Last("virDomainLookupByName");
        Assert.Equal(LibvirtErrorCodes.NoDomain, error.ErrorCode);
        Assert.Contains("not found", error.LibvirtMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("virDomainLookupByName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetXMLDesc_OwnedStringIsReadAndFreed()
    {
        using var session = Open();
        using var domain = LibvirtErrors.Check(LibvirtNative.virDomainLookupByName(session.Handle, "test"));
        for (var i = 0; i < 200; i++)
        {
            var xml = LibvirtErrors.CheckString(LibvirtNative.virDomainGetXMLDesc(domain, 0));
            Assert.StartsWith("<domain type='test'", xml, StringComparison.Ordinal);
        }

        Assert.Equal("test", LibvirtSession.NameOf(domain));
        Assert.True(Guid.TryParse(LibvirtSession.UuidOf(domain), out _));
    }

    [Fact]
    public void GetInfo_StructMatchesVirsh()
    {
        using var session = Open();
        using var domain = LibvirtErrors.Check(LibvirtNative.virDomainLookupByName(session.Handle, "test"));
        Assert.Equal(0, LibvirtNative.virDomainGetInfo(domain, out var info));
        Assert.Equal(2, info.NrVirtCpu);
        Assert.Equal(8388608UL, (ulong)info.MaxMemKiB.Value);
    }

    [Fact]
    public void CanLoad_MissingLibrary_NamesTheDebianPackage()
    {
        Assert.False(LibvirtRuntime.CanLoad("libvirt-runtimeai-missing.so.0", out var error));
        Assert.Contains("apt-get install -y libvirt0", error, StringComparison.Ordinal);
        Assert.Contains("libvirt0", LibvirtRuntime.MissingLibraryMessage, StringComparison.Ordinal);
        Assert.True(LibvirtRuntime.CanLoad(LibvirtNative.Library, out _));
    }
}
