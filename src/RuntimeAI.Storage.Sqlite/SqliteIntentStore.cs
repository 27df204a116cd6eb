using System.Globalization;
using System.Text.Json;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Planning;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>Intent records on SQLite (table <c>intents</c>, one JSON document per intent).</summary>
public sealed class SqliteIntentStore(SqliteDatabase database) : IIntentStore
{
    /// <inheritdoc />
    public async Task SaveAsync(IntentRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO intents (id, runtime_id, status, principal, created_at, doc) VALUES ($id, $rt, $status, $by, $created, $doc)
                ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc
                """;
            command.Parameters.AddWithValue("$id", record.IntentId);
            command.Parameters.AddWithValue("$rt", (object?)record.RuntimeId ?? DBNull.Value);
            command.Parameters.AddWithValue("$status", record.Status);
            command.Parameters.AddWithValue("$by", record.Principal);
            command.Parameters.AddWithValue("$created", record.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(record, CoreJsonContext.Default.IntentRecord));
            command.ExecuteNonQuery();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<IntentRecord?> GetAsync(string intentId, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM intents WHERE id = $id";
        command.Parameters.AddWithValue("$id", intentId);
        return Task.FromResult(command.ExecuteScalar() is string doc ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.IntentRecord) : null);
    }
}
