using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RuntimeAI.Core.Operations;

/// <summary>
/// Which process runs a saga: its id and start time (so a reused process id is not mistaken for
/// the owner). Recovery settles only sagas whose process is gone.
/// </summary>
internal static class SagaProcess
{
    private static readonly Lazy<(int Pid, string Start)> s_current = new(() =>
    {
        using var self = Process.GetCurrentProcess();
        return (self.Id, StartOf(self));
    });

    /// <summary>This machine's name: process ids mean something only on the machine that issued them.</summary>
    private static readonly string s_host = Environment.MachineName;

    public static JsonObject Current() => new() { ["pid"] = s_current.Value.Pid, ["start"] = s_current.Value.Start, ["host"] = s_host };

    /// <summary>
    /// The machine a saga was run on, when it is not this one (a replica sharing the database);
    /// null for this machine and for records written before the host was recorded.
    /// </summary>
    public static string? OtherHost(JsonNode? owner) =>
        owner is JsonObject o && o["host"] is JsonValue value && value.TryGetValue<string>(out var host) && !string.Equals(host, s_host, StringComparison.Ordinal)
            ? host
            : null;

    /// <summary>True when the recorded process still runs (this one included).</summary>
    public static bool IsAlive(JsonNode? owner)
    {
        if (owner is not JsonObject o || o["pid"] is not JsonValue pidValue || !pidValue.TryGetValue<int>(out var pid)
            || o["start"]?.GetValue<string>() is not { } start)
        {
            return false;
        }

        if (pid == s_current.Value.Pid)
        {
            // This very process (still running it), or an earlier one whose id was reused.
            return string.Equals(start, s_current.Value.Start, StringComparison.Ordinal);
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && string.Equals(StartOf(process), start, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return false;
        }
    }

    private static string StartOf(Process process) =>
        process.StartTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}
