namespace RuntimeAI.Drivers.Libvirt.Interop;

/// <summary>
/// A libvirt call failed. Carries libvirt's own error code (<c>virErrorNumber</c>), the subsystem
/// that raised it (<c>virErrorDomain</c>) and its message, read with <c>virGetLastError</c> on the
/// thread that made the call.
/// </summary>
public sealed class LibvirtException : Exception
{
    /// <summary>Creates an exception without libvirt details.</summary>
    public LibvirtException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public LibvirtException(string message) : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    public LibvirtException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates an exception from libvirt's error record.</summary>
    /// <param name="operation">The libvirt function that failed.</param>
    /// <param name="errorCode">libvirt's <c>virErrorNumber</c>.</param>
    /// <param name="errorDomain">libvirt's <c>virErrorDomain</c>.</param>
    /// <param name="libvirtMessage">libvirt's message, when it gave one.</param>
    public LibvirtException(string operation, int errorCode, int errorDomain, string? libvirtMessage)
        : base($"{operation} failed: {libvirtMessage ?? "no error message from libvirt"} (libvirt error {errorCode}, domain {errorDomain})")
    {
        Operation = operation;
        ErrorCode = errorCode;
        ErrorDomain = errorDomain;
        LibvirtMessage = libvirtMessage;
    }

    /// <summary>The libvirt function that failed, e.g. <c>virDomainCreate</c>.</summary>
    public string? Operation { get; }

    /// <summary>libvirt's <c>virErrorNumber</c> (e.g. 42 = no such domain).</summary>
    public int ErrorCode { get; }

    /// <summary>libvirt's <c>virErrorDomain</c> (the subsystem that raised the error).</summary>
    public int ErrorDomain { get; }

    /// <summary>libvirt's message.</summary>
    public string? LibvirtMessage { get; }
}

/// <summary>The libvirt error numbers this driver reacts to (virErrorNumber).</summary>
internal static class LibvirtErrorCodes
{
    internal const int NoSupport = 3;
    internal const int NoConnect = 5;
    internal const int InvalidConn = 6;
    internal const int InvalidArg = 8;
    internal const int OperationFailed = 9;
    internal const int XmlError = 27;
    internal const int DomExist = 28;
    internal const int OperationDenied = 29;
    internal const int OpenFailed = 30;
    internal const int SystemError = 38;
    internal const int Rpc = 39;
    internal const int NoDomain = 42;
    internal const int NoNetwork = 43;
    internal const int AuthFailed = 45;
    internal const int NoStoragePool = 49;
    internal const int NoStorageVol = 50;
    internal const int OperationInvalid = 55;
    internal const int ConfigUnsupported = 67;
    internal const int OperationTimeout = 68;
    internal const int NoDomainSnapshot = 72;
    internal const int ArgumentUnsupported = 74;
    internal const int OperationUnsupported = 84;
    internal const int ResourceBusy = 87;
    internal const int StorageVolExist = 90;
    internal const int XmlInvalidSchema = 92;

    /// <summary>virErrorDomain VIR_FROM_RPC.</summary>
    internal const int FromRpc = 7;
}
