using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// Signal history on SQLite: raw samples in <c>signal_raw</c>, folded on arrival into per-minute
/// and per-hour buckets (<c>signal_rollup</c>, sum/min/max/count so the average stays exact).
/// Times are Unix milliseconds so range scans use the (runtime, metric, ts) index.
/// </summary>
public sealed class SqliteSignalStore(SqliteDatabase database) : ISignalStore
{
    private const long MinuteMs = 60_000;
    private const long HourMs = 3_600_000;

    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyList<SignalSample> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return;
        }

        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            using var raw = connection.CreateCommand();
            raw.Transaction = tx;
            raw.CommandText = "INSERT INTO signal_raw (runtime_id, metric, ts, value) VALUES ($rt, $m, $ts, $v)";
            var rt = raw.Parameters.Add("$rt", SqliteType.Text);
            var m = raw.Parameters.Add("$m", SqliteType.Text);
            var ts = raw.Parameters.Add("$ts", SqliteType.Integer);
            var v = raw.Parameters.Add("$v", SqliteType.Real);
            using var rollup = connection.CreateCommand();
            rollup.Transaction = tx;
            rollup.CommandText = """
                INSERT INTO signal_rollup (resolution, runtime_id, metric, bucket, sum, min, max, count)
                VALUES ($res, $rt, $m, $b, $v, $v, $v, 1)
                ON CONFLICT (resolution, runtime_id, metric, bucket) DO UPDATE SET
                    sum = sum + excluded.sum, min = min(min, excluded.min), max = max(max, excluded.max), count = count + 1
                """;
            var res = rollup.Parameters.Add("$res", SqliteType.Integer);
            var rrt = rollup.Parameters.Add("$rt", SqliteType.Text);
            var rm = rollup.Parameters.Add("$m", SqliteType.Text);
            var b = rollup.Parameters.Add("$b", SqliteType.Integer);
            var rv = rollup.Parameters.Add("$v", SqliteType.Real);
            foreach (var sample in samples)
            {
                var ms = sample.Ts.ToUnixTimeMilliseconds();
                rt.Value = sample.RuntimeId;
                m.Value = sample.Metric;
                ts.Value = ms;
                v.Value = sample.Value;
                raw.ExecuteNonQuery();
                rrt.Value = sample.RuntimeId;
                rm.Value = sample.Metric;
                rv.Value = sample.Value;
                foreach (var (resolution, size) in new[] { (SignalResolution.Minute, MinuteMs), (SignalResolution.Hour, HourMs) })
                {
                    res.Value = (int)resolution;
                    b.Value = ms - (((ms % size) + size) % size);
                    rollup.ExecuteNonQuery();
                }
            }

            tx.Commit();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SignalPoint>> QueryAsync(string runtimeId, string metric, DateTimeOffset from, DateTimeOffset to, SignalResolution resolution, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = resolution == SignalResolution.Raw
            ? "SELECT ts, value, value, value, 1 FROM signal_raw WHERE runtime_id = $rt AND metric = $m AND ts >= $from AND ts < $to ORDER BY ts"
            : "SELECT bucket, sum / count, min, max, count FROM signal_rollup WHERE resolution = $res AND runtime_id = $rt AND metric = $m AND bucket >= $from AND bucket < $to ORDER BY bucket";
        command.Parameters.AddWithValue("$rt", runtimeId);
        command.Parameters.AddWithValue("$m", metric);
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$res", (int)resolution);
        var points = new List<SignalPoint>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            points.Add(new SignalPoint(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt32(4)));
        }

        return Task.FromResult<IReadOnlyList<SignalPoint>>(points);
    }

    /// <inheritdoc />
    public async Task<long> PruneAsync(SignalRetention retention, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retention);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            long removed = 0;
            removed += Execute(connection, tx, "DELETE FROM signal_raw WHERE ts < $cut", ("$cut", (now - retention.Raw).ToUnixTimeMilliseconds()));
            removed += Execute(connection, tx, "DELETE FROM signal_rollup WHERE resolution = 1 AND bucket < $cut", ("$cut", (now - retention.Minute).ToUnixTimeMilliseconds()));
            removed += Execute(connection, tx, "DELETE FROM signal_rollup WHERE resolution = 2 AND bucket < $cut", ("$cut", (now - retention.Hour).ToUnixTimeMilliseconds()));
            // The size bound: whatever the fleet, at most MaxRawRows raw rows (the oldest go first).
            removed += Execute(connection, tx,
                "DELETE FROM signal_raw WHERE rowid IN (SELECT rowid FROM signal_raw ORDER BY ts LIMIT max(0, (SELECT COUNT(*) FROM signal_raw) - $cap))",
                ("$cap", retention.MaxRawRows));
            tx.Commit();
            return removed;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    private static long Execute(SqliteConnection connection, SqliteTransaction tx, string sql, (string Name, long Value) parameter)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        return command.ExecuteNonQuery();
    }
}
