using System.Globalization;
using System.Text.Json;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>Proposals on SQLite; status transitions are compare-and-set so an approval is used once.</summary>
public sealed class SqliteProposalStore(SqliteDatabase database) : IProposalStore
{
    /// <inheritdoc />
    public async Task SaveAsync(Proposal proposal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO proposals (id, status, runtime_id, proposed_by, digest, created_at, expires_at, doc)
                VALUES ($id, $status, $rt, $by, $digest, $created, $expires, $doc)
                ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc
                """;
            Bind(command, proposal);
            command.ExecuteNonQuery();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<Proposal?> GetAsync(string proposalId, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM proposals WHERE id = $id";
        command.Parameters.AddWithValue("$id", proposalId);
        return Task.FromResult(command.ExecuteScalar() is string doc ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.Proposal) : null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Proposal>> ListAsync(ProposalStatus? status, int limit, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = status is null
            ? "SELECT doc FROM proposals ORDER BY id DESC LIMIT $limit"
            : "SELECT doc FROM proposals WHERE status = $status ORDER BY id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 1000));
        if (status is { } s)
        {
            command.Parameters.AddWithValue("$status", EnumText.Name(s));
        }

        var list = new List<Proposal>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.Proposal)!);
        }

        return Task.FromResult<IReadOnlyList<Proposal>>(list);
    }

    /// <inheritdoc />
    public async Task<bool> TransitionAsync(Proposal updated, ProposalStatus from, CancellationToken cancellationToken, int? approvalsBefore = null)
    {
        ArgumentNullException.ThrowIfNull(updated);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = approvalsBefore is null
                ? "UPDATE proposals SET status = $status, doc = $doc WHERE id = $id AND status = $from"
                : "UPDATE proposals SET status = $status, doc = $doc WHERE id = $id AND status = $from AND coalesce(json_array_length(doc, '$.approvals'), 0) = $approvals";
            Bind(command, updated);
            command.Parameters.AddWithValue("$from", EnumText.Name(from));
            if (approvalsBefore is { } count)
            {
                command.Parameters.AddWithValue("$approvals", count);
            }

            return command.ExecuteNonQuery() == 1;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    private static void Bind(Microsoft.Data.Sqlite.SqliteCommand command, Proposal proposal)
    {
        command.Parameters.AddWithValue("$id", proposal.ProposalId);
        command.Parameters.AddWithValue("$status", EnumText.Name(proposal.Status));
        command.Parameters.AddWithValue("$rt", (object?)proposal.RuntimeId ?? DBNull.Value);
        command.Parameters.AddWithValue("$by", proposal.ProposedBy);
        command.Parameters.AddWithValue("$digest", proposal.Digest);
        command.Parameters.AddWithValue("$created", proposal.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$expires", (object?)proposal.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture) ?? DBNull.Value);
        command.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(proposal, CoreJsonContext.Default.Proposal));
    }
}
