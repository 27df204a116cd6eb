using System.Runtime.InteropServices;

namespace RuntimeAI.Drivers.Libvirt.Interop;

/// <summary>
/// Process-wide libvirt setup: loads <c>libvirt.so.0</c>, silences libvirt's default error printer,
/// registers the default event loop implementation (libvirt requires that before any connection
/// is opened) and runs it on one background thread for the rest of the process.
/// </summary>
internal static unsafe class LibvirtRuntime
{
    private static readonly Lock s_gate = new();
    private static bool s_initialized;
    private static string? s_loadError;

    internal const string MissingLibraryMessage =
        "libvirt.so.0 could not be loaded: install the Debian package libvirt0 (apt-get install -y libvirt0)";

    /// <summary>Loads libvirt and starts the event loop once; false (with a reason) when libvirt is missing.</summary>
    internal static bool TryInitialize(out string? error)
    {
        lock (s_gate)
        {
            if (s_initialized)
            {
                error = null;
                return true;
            }

            if (s_loadError is not null)
            {
                error = s_loadError;
                return false;
            }

            if (!CanLoad(LibvirtNative.Library, out s_loadError))
            {
                error = s_loadError;
                return false;
            }

            LibvirtNative.virSetErrorFunc(nint.Zero, &LibvirtErrors.Silent);
            if (LibvirtNative.virEventRegisterDefaultImpl() < 0)
            {
                s_loadError = LibvirtErrors.Last("virEventRegisterDefaultImpl").Message;
                error = s_loadError;
                return false;
            }

            var thread = new Thread(RunEventLoop) { IsBackground = true, Name = "libvirt-event-loop" };
            thread.Start();
            s_initialized = true;
            error = null;
            return true;
        }
    }

    /// <summary>Whether the shared library loads; the error names the Debian package to install.</summary>
    internal static bool CanLoad(string library, out string? error)
    {
        if (NativeLibrary.TryLoad(library, typeof(LibvirtRuntime).Assembly, null, out _))
        {
            error = null;
            return true;
        }

        error = library == LibvirtNative.Library
            ? MissingLibraryMessage
            : $"{library} could not be loaded: install the Debian package libvirt0 (apt-get install -y libvirt0)";
        return false;
    }

    private static void RunEventLoop()
    {
        // virErrorFunc is process-global but some libvirt versions keep it per thread: set it here too.
        LibvirtNative.virSetErrorFunc(nint.Zero, &LibvirtErrors.Silent);
        while (true)
        {
            if (LibvirtNative.virEventRunDefaultImpl() < 0)
            {
                LibvirtNative.virResetLastError();
                Thread.Sleep(100);
            }
        }
    }
}
