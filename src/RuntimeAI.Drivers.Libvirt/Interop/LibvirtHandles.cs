using System.Runtime.InteropServices;

namespace RuntimeAI.Drivers.Libvirt.Interop;

/// <summary>A virConnectPtr; closing drops libvirt's reference.</summary>
internal sealed class ConnectHandle : SafeHandle
{
    public ConnectHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => LibvirtNative.virConnectClose(handle) >= 0;
}

/// <summary>A virDomainPtr.</summary>
internal sealed class DomainHandle : SafeHandle
{
    public DomainHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    internal DomainHandle(nint existing) : base(nint.Zero, ownsHandle: true) => SetHandle(existing);

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => LibvirtNative.virDomainFree(handle) == 0;
}

/// <summary>A virDomainSnapshotPtr.</summary>
internal sealed class SnapshotHandle : SafeHandle
{
    public SnapshotHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    internal SnapshotHandle(nint existing) : base(nint.Zero, ownsHandle: true) => SetHandle(existing);

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => LibvirtNative.virDomainSnapshotFree(handle) == 0;
}

/// <summary>A virStoragePoolPtr.</summary>
internal sealed class StoragePoolHandle : SafeHandle
{
    public StoragePoolHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => LibvirtNative.virStoragePoolFree(handle) == 0;
}

/// <summary>A virStorageVolPtr.</summary>
internal sealed class StorageVolHandle : SafeHandle
{
    public StorageVolHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle() => LibvirtNative.virStorageVolFree(handle) == 0;
}

/// <summary>Strings crossing the boundary: owned ones are freed with libc <c>free()</c>, borrowed ones are copied only.</summary>
internal static class LibvirtStrings
{
    /// <summary>Copies a string the caller owns and frees it; null when the pointer is null.</summary>
    internal static unsafe string? TakeOwned(nint ptr)
    {
        if (ptr == nint.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(ptr);
        }
        finally
        {
            // NativeMemory.Free is free() on Unix, the allocator libvirt used.
            NativeMemory.Free((void*)ptr);
        }
    }

    /// <summary>Copies a string owned by a libvirt object (never freed here).</summary>
    internal static string? Borrow(nint ptr) => ptr == nint.Zero ? null : Marshal.PtrToStringUTF8(ptr);
}
