using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Storage.Postgres;

/// <summary>
/// Brings other replicas' changes into this process: one connection that <c>LISTEN</c>s on
/// <see cref="PostgresDatabase.ChangeChannel"/> and publishes each notification from another
/// replica on the <see cref="InventoryChangeFeed"/>, where SSE streams, the webhook worker and MCP
/// resource subscriptions are woken exactly as by a change made here. Notifications only wake:
/// readers still read the store by position, so a lost or doubled notification loses or doubles
/// nothing. When the connection breaks, it reconnects (backing off up to 5 s) and then publishes
/// <see cref="InventoryChange.Anything"/>, so whatever was written while it was away is read now,
/// not at the next heartbeat.
/// </summary>
public sealed partial class PostgresChangeListener(PostgresDatabase database, InventoryChangeFeed feed, ILogger<PostgresChangeListener>? logger = null)
{
    private static readonly TimeSpan s_probeAfter = TimeSpan.FromSeconds(30);
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private int _connections;

    /// <summary>How many times the listening connection has been opened (1 after start; more after reconnects).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Set once the first <c>LISTEN</c> is in place (tests and start-up wait on it).</summary>
    public Task Listening => _listening.Task;

    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Listens until <paramref name="stoppingToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var connection = await database.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                connection.Notification += OnNotification;
                using (var listen = new NpgsqlCommand($"LISTEN \"{database.ChangeChannel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }

                if (Interlocked.Increment(ref _connections) > 1)
                {
                    // Back after a break: changes made meanwhile sent notifications nobody heard.
                    LogReconnected(database.Description);
                    feed.Publish(InventoryChange.Anything);
                }

                _listening.TrySetResult();
                backoff = TimeSpan.FromMilliseconds(200);
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(s_probeAfter, stoppingToken).ConfigureAwait(false))
                    {
                        // Quiet for a while: make sure the connection is still alive rather than silently gone.
                        using var probe = new NpgsqlCommand("SELECT 1", connection);
                        await probe.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or IOException or InvalidOperationException)
            {
                LogLost(database.Description, ex.Message, backoff.TotalMilliseconds);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromMilliseconds(Math.Min(5000, backoff.TotalMilliseconds * 2));
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        // instance|kind|id; the id may itself hold '|', so split in three at most.
        var parts = e.Payload.Split('|', 3);
        if (parts.Length == 3 && !string.Equals(parts[0], database.InstanceId, StringComparison.Ordinal))
        {
            feed.Publish(new InventoryChange(parts[1], parts[2]));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "change notifications from {Database} interrupted ({Reason}); reconnecting in {DelayMs} ms (streams fall back to their poll until then)")]
    private partial void LogLost(string database, string reason, double delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "change notifications from {Database} back; every stream and subscription re-reads what it watches")]
    private partial void LogReconnected(string database);
}
