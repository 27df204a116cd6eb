using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

/// <summary>A raw lifecycle event as libvirt delivered it on the event-loop thread.</summary>
internal readonly record struct LifecycleEvent(string Uuid, string Name, int Event, int Detail);

/// <summary>
/// One open libvirt connection plus its lifecycle-event subscription. libvirt connections are
/// thread-safe; errors are thread-local, so every call reads its own error right after failing.
/// </summary>
internal sealed unsafe class LibvirtSession : IDisposable
{
    private readonly int _callbackId = -1;

    private LibvirtSession(string uri, ConnectHandle handle, Action<LifecycleEvent>? onEvent)
    {
        Uri = uri;
        Handle = handle;
        if (onEvent is not null)
        {
            var opaque = GCHandle.ToIntPtr(GCHandle.Alloc(onEvent));
            _callbackId = LibvirtNative.virConnectDomainEventRegisterAny(
                handle, nint.Zero, LibvirtNative.VIR_DOMAIN_EVENT_ID_LIFECYCLE, &OnLifecycle, opaque, &FreeOpaque);
            if (_callbackId < 0)
            {
                // Events are a bonus (state is always read on demand); a driver without them still works.
                LibvirtNative.virResetLastError();
                GCHandle.FromIntPtr(opaque).Free();
            }
        }
    }

    internal string Uri { get; }

    internal ConnectHandle Handle { get; }

    internal bool EventsSubscribed => _callbackId >= 0;

    /// <summary>Opens a connection; the caller has initialised <see cref="LibvirtRuntime"/>.</summary>
    internal static LibvirtSession Open(string uri, bool keepAlive, Action<LifecycleEvent>? onEvent)
    {
        var handle = LibvirtErrors.Check(LibvirtNative.virConnectOpen(uri));
        if (keepAlive)
        {
            // Lets libvirt notice a dead daemon by itself (needs the event loop we run).
            if (LibvirtNative.virConnectSetKeepAlive(handle, 5, 3) < 0)
            {
                LibvirtNative.virResetLastError();
            }
        }

        return new LibvirtSession(uri, handle, onEvent);
    }

    internal bool IsAlive => !Handle.IsClosed && LibvirtNative.virConnectIsAlive(Handle) == 1;

    public void Dispose()
    {
        if (_callbackId >= 0 && !Handle.IsClosed)
        {
            if (LibvirtNative.virConnectDomainEventDeregisterAny(Handle, _callbackId) < 0)
            {
                LibvirtNative.virResetLastError();
            }
        }

        Handle.Dispose();
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnLifecycle(nint conn, nint domain, int evt, int detail, nint opaque)
    {
        try
        {
            var buffer = stackalloc byte[LibvirtNative.VIR_UUID_STRING_BUFLEN];
            var uuid = LibvirtNative.virDomainGetUUIDString(domain, buffer) == 0
                ? Marshal.PtrToStringUTF8((nint)buffer) ?? ""
                : "";
            var name = LibvirtStrings.Borrow(LibvirtNative.virDomainGetName(domain)) ?? "";
            if (GCHandle.FromIntPtr(opaque).Target is Action<LifecycleEvent> sink)
            {
                sink(new LifecycleEvent(uuid, name, evt, detail));
            }
        }
#pragma warning disable CA1031 // an exception must never unwind into libvirt's event loop
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FreeOpaque(nint opaque)
    {
        if (opaque != nint.Zero)
        {
            GCHandle.FromIntPtr(opaque).Free();
        }
    }

    internal static string UuidOf(DomainHandle domain)
    {
        var buffer = stackalloc byte[LibvirtNative.VIR_UUID_STRING_BUFLEN];
        LibvirtErrors.Check(LibvirtNative.virDomainGetUUIDString(domain.DangerousGetHandle(), buffer));
        return Marshal.PtrToStringUTF8((nint)buffer) ?? "";
    }

    internal static string NameOf(DomainHandle domain) =>
        LibvirtStrings.Borrow(LibvirtNative.virDomainGetName(domain.DangerousGetHandle())) ?? "";

    internal static List<DomainHandle> ListAllDomains(ConnectHandle conn)
    {
        nint* array;
        var count = LibvirtErrors.Check(LibvirtNative.virConnectListAllDomains(conn, out array, 0));
        var result = new List<DomainHandle>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                result.Add(new DomainHandle(array[i]));
            }
        }
        finally
        {
            NativeMemory.Free(array);
        }

        return result;
    }

    internal static List<SnapshotHandle> ListAllSnapshots(DomainHandle domain)
    {
        nint* array;
        var count = LibvirtErrors.Check(LibvirtNative.virDomainListAllSnapshots(domain, out array, 0));
        var result = new List<SnapshotHandle>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                result.Add(new SnapshotHandle(array[i]));
            }
        }
        finally
        {
            NativeMemory.Free(array);
        }

        return result;
    }
}
