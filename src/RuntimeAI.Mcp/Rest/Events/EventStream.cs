using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>
/// Writes a Server-Sent Events stream of runtime events: each event as <c>id: &lt;position&gt;</c> and
/// <c>data: &lt;Event JSON&gt;</c>, where the position is the event's place in the store's log, so a
/// client that reconnects with <c>Last-Event-ID</c> gets exactly the events after the last one it
/// saw. An idle stream sends a comment line (<c>: heartbeat</c>) every heartbeat interval.
/// </summary>
internal sealed class EventStream(IEventFeed feed, InventoryChangeFeed changes, EventsOptions options, TimeProvider time)
{
    private const int Batch = 200;

    /// <summary>Streams events matching <paramref name="query"/> (its <see cref="EventFeedQuery.AfterSeq"/> is the start) until the client goes away.</summary>
    public async Task WriteAsync(HttpContext context, EventFeedQuery query, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var signal = NewSignal();
        void OnChanged(object? sender, InventoryChange change)
        {
            if (change.MayTouchRuntimes)
            {
                Volatile.Read(ref signal).TrySetResult();
            }
        }

        changes.Changed += OnChanged;
        try
        {
            // retry: how long EventSource waits before reconnecting (it then sends Last-Event-ID itself).
            await WriteAsync(response, "retry: 2000\n: connected\n\n", cancellationToken).ConfigureAwait(false);
            var cursor = query.AfterSeq;
            var lastWrite = time.GetTimestamp();
            while (!cancellationToken.IsCancellationRequested)
            {
                Volatile.Write(ref signal, NewSignal());
                var armed = Volatile.Read(ref signal);
                var batch = await feed.ReadAfterAsync(query with { AfterSeq = cursor, Limit = Batch }, cancellationToken).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    var text = new StringBuilder();
                    foreach (var sequenced in batch)
                    {
                        text.Append("id: ").Append(sequenced.Seq.ToString(CultureInfo.InvariantCulture)).Append('\n')
                            .Append("data: ").Append(EventJson.ToNode(sequenced.Event).ToJsonString()).Append("\n\n");
                    }

                    await WriteAsync(response, text.ToString(), cancellationToken).ConfigureAwait(false);
                    cursor = batch[^1].Seq;
                    lastWrite = time.GetTimestamp();
                    if (batch.Count == Batch)
                    {
                        continue;
                    }
                }

                var sinceWrite = time.GetElapsedTime(lastWrite);
                if (sinceWrite >= options.HeartbeatInterval)
                {
                    await WriteAsync(response, ": heartbeat " + time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture) + "\n\n", cancellationToken).ConfigureAwait(false);
                    lastWrite = time.GetTimestamp();
                    sinceWrite = TimeSpan.Zero;
                }

                var untilHeartbeat = options.HeartbeatInterval - sinceWrite;
                var wait = untilHeartbeat < options.StreamPollInterval ? untilHeartbeat : options.StreamPollInterval;
                using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var delay = Task.Delay(wait, time, delayCancel.Token);
                await Task.WhenAny(armed.Task, delay).ConfigureAwait(false);
                await delayCancel.CancelAsync().ConfigureAwait(false);
                await delay.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away: the normal end of a stream.
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            changes.Changed -= OnChanged;
        }
    }

    /// <summary>The position after which a stream starts: <c>Last-Event-ID</c> if sent, else 0 with <c>since</c>, else the newest event now.</summary>
    public async Task<(long AfterSeq, string? Error)> StartAsync(string? lastEventId, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(lastEventId))
        {
            return long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var after)
                ? (after, null)
                : (0, $"Last-Event-ID '{lastEventId}' is not an event position; send back the id: of the last event this stream gave you, or leave it out");
        }

        return since is not null ? (0, null) : (await feed.LatestSeqAsync(cancellationToken).ConfigureAwait(false), null);
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.WriteAsync(text, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
