namespace RuntimeAI.Drivers.Libvirt.Tests;

public sealed class LibvirtOptionsTests
{
    [Fact]
    public void Validate_Defaults_Pass() => new LibvirtOptions().Validate();

    [Fact]
    public void Validate_ManyErrors_ReportsAllOfThem()
    {
        var options = new LibvirtOptions { Uri = "nonsense", DataDir = "relative", DiskSizeMiB = 0, DefaultSize = "huge" };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("Uri", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DataDir", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DiskSizeMiB", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DefaultSize", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("test:///default", true)]
    [InlineData("qemu:///system", false)]
    [InlineData("qemu+ssh://root@host/system", false)]
    public void IsSandbox_FollowsTheScheme(string uri, bool sandbox) =>
        Assert.Equal(sandbox, new LibvirtOptions { Uri = uri }.IsSandbox);
}
