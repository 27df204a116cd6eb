namespace RuntimeAI.Core.Lifecycle;

/// <summary>
/// One mutation lock per runtime, alive only while someone holds or waits for it: the entry is
/// created by the first acquirer and removed when the last one releases, so a server that touches
/// many runtimes over its life does not keep a semaphore for each forever.
/// </summary>
internal sealed class RuntimeLocks
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How many runtimes have a lock in use (held or awaited) right now.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Waits for the runtime's lock; dispose the lease to release it.</summary>
    public async Task<IDisposable> AcquireAsync(string runtimeId, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(runtimeId, out entry!))
            {
                entry = new Entry();
                _entries[runtimeId] = entry;
            }

            entry.Users++;
        }

        try
        {
            await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(runtimeId, entry);
            throw;
        }

        return new Lease(this, runtimeId, entry);
    }

    private void Leave(string runtimeId, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(runtimeId);
                entry.Gate.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Lease(RuntimeLocks owner, string runtimeId, Entry entry) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                entry.Gate.Release();
                owner.Leave(runtimeId, entry);
            }
        }
    }
}
