using RuntimeAI.Drivers.Libvirt.Interop;

/// <summary>The floor: the two libvirt calls a start/stop cycle needs, on a connection kept open.</summary>
internal static class RawCycle
{
    private static ConnectHandle? s_conn;

    internal static void Run(string uri, string name)
    {
        s_conn ??= LibvirtErrors.Check(LibvirtNative.virConnectOpen(uri));
        using var domain = LibvirtErrors.Check(LibvirtNative.virDomainLookupByName(s_conn, name));
        LibvirtErrors.Check(LibvirtNative.virDomainCreate(domain));
        LibvirtErrors.Check(LibvirtNative.virDomainDestroy(domain));
    }
}
