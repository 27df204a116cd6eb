using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Drivers.Libvirt.Interop;

namespace RuntimeAI.Drivers.Libvirt;

/// <summary>
/// Runs <see cref="RuntimeType.Vm"/> runtimes as libvirt domains (qemu/KVM, or the in-process
/// <c>test:///default</c> sandbox) through <c>libvirt.so.0</c>. The connection opens on first use and
/// is reopened after the daemon goes away. Backend references have the form
/// <c>libvirt:{uri}#{domain uuid}</c>; a bare UUID or domain name is accepted too. Dispose it to
/// close the connection.
/// </summary>
public sealed partial class LibvirtDomainDriver : IRuntimeDriver, IDisposable
{
    private const uint UndefineAll =
        LibvirtNative.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | LibvirtNative.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
        LibvirtNative.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | LibvirtNative.VIR_DOMAIN_UNDEFINE_NVRAM;

    private readonly LibvirtOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Lock _poolGate = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _startedAt = new(StringComparer.OrdinalIgnoreCase);
    private readonly Channel<DriverEvent> _events = Channel.CreateUnbounded<DriverEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _eventPump;
    private LibvirtSession? _session;
    private (string DomainType, string? Arch)? _guest;
    private bool _disposed;

    /// <summary>Creates a driver for one libvirt URI. Nothing is opened until the first call.</summary>
    /// <param name="options">The connection and its defaults; validated here.</param>
    /// <param name="timeProvider">Clock for timeouts and timestamps (defaults to the system clock).</param>
    /// <exception cref="ArgumentException">The options are invalid (all problems are listed).</exception>
    public LibvirtDomainDriver(LibvirtOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _eventPump = Task.Run(PumpEventsAsync);
    }

    /// <inheritdoc />
    public string Name => "libvirt:" + _options.Uri;

    /// <inheritdoc />
    public RuntimeType RuntimeType => RuntimeType.Vm;

    /// <inheritdoc />
    public BackendKind BackendKind => BackendKind.VmBackend;

    /// <inheritdoc />
    public bool IsSandbox => _options.IsSandbox;

    /// <summary>The URI this driver speaks to.</summary>
    public string Uri => _options.Uri;

    /// <inheritdoc />
    public event EventHandler<DriverEvent>? RuntimeEventObserved;

    /// <summary>Builds the backend reference of a domain UUID on this connection.</summary>
    public string BackendRefFor(string uuid) => $"{Name}#{uuid}";

    // ───────────────────────────── plumbing ─────────────────────────────

    private async Task<T> RunAsync<T>(string operation, Func<ConnectHandle, T> body, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);

        // Native calls run on a pool thread and read their error on that same thread.
        return await Task.Run(() =>
        {
            var session = Session();
            try
            {
                return body(session.Handle);
            }
            catch (LibvirtException ex)
            {
                throw Translate(ex, session, operation);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private LibvirtSession Session()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_session is { IsAlive: true } alive)
            {
                return alive;
            }

            _session?.Dispose();
            _session = null;
            _guest = null;
            if (!LibvirtRuntime.TryInitialize(out var loadError))
            {
                throw Fail("libvirt_missing", loadError!);
            }

            try
            {
                _session = LibvirtSession.Open(_options.Uri, keepAlive: !_options.IsSandbox, OnLifecycle);
            }
            catch (LibvirtException ex)
            {
                throw Fail("unreachable", $"Cannot reach libvirt at {_options.Uri}: {ex.LibvirtMessage}. Check that libvirtd is running there and that this user may connect.", ex);
            }

            return _session;
        }
    }

    private RuntimeDriverException Translate(LibvirtException ex, LibvirtSession session, string operation)
    {
        var lost = ex.ErrorDomain == LibvirtErrorCodes.FromRpc
            || ex.ErrorCode is LibvirtErrorCodes.NoConnect or LibvirtErrorCodes.InvalidConn or LibvirtErrorCodes.Rpc
            || !session.IsAlive;
        if (lost)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_session, session))
                {
                    _session = null;
                    session.Dispose();
                }
            }

            return Fail("unreachable", $"The libvirt daemon at {_options.Uri} went away during {operation}: {ex.LibvirtMessage}. The driver reconnects on the next call; check that libvirtd is running.", ex);
        }

        return ex.ErrorCode switch
        {
            LibvirtErrorCodes.NoDomain => Fail("not_found", $"No VM matches on {_options.Uri} ({ex.LibvirtMessage}).", ex),
            LibvirtErrorCodes.NoDomainSnapshot => Fail("not_found", $"No such snapshot on {_options.Uri} ({ex.LibvirtMessage}).", ex),
            LibvirtErrorCodes.OperationInvalid => Fail("invalid_state", $"libvirt refused to {operation}: {ex.LibvirtMessage}.", ex),
            LibvirtErrorCodes.DomExist or LibvirtErrorCodes.StorageVolExist => Fail("conflict", $"Cannot {operation}: {ex.LibvirtMessage}.", ex),
            LibvirtErrorCodes.OperationTimeout or LibvirtErrorCodes.ResourceBusy => Fail("busy", $"libvirt at {_options.Uri} is busy, {operation} did not run: {ex.LibvirtMessage}. Retry later.", ex),
            LibvirtErrorCodes.OperationUnsupported or LibvirtErrorCodes.NoSupport or LibvirtErrorCodes.ArgumentUnsupported or LibvirtErrorCodes.ConfigUnsupported
                => Fail("unsupported", $"The hypervisor behind {_options.Uri} cannot {operation}: {ex.LibvirtMessage}.", ex),
            _ => Fail("driver_error", $"libvirt at {_options.Uri} failed to {operation}: {ex.LibvirtMessage}.", ex),
        };
    }

    private DomainHandle Lookup(ConnectHandle conn, string backendRef)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backendRef);
        var key = backendRef;
        var hash = backendRef.LastIndexOf('#');
        if (backendRef.StartsWith("libvirt:", StringComparison.Ordinal) && hash > 0)
        {
            if (!string.Equals(backendRef[..hash], Name, StringComparison.Ordinal))
            {
                throw Fail("not_found", $"Backend reference '{backendRef}' belongs to another libvirt connection than {_options.Uri}.");
            }

            key = backendRef[(hash + 1)..];
        }

        return TryLookup(conn, key) ?? throw Fail("not_found", $"No VM '{key}' on {_options.Uri}: it was deleted, or never existed there.");
    }

    private static DomainHandle? TryLookup(ConnectHandle conn, string key)
    {
        var domain = Guid.TryParse(key, out _)
            ? LibvirtNative.virDomainLookupByUUIDString(conn, key)
            : LibvirtNative.virDomainLookupByName(conn, key);
        if (!domain.IsInvalid)
        {
            return domain;
        }

        var error = LibvirtErrors.Last("virDomainLookup");
        domain.Dispose();
        if (error.ErrorCode == LibvirtErrorCodes.NoDomain)
        {
            return null;
        }

        throw error;
    }

    private (string DomainType, string? Arch) GuestFor(ConnectHandle conn)
    {
        if (_guest is { } cached)
        {
            return cached;
        }

        var caps = LibvirtErrors.CheckString(LibvirtNative.virConnectGetCapabilities(conn));
        var picked = DomainXml.PickGuest(caps);
        if (_options.DomainType is { } forced)
        {
            picked = (forced, picked.Arch);
        }

        _guest = picked;
        return picked;
    }

    private static (int State, int Reason) GetState(DomainHandle domain)
    {
        LibvirtErrors.Check(LibvirtNative.virDomainGetState(domain, out var state, out var reason, 0));
        return (state, reason);
    }

    private static RuntimeState CurrentState(DomainHandle domain) => DomainStates.ToRuntimeState(GetState(domain).State);

    private static DomainDescription Describe(DomainHandle domain, bool inactive) =>
        DomainXml.Parse(LibvirtErrors.CheckString(LibvirtNative.virDomainGetXMLDesc(domain, inactive ? LibvirtNative.VIR_DOMAIN_XML_INACTIVE : 0)));

    private static RuntimeDriverException Fail(string code, string message, Exception? inner = null) =>
        inner is null ? new RuntimeDriverException(message) { Code = code } : new RuntimeDriverException(message, inner) { Code = code };

    // ───────────────────────────── events ─────────────────────────────

    private void OnLifecycle(LifecycleEvent e)
    {
        // Runs on libvirt's event-loop thread: record and hand off, never block.
        var (type, state, detail) = DomainStates.DescribeEvent(e.Event, e.Detail);
        var now = _time.GetUtcNow();
        if (e.Event == 2)
        {
            // Our own start already recorded the time; the event may arrive later than that.
            _startedAt.TryAdd(e.Uuid, now);
        }
        else if (e.Event is 1 or 5)
        {
            _startedAt.TryRemove(e.Uuid, out _);
        }

        _events.Writer.TryWrite(new DriverEvent(BackendRefFor(e.Uuid), type, state, $"{e.Name}: {detail}", now));
    }

    private async Task PumpEventsAsync()
    {
        await foreach (var delivered in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var e = delivered.NewState is null ? delivered : await WithStateNowAsync(delivered).ConfigureAwait(false);
            try
            {
                RuntimeEventObserved?.Invoke(this, e);
            }
#pragma warning disable CA1031 // a faulty subscriber must not stop the event flow
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>
    /// libvirt delivers events some time after they happened, so the state an event implies may be
    /// history by then (a restart's "stopped" arriving after the restart finished). The event carries
    /// the domain's state read now instead, stamped before the read: a record written by an
    /// operation that ended after that stamp stays, and the last event of a burst always carries the
    /// state the domain ended in.
    /// </summary>
    private async Task<DriverEvent> WithStateNowAsync(DriverEvent e)
    {
        var readAt = _time.GetUtcNow();
        try
        {
            var now = await RunAsync("read the state of an event's domain", conn =>
            {
                using var domain = Lookup(conn, e.BackendRef);
                return CurrentState(domain);
            }, CancellationToken.None).ConfigureAwait(false);
            return e with { NewState = now, Ts = readAt };
        }
        catch (Exception ex) when (ex is RuntimeDriverException or ObjectDisposedException)
        {
            // Gone (undefined, or a transient domain that stopped) or unreachable: the event is the best account there is.
            return e;
        }
    }

    /// <summary>Closes the libvirt connection and stops raising events.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _session?.Dispose();
            _session = null;
        }

        _events.Writer.TryComplete();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex DomainNamePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
    private static partial Regex SnapshotNamePattern();
}

/// <summary>Checks whether libvirt can be used in this process.</summary>
public static class LibvirtLibrary
{
    /// <summary>
    /// True when <c>libvirt.so.0</c> loads; otherwise <paramref name="reason"/> names the Debian package
    /// to install (<c>libvirt0</c>). Use it to decide whether the embedded <c>test:///default</c> sandbox is available.
    /// </summary>
    public static bool IsAvailable(out string? reason) => LibvirtRuntime.TryInitialize(out reason);
}
