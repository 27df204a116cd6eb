using System.Globalization;
using System.Text;
using System.Text.Json;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// The <c>events</c> table read by position. <c>seq</c> is an AUTOINCREMENT key assigned inside the
/// writing transaction, and SQLite admits one writer at a time (across processes too), so positions
/// appear in commit order: a reader that has seen position N has seen every event before it.
/// </summary>
public sealed class SqliteEventFeed(SqliteDatabase database) : IEventFeed
{
    private const int MaxLimit = 1000;

    /// <inheritdoc />
    public Task<IReadOnlyList<SequencedEvent>> ReadAfterAsync(EventFeedQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT e.seq, r.tenant_id, e.doc FROM events e LEFT JOIN runtimes r ON r.id = e.runtime_id WHERE e.seq > $after");
        command.Parameters.AddWithValue("$after", query.AfterSeq);
        if (query.RuntimeId is not null)
        {
            sql.Append(" AND e.runtime_id = $rt");
            command.Parameters.AddWithValue("$rt", query.RuntimeId);
        }

        if (query.TenantId is not null)
        {
            sql.Append(" AND r.tenant_id = $tenant");
            command.Parameters.AddWithValue("$tenant", query.TenantId);
        }

        if (query.VisibleTenantIds is { } visible)
        {
            sql.Append(" AND r.tenant_id IN (SELECT value FROM json_each($visible))");
            command.Parameters.AddWithValue("$visible", StringArray(visible));
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND e.ts >= $since");
            command.Parameters.AddWithValue("$since", since.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        }

        sql.Append(" ORDER BY e.seq LIMIT $limit");
        command.Parameters.AddWithValue("$limit", Math.Clamp(query.Limit, 1, MaxLimit));
        command.CommandText = sql.ToString();
        var items = new List<SequencedEvent>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            items.Add(new SequencedEvent(
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                JsonSerializer.Deserialize(reader.GetString(2), CoreJsonContext.Default.RuntimeEvent)!));
        }

        return Task.FromResult<IReadOnlyList<SequencedEvent>>(items);
    }

    /// <inheritdoc />
    public Task<long> LatestSeqAsync(CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM events";
        return Task.FromResult(Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture));
    }

    /// <summary>A JSON array of strings, for <c>json_each</c>.</summary>
    internal static string StringArray(IEnumerable<string> values) =>
        new System.Text.Json.Nodes.JsonArray(values.Select(v => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(v)).ToArray()).ToJsonString();
}
