using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Npgsql;
using RuntimeAI.Core.Lifecycle;

namespace RuntimeAI.Storage.Postgres;

/// <summary>
/// Coordination of the replicas that share one PostgreSQL database, with session advisory locks:
/// PostgreSQL releases a session's locks when its connection closes, and the kernel closes the
/// connections of a process that dies in any way (SIGKILL included), so a lock held means its
/// process runs. Each replica holds the lock of its own id on one connection for its life (and a
/// row in <c>replicas</c> with a heartbeat, for operators); a key (a runtime's mutations, the
/// policy budget) is held with <c>pg_advisory_lock</c> on a connection of its own for the lease's
/// life. A replica whose own connection breaks is fenced (see <see cref="Fenced"/>): others may
/// already treat it as dead, so it starts no saga step until it has joined again under a new id.
/// </summary>
public sealed class PostgresReplicaCoordinator : IReplicaCoordinator, IAsyncDisposable
{
    /// <summary>First key of the two-key advisory locks that say a replica lives (second: hashtext of its id).</summary>
    internal const int ReplicaLockSpace = 0x5254_4901;

    /// <summary>First key of the two-key advisory locks on keys held across replicas (second: hashtext of the key).</summary>
    internal const int KeyLockSpace = 0x5254_4902;

    private const string IsLockedSql =
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 " +
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
        "AND classid = @space::oid AND objid = hashtext(@id)::oid)";

    private readonly PostgresDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _heartbeat;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private NpgsqlConnection? _own;
    private volatile string _id = string.Empty;
    private string? _fenced;
    private Task? _loop;

    private PostgresReplicaCoordinator(PostgresDatabase database, TimeProvider time, ILogger logger, TimeSpan heartbeat)
    {
        _database = database;
        _time = time;
        _logger = logger;
        _heartbeat = heartbeat;
    }

    /// <summary>This replica's id (new at every start, and after a fence).</summary>
    public string ReplicaId => _id;

    /// <inheritdoc />
    public bool Shared => true;

    /// <inheritdoc />
    public string? Fenced => Volatile.Read(ref _fenced);

    /// <summary>
    /// Joins the replicas of <paramref name="database"/>: takes a new id's lock, records the replica,
    /// and starts the heartbeat, which also notices a broken connection (fence) and joins again.
    /// </summary>
    public static async Task<PostgresReplicaCoordinator> StartAsync(
        PostgresDatabase database, TimeProvider time, ILogger logger, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var coordinator = new PostgresReplicaCoordinator(database, time, logger, heartbeat);
        await coordinator.JoinAsync(cancellationToken).ConfigureAwait(false);
        coordinator._loop = Task.Run(coordinator.HeartbeatLoopAsync, CancellationToken.None);
        return coordinator;
    }

    /// <inheritdoc />
    public JsonObject Executor()
    {
        var executor = InProcessReplicaCoordinator.Instance.Executor();
        executor["replica"] = _id;
        return executor;
    }

    /// <inheritdoc />
    public async Task<IReplicaLease?> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_fenced is { } reason)
        {
            throw new ReplicaFencedException($"this replica holds no locks in {_database.Description} now ({reason}); retry when /readyz reports it ready");
        }

        var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = PostgresDatabase.Command(connection, null, "SELECT pg_advisory_lock(@space, hashtext(@key))",
                ("space", KeyLockSpace), ("key", key));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new Lease(this, connection, key);
        }
        catch
        {
            // Cancelled while waiting (or the lock was granted as the cancel arrived): the
            // connection goes back to the pool holding nothing.
            await UnlockAllAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<ExecutorLiveness> ProbeAsync(JsonNode? executor, CancellationToken cancellationToken)
    {
        if (executor is not JsonObject o || o["replica"] is not JsonValue value || !value.TryGetValue<string>(out var replica))
        {
            // Written before replicas had ids (or by the embedded store): judge by process, as before.
            return InProcessReplicaCoordinator.ProbeProcess(executor);
        }

        if (string.Equals(replica, _id, StringComparison.Ordinal) && _fenced is null)
        {
            return ExecutorLiveness.Alive;
        }

        return await IsReplicaAliveAsync(replica, cancellationToken).ConfigureAwait(false) ? ExecutorLiveness.Alive : ExecutorLiveness.Dead;
    }

    /// <summary>True while the replica <paramref name="replicaId"/> holds its lock (its process runs and its connection is open).</summary>
    public async Task<bool> IsReplicaAliveAsync(string replicaId, CancellationToken cancellationToken)
    {
        using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = PostgresDatabase.Command(connection, null, IsLockedSql, ("space", ReplicaLockSpace), ("id", replicaId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    /// <summary>Stops the heartbeat, leaves the replicas (row removed, lock released).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_own is { } own)
            {
                try
                {
                    using var delete = PostgresDatabase.Command(own, null, "DELETE FROM replicas WHERE id = @id", ("id", _id));
                    await delete.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsConnectionError(ex))
                {
                    // The database is gone; the row stays as history, the lock went with the connection.
                }

                await UnlockAllAsync(own).ConfigureAwait(false);
                _own = null;
            }
        }
        finally
        {
            _gate.Release();
        }

        _stop.Dispose();
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string id;
            while (true)
            {
                id = "rep_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
                using var take = PostgresDatabase.Command(connection, null, "SELECT pg_try_advisory_lock(@space, hashtext(@id))", ("space", ReplicaLockSpace), ("id", id));
                if (await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
                {
                    break;
                }
            }

            var executor = InProcessReplicaCoordinator.Instance.Executor();
            var now = Now();
            using var insert = PostgresDatabase.Command(connection, null,
                "INSERT INTO replicas (id, host, pid, started_at, heartbeat_at) VALUES (@id, @host, @pid, @now, @now); " +
                "DELETE FROM replicas WHERE heartbeat_at < @old",
                ("id", id), ("host", executor["host"]!.GetValue<string>()), ("pid", executor["pid"]!.GetValue<int>()), ("now", now),
                ("old", _time.GetUtcNow().AddDays(-1).ToString("O", CultureInfo.InvariantCulture)));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            _own = connection;
            _id = id;
            Volatile.Write(ref _fenced, null);
            _logger.LogInformation("Joined the replicas of {Database} as {Replica}", _database.Description, id);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HeartbeatLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_heartbeat, _time, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (_fenced is null && _own is { } own)
                {
                    using var beat = PostgresDatabase.Command(own, null, "UPDATE replicas SET heartbeat_at = @now WHERE id = @id", ("now", Now()), ("id", _id));
                    await beat.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
                }
                else
                {
                    if (_own is { } old)
                    {
                        // Closing the connection releases the old id's lock: others see it dead and settle its sagas.
                        _own = null;
                        await old.DisposeAsync().ConfigureAwait(false);
                    }

                    await JoinAsync(_stop.Token).ConfigureAwait(false);
                    _logger.LogWarning("Replica fence lifted: joined again as {Replica}; the sagas of the old id are settled as orphans", _id);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever broke, this replica can no longer vouch for its lock.
                if (_fenced is null)
                {
                    Fence($"the connection holding replica {_id}'s lock in {_database.Description} broke ({ex.Message})");
                }
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Gives up this replica's place: no new saga steps until the heartbeat joins again under a new id.</summary>
    /// <remarks>The heartbeat (which alone uses the replica's connection) closes it at its next beat, releasing the old id's lock.</remarks>
    internal void Fence(string reason)
    {
        if (Interlocked.CompareExchange(ref _fenced, reason, null) is null)
        {
            _logger.LogError("Replica {Replica} fenced: {Reason}; it starts no saga step and reports not ready until it joins again", _id, reason);
        }
    }

    private string Now() => _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static bool IsConnectionError(Exception ex) =>
        ex is NpgsqlException or SocketException or TimeoutException or InvalidOperationException or ObjectDisposedException;

    private static async Task UnlockAllAsync(NpgsqlConnection connection)
    {
        try
        {
            using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            // A broken connection holds nothing any more.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Lease(PostgresReplicaCoordinator owner, NpgsqlConnection connection, string key) : IReplicaLease
    {
        private int _released;

        public async Task EnsureHeldAsync(CancellationToken cancellationToken)
        {
            if (owner._fenced is { } reason)
            {
                throw new ReplicaFencedException($"this replica was fenced ({reason}); another replica settles what it was running");
            }

            try
            {
                using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsConnectionError(ex))
            {
                var message = $"the connection holding the lock on {key} broke ({ex.Message})";
                owner.Fence(message);
                throw new ReplicaFencedException($"this replica lost its lock on {key}: {message}; another replica settles what it was running");
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                // Released off the caller's flow: the caller (a finally) must not wait on the database.
                _ = UnlockAllAsync(connection);
            }
        }
    }
}
