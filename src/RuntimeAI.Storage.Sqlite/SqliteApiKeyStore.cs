using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Identity;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>API keys on SQLite: one active key per name; secrets are never stored, only their hash.</summary>
public sealed class SqliteApiKeyStore(SqliteDatabase database) : IApiKeyStore
{
    /// <inheritdoc />
    public async Task<bool> AddAsync(ApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO api_keys (id, name, secret_hash, revoked_at, doc) VALUES ($id, $name, $hash, NULL, $doc)";
            command.Parameters.AddWithValue("$id", key.Id);
            command.Parameters.AddWithValue("$name", key.Name);
            command.Parameters.AddWithValue("$hash", key.SecretHash);
            command.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(key, CoreJsonContext.Default.ApiKey));
            try
            {
                command.ExecuteNonQuery();
                return true;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
            {
                return false;
            }
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM api_keys WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return Task.FromResult(command.ExecuteScalar() is string doc ? JsonSerializer.Deserialize(doc, CoreJsonContext.Default.ApiKey) : null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM api_keys ORDER BY name, id";
        var list = new List<ApiKey>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), CoreJsonContext.Default.ApiKey)!);
        }

        return Task.FromResult<IReadOnlyList<ApiKey>>(list);
    }

    /// <inheritdoc />
    public async Task<ApiKey?> RevokeAsync(string idOrName, string revokedBy, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT doc FROM api_keys WHERE (id = $key OR name = $key) AND revoked_at IS NULL";
            select.Parameters.AddWithValue("$key", idOrName);
            if (select.ExecuteScalar() is not string doc)
            {
                return null;
            }

            var revoked = JsonSerializer.Deserialize(doc, CoreJsonContext.Default.ApiKey)! with { RevokedAt = at, RevokedBy = revokedBy };
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE api_keys SET revoked_at = $at, doc = $doc WHERE id = $id";
            update.Parameters.AddWithValue("$at", at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            update.Parameters.AddWithValue("$doc", JsonSerializer.Serialize(revoked, CoreJsonContext.Default.ApiKey));
            update.Parameters.AddWithValue("$id", revoked.Id);
            update.ExecuteNonQuery();
            return revoked;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }
}
