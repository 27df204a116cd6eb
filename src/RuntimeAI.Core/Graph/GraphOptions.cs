namespace RuntimeAI.Core.Graph;

/// <summary>Bounds of the state and event graph (validated when the registry is built).</summary>
public sealed class GraphOptions
{
    /// <summary>How long changes are kept for <c>what_changed</c> and <c>diff_runtime</c> (default 1 h).</summary>
    public TimeSpan ChangeWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most changes kept per cluster whatever their age (oldest dropped first).</summary>
    public int MaxChanges { get; set; } = 100_000;

    /// <summary>Most objects kept per cluster; beyond it new objects are not added and the graph says it is incomplete.</summary>
    public int MaxObjects { get; set; } = 200_000;

    /// <summary>Most clusters watched at once; the least recently asked one stops when another is needed.</summary>
    public int MaxClusters { get; set; } = 16;

    /// <summary>A cluster nobody asked about for this long stops being watched and its graph is dropped (default 15 min).</summary>
    public TimeSpan IdleAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a first question waits for the initial listing (default 10 s).</summary>
    public TimeSpan InitialSyncWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every bound out of range, listed at once.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ChangeWindow < TimeSpan.FromMinutes(1) || ChangeWindow > TimeSpan.FromDays(1))
        {
            errors.Add("graph change window must be from 1 minute to 24 hours");
        }

        if (MaxChanges is < 100 or > 10_000_000)
        {
            errors.Add("graph max changes must be from 100 to 10,000,000");
        }

        if (MaxObjects is < 100 or > 10_000_000)
        {
            errors.Add("graph max objects must be from 100 to 10,000,000");
        }

        if (MaxClusters is < 1 or > 1000)
        {
            errors.Add("graph max clusters must be from 1 to 1000");
        }

        if (IdleAfter < TimeSpan.FromSeconds(1))
        {
            errors.Add("graph idle time must be at least 1 second");
        }

        return errors;
    }
}
