using System.Runtime.InteropServices;

namespace RuntimeAI.Drivers.Libvirt.Interop;

/// <summary>
/// Source-generated bindings for the part of <c>libvirt.so.0</c> this driver uses. Signatures follow
/// libvirt's public headers; C <c>unsigned long</c> is <see cref="CULong"/>. Strings marked "caller
/// frees" come back as <see cref="nint"/> and go through <see cref="LibvirtStrings.TakeOwned"/>.
/// </summary>
internal static unsafe partial class LibvirtNative
{
    internal const string Library = "libvirt.so.0";

    // Connections
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ConnectHandle virConnectOpen(string? name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ConnectHandle virConnectOpenReadOnly(string? name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ConnectHandle virConnectOpenAuth(string? name, nint auth, uint flags);

    [LibraryImport(Library)]
    internal static partial int virConnectClose(nint conn);

    [LibraryImport(Library)]
    internal static partial int virConnectGetLibVersion(ConnectHandle conn, out CULong libVer);

    [LibraryImport(Library)]
    internal static partial int virConnectIsAlive(ConnectHandle conn);

    [LibraryImport(Library)]
    internal static partial int virConnectSetKeepAlive(ConnectHandle conn, int interval, uint count);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial nint virConnectGetCapabilities(ConnectHandle conn);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial nint virConnectGetURI(ConnectHandle conn);

    [LibraryImport(Library)]
    internal static partial int virNodeGetInfo(ConnectHandle conn, out VirNodeInfo info);

    [LibraryImport(Library)]
    internal static partial ulong virNodeGetFreeMemory(ConnectHandle conn);

    // Domains
    [LibraryImport(Library)]
    internal static partial int virConnectListAllDomains(ConnectHandle conn, out nint* domains, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DomainHandle virDomainDefineXMLFlags(ConnectHandle conn, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DomainHandle virDomainLookupByName(ConnectHandle conn, string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DomainHandle virDomainLookupByUUIDString(ConnectHandle conn, string uuid);

    [LibraryImport(Library)]
    internal static partial int virDomainFree(nint domain);

    [LibraryImport(Library)]
    internal static partial int virDomainCreate(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainShutdown(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainDestroy(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainReboot(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainSuspend(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainResume(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainManagedSave(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainManagedSaveRemove(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainSetVcpusFlags(DomainHandle domain, uint nvcpus, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainSetMemoryFlags(DomainHandle domain, CULong memoryKiB, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainGetInfo(DomainHandle domain, out VirDomainInfo info);

    [LibraryImport(Library)]
    internal static partial int virDomainGetState(DomainHandle domain, out int state, out int reason, uint flags);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial nint virDomainGetXMLDesc(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainGetUUIDString(nint domain, byte* buf);

    /// <summary>Owned by the domain object: never freed.</summary>
    [LibraryImport(Library)]
    internal static partial nint virDomainGetName(nint domain);

    [LibraryImport(Library)]
    internal static partial int virDomainIsActive(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainUndefineFlags(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainMemoryStats(DomainHandle domain, VirDomainMemoryStat* stats, uint nrStats, uint flags);

    // Snapshots
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SnapshotHandle virDomainSnapshotCreateXML(DomainHandle domain, string xml, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainListAllSnapshots(DomainHandle domain, out nint* snapshots, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SnapshotHandle virDomainSnapshotLookupByName(DomainHandle domain, string name, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainRevertToSnapshot(SnapshotHandle snapshot, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainSnapshotDelete(SnapshotHandle snapshot, uint flags);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial nint virDomainSnapshotGetXMLDesc(SnapshotHandle snapshot, uint flags);

    /// <summary>Owned by the snapshot object: never freed.</summary>
    [LibraryImport(Library)]
    internal static partial nint virDomainSnapshotGetName(SnapshotHandle snapshot);

    [LibraryImport(Library)]
    internal static partial int virDomainSnapshotIsCurrent(SnapshotHandle snapshot, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainSnapshotFree(nint snapshot);

    // Storage
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial StoragePoolHandle virStoragePoolLookupByName(ConnectHandle conn, string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial StoragePoolHandle virStoragePoolDefineXML(ConnectHandle conn, string xml, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolBuild(StoragePoolHandle pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolCreate(StoragePoolHandle pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolIsActive(StoragePoolHandle pool);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolSetAutostart(StoragePoolHandle pool, int autostart);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolRefresh(StoragePoolHandle pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolFree(nint pool);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial StorageVolHandle virStorageVolCreateXML(StoragePoolHandle pool, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial StorageVolHandle virStorageVolLookupByName(StoragePoolHandle pool, string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial StorageVolHandle virStorageVolLookupByPath(ConnectHandle conn, string path);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial nint virStorageVolGetPath(StorageVolHandle vol);

    [LibraryImport(Library)]
    internal static partial int virStorageVolDelete(StorageVolHandle vol, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStorageVolFree(nint vol);

    // Events
    [LibraryImport(Library)]
    internal static partial int virEventRegisterDefaultImpl();

    [LibraryImport(Library)]
    internal static partial int virEventRunDefaultImpl();

    [LibraryImport(Library)]
    internal static partial int virConnectDomainEventRegisterAny(
        ConnectHandle conn,
        nint domain,
        int eventId,
        delegate* unmanaged[Cdecl]<nint, nint, int, int, nint, int> callback,
        nint opaque,
        delegate* unmanaged[Cdecl]<nint, void> freeCallback);

    [LibraryImport(Library)]
    internal static partial int virConnectDomainEventDeregisterAny(ConnectHandle conn, int callbackId);

    // Errors
    [LibraryImport(Library)]
    internal static partial void virSetErrorFunc(nint userData, delegate* unmanaged[Cdecl]<nint, nint, void> handler);

    [LibraryImport(Library)]
    internal static partial VirError* virGetLastError();

    [LibraryImport(Library)]
    internal static partial void virResetLastError();

    // Constants from libvirt's headers.
    internal const uint VIR_DOMAIN_DEFINE_VALIDATE = 1;
    internal const uint VIR_DOMAIN_XML_INACTIVE = 2;
    internal const uint VIR_DOMAIN_AFFECT_LIVE = 1;
    internal const uint VIR_DOMAIN_AFFECT_CONFIG = 2;
    internal const uint VIR_DOMAIN_VCPU_MAXIMUM = 4;
    internal const uint VIR_DOMAIN_MEM_MAXIMUM = 4;
    internal const uint VIR_DOMAIN_UNDEFINE_MANAGED_SAVE = 1;
    internal const uint VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA = 2;
    internal const uint VIR_DOMAIN_UNDEFINE_NVRAM = 4;
    internal const uint VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA = 16;
    internal const int VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0;
    internal const int VIR_UUID_STRING_BUFLEN = 37;
    internal const int VIR_DOMAIN_MEMORY_STAT_NR = 16;
}

/// <summary>virNodeInfo.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirNodeInfo
{
    public fixed byte Model[32];
    public CULong MemoryKiB;
    public uint Cpus;
    public uint Mhz;
    public uint Nodes;
    public uint Sockets;
    public uint Cores;
    public uint Threads;
}

/// <summary>virDomainInfo.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirDomainInfo
{
    public byte State;
    public CULong MaxMemKiB;
    public CULong MemoryKiB;
    public ushort NrVirtCpu;
    public ulong CpuTimeNs;
}

/// <summary>virDomainMemoryStatStruct.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirDomainMemoryStat
{
    public int Tag;
    public ulong Value;
}

/// <summary>The leading fields of virError (only read through a pointer libvirt owns).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirError
{
    public int Code;
    public int Domain;
    public nint Message;
    public int Level;
}
