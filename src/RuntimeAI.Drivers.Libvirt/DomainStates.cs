using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Drivers.Libvirt;

/// <summary>Maps libvirt's virDomainState/reason pairs onto runtime states, worded the way virsh words them.</summary>
internal static class DomainStates
{
    internal const int NoState = 0;
    internal const int Running = 1;
    internal const int Blocked = 2;
    internal const int Paused = 3;
    internal const int Shutdown = 4;
    internal const int Shutoff = 5;
    internal const int Crashed = 6;
    internal const int PmSuspended = 7;

    internal static RuntimeState ToRuntimeState(int state) => state switch
    {
        Running or Blocked or Shutdown => RuntimeState.Running,
        Paused or PmSuspended => RuntimeState.Degraded,
        Shutoff => RuntimeState.Stopped,
        _ => RuntimeState.Error,
    };

    /// <summary>True when the domain has a running qemu process (anything but shut off / crashed / no state).</summary>
    internal static bool IsActive(int state) => state is Running or Blocked or Paused or Shutdown or PmSuspended;

    internal static string Describe(int state, int reason)
    {
        var name = state switch
        {
            Running => "running",
            Blocked => "idle",
            Paused => "paused",
            Shutdown => "in shutdown",
            Shutoff => "shut off",
            Crashed => "crashed",
            PmSuspended => "pmsuspended",
            _ => "no state",
        };
        string[] reasons = state switch
        {
            Running or Blocked =>
            [
                "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused",
                "migration canceled", "save canceled", "event wakeup", "crashed", "post-copy", "post-copy failed",
            ],
            Paused =>
            [
                "unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog", "from snapshot",
                "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
            ],
            Shutdown => ["unknown", "user"],
            Shutoff =>
            [
                "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon",
            ],
            Crashed => ["unknown", "panicked"],
            PmSuspended => ["unknown"],
            _ => ["unknown"],
        };
        var why = reason >= 0 && reason < reasons.Length ? reasons[reason] : "unknown";
        return $"{name} ({why})";
    }

    /// <summary>Lifecycle event (virDomainEventType) → event type and the state it implies.</summary>
    internal static (string Type, RuntimeState? State, string Detail) DescribeEvent(int evt, int detail)
    {
        string Pick(string[] names) => detail >= 0 && detail < names.Length ? names[detail] : "unknown";
        return evt switch
        {
            0 => ("lifecycle.defined", null, Pick(["added", "updated", "renamed", "from snapshot"])),
            1 => ("lifecycle.undefined", RuntimeState.Deleted, Pick(["removed", "renamed"])),
            2 => ("lifecycle.started", RuntimeState.Running, Pick(["booted", "migrated", "restored", "from snapshot", "wakeup"])),
            3 => ("lifecycle.suspended", RuntimeState.Degraded, Pick(["paused", "migrated", "I/O error", "watchdog", "restored", "from snapshot", "API error", "post-copy", "post-copy failed"])),
            4 => ("lifecycle.resumed", RuntimeState.Running, Pick(["unpaused", "migrated", "from snapshot", "post-copy", "post-copy failed"])),
            5 => ("lifecycle.stopped", RuntimeState.Stopped, Pick(["shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"])),
            6 => ("lifecycle.shutdown", null, Pick(["finished", "guest", "host"])),
            7 => ("lifecycle.pmsuspended", RuntimeState.Degraded, Pick(["memory", "disk"])),
            8 => ("lifecycle.crashed", RuntimeState.Error, Pick(["panicked", "crashloaded"])),
            _ => ("lifecycle.unknown", null, $"event {evt} detail {detail}"),
        };
    }
}
