using System.Globalization;
using RuntimeAI.Core.Operations;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>Saga steps in the <c>saga_steps</c> table (schema v2), one row per step.</summary>
public sealed class SqliteSagaStore(SqliteDatabase database) : ISagaStore
{
    /// <inheritdoc />
    public async Task SaveStepsAsync(string operationId, IReadOnlyList<SagaStep> steps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(steps);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            foreach (var step in steps)
            {
                Upsert(connection, tx, operationId, step);
            }

            tx.Commit();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task SaveStepAsync(string operationId, SagaStep step, CancellationToken cancellationToken) =>
        SaveStepsAsync(operationId, [step], cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<SagaStep>> GetStepsAsync(string operationId, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM saga_steps WHERE operation_id = $op ORDER BY step";
        command.Parameters.AddWithValue("$op", operationId);
        var list = new List<SagaStep>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(SagaJson.Deserialize(reader.GetString(0)));
        }

        return Task.FromResult<IReadOnlyList<SagaStep>>(list);
    }

    private static void Upsert(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction tx, string operationId, SagaStep step)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            INSERT INTO saga_steps (operation_id, step, status, doc, updated_at) VALUES ($op, $step, $status, $doc, $ts)
            ON CONFLICT(operation_id, step) DO UPDATE SET status = excluded.status, doc = excluded.doc, updated_at = excluded.updated_at
            """;
        command.Parameters.AddWithValue("$op", operationId);
        command.Parameters.AddWithValue("$step", step.Step);
        command.Parameters.AddWithValue("$status", SagaJson.Name(step.Status));
        command.Parameters.AddWithValue("$doc", SagaJson.Serialize(step));
        command.Parameters.AddWithValue("$ts", step.UpdatedAt.ToString("O", CultureInfo.InvariantCulture));
        command.ExecuteNonQuery();
    }
}
