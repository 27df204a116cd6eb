using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RuntimeAI.Drivers.Libvirt.Interop;

/// <summary>Turns libvirt's thread-local last error into <see cref="LibvirtException"/>.</summary>
internal static unsafe class LibvirtErrors
{
    /// <summary>Reads the last error of this thread; call it right after the failing call.</summary>
    internal static LibvirtException Last(string operation)
    {
        var error = LibvirtNative.virGetLastError();
        if (error is null)
        {
            return new LibvirtException(operation, 0, 0, null);
        }

        var exception = new LibvirtException(operation, error->Code, error->Domain, LibvirtStrings.Borrow(error->Message));
        LibvirtNative.virResetLastError();
        return exception;
    }

    internal static int Check(int rc, [CallerArgumentExpression(nameof(rc))] string? call = null)
    {
        if (rc < 0)
        {
            throw Last(OperationName(call));
        }

        return rc;
    }

    internal static T Check<T>(T handle, [CallerArgumentExpression(nameof(handle))] string? call = null)
        where T : SafeHandle
    {
        if (handle.IsInvalid)
        {
            var exception = Last(OperationName(call));
            handle.Dispose();
            throw exception;
        }

        return handle;
    }

    internal static string CheckString(nint owned, [CallerArgumentExpression(nameof(owned))] string? call = null)
    {
        if (owned == nint.Zero)
        {
            throw Last(OperationName(call));
        }

        return LibvirtStrings.TakeOwned(owned)!;
    }

    // "LibvirtNative.virDomainCreate(domain)" -> "virDomainCreate"
    private static string OperationName(string? call)
    {
        if (string.IsNullOrEmpty(call))
        {
            return "libvirt call";
        }

        var start = call.IndexOf("vir", StringComparison.Ordinal);
        var end = call.IndexOf('(', StringComparison.Ordinal);
        return start >= 0 && end > start ? call[start..end] : call;
    }

    /// <summary>The no-op handler installed with virSetErrorFunc so libvirt never prints to stderr.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    internal static void Silent(nint userData, nint error)
    {
    }
}
