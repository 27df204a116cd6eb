using System.Collections.Concurrent;

namespace RuntimeAI.Core.Audit;

/// <summary>One queued audit write: the start of a call, or its end (which becomes a record of the chain).</summary>
public sealed class AuditWrite
{
    internal AuditWrite(AuditBegin? begin, AuditEnd? end)
    {
        Begin = begin;
        End = end;
    }

    /// <summary>The start to record as in flight, or null for an end.</summary>
    public AuditBegin? Begin { get; }

    /// <summary>The end to append to the chain, or null for a start.</summary>
    public AuditEnd? End { get; }

    /// <summary>The record the store appended for <see cref="End"/>; set by the store's batch writer.</summary>
    public AuditRecord? Record { get; set; }

    /// <summary>The call this write belongs to.</summary>
    public string CallId => Begin?.CallId ?? End!.CallId;

    /// <summary>Fails this write alone (the others of its batch are stored).</summary>
    public void Fail(Exception error) => Done.TrySetException(error);

    internal TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Group commit for an audit store: writes from concurrent calls are queued and one writer hands
/// them to <see cref="WriteBatchAsync"/> together, in queue order, so one transaction (one flush)
/// stores many calls. A caller's task completes only after the batch holding its write committed;
/// if the batch fails, every write in it fails (nothing of it was stored).
/// </summary>
/// <remarks>
/// <see cref="BeginReadOnlyAsync"/> keeps the start of a call that can change nothing in memory
/// only: its one record is written when it ends, before its answer is sent. Every other call's
/// start is written durably before it runs.
/// </remarks>
public abstract class GroupCommitAuditLog : IAuditLog
{
    private readonly ConcurrentDictionary<string, (AuditBegin Begin, bool Durable)> _begins = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private List<AuditWrite> _pending = [];
    private bool _flushing;
    private long _batches;

    /// <summary>Number of batches committed so far (one transaction each).</summary>
    public long BatchesCommitted => Interlocked.Read(ref _batches);

    /// <summary>Writes queued and not yet taken by the writer.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <inheritdoc />
    public Task BeginAsync(AuditBegin begin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begin);
        cancellationToken.ThrowIfCancellationRequested();
        _begins[begin.CallId] = (begin, true);
        return Enqueue(new AuditWrite(begin, null));
    }

    /// <inheritdoc />
    public Task BeginReadOnlyAsync(AuditBegin begin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(begin);
        cancellationToken.ThrowIfCancellationRequested();
        _begins[begin.CallId] = (begin, false);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<AuditRecord> EndAsync(AuditEnd end, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(end);
        // Audit must land even if the caller gave up: a cancelled call is still a call.
        var write = new AuditWrite(null, end);
        await Enqueue(write).ConfigureAwait(false);
        return write.Record!;
    }

    /// <inheritdoc />
    public abstract Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract Task<IReadOnlyList<AuditBegin>> ListInFlightAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="batch"/> in one transaction, in order: a start goes in flight; an end
    /// becomes the next record of the chain (set <see cref="AuditWrite.Record"/>), or fails alone
    /// with <see cref="AuditWrite.Fail"/>. Throwing fails the whole batch.
    /// </summary>
    protected abstract Task WriteBatchAsync(IReadOnlyList<AuditWrite> batch);

    /// <summary>What callers of a failed batch see (a store maps its own errors to a message with the fix).</summary>
    protected virtual Exception BatchFailure(Exception error, int batchSize) => error;

    /// <summary>The start of <paramref name="callId"/> known to this process, and whether it was stored (durable) or kept in memory.</summary>
    protected bool TryGetBegin(string callId, out AuditBegin begin, out bool durable)
    {
        var found = _begins.TryGetValue(callId, out var known);
        (begin, durable) = known;
        return found;
    }

    private Task Enqueue(AuditWrite write)
    {
        bool start;
        lock (_gate)
        {
            _pending.Add(write);
            start = !_flushing;
            _flushing = true;
        }

        if (start)
        {
            _ = Task.Run(FlushLoopAsync);
        }

        return write.Done.Task;
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            List<AuditWrite> batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                batch = _pending;
                _pending = [];
            }

            try
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
                Interlocked.Increment(ref _batches);
                foreach (var write in batch)
                {
                    if (write.End is { } end)
                    {
                        _begins.TryRemove(end.CallId, out _);
                    }

                    write.Done.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                // One transaction: nothing of it is stored, so every write in it fails.
                var failure = BatchFailure(ex, batch.Count);
                foreach (var write in batch)
                {
                    _begins.TryRemove(write.CallId, out _);
                    write.Record = null;
                    write.Done.TrySetException(failure);
                }
            }
        }
    }
}
