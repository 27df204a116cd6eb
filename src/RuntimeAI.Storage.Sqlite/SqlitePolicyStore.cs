using System.Globalization;
using RuntimeAI.Core.Governance;

namespace RuntimeAI.Storage.Sqlite;

/// <summary>
/// Policies managed through the admin tools, in the <c>policies</c> table (schema v2). The
/// <c>source</c> column holds the principal who last put the policy; <c>doc</c> the policy's JSON
/// exactly as it was put, so it is validated again by the loader on every start.
/// </summary>
public sealed class SqlitePolicyStore(SqliteDatabase database, TimeProvider time) : IPolicyStore
{
    /// <summary>Loads the policy registry (the directory's files plus the stored policies) for a server.</summary>
    /// <param name="database">The store.</param>
    /// <param name="policiesDirectory">The policies directory, or null for stored policies only.</param>
    /// <param name="time">The clock stamping changes.</param>
    /// <returns>The registry.</returns>
    /// <exception cref="StoreException">A file or stored policy has an error; the message lists every one (exit code 2 in the CLI).</exception>
    public static PolicyRegistry LoadRegistry(SqliteDatabase database, string? policiesDirectory, TimeProvider time) =>
        LoadRegistry(new SqlitePolicyStore(database, time), policiesDirectory);

    /// <summary>Loads the policy registry from the directory's files and <paramref name="store"/> (any store).</summary>
    /// <exception cref="StoreException">A file or stored policy has an error; the message lists every one.</exception>
    internal static PolicyRegistry LoadRegistry(IPolicyStore store, string? policiesDirectory)
    {
        try
        {
            return PolicyRegistry.Load(policiesDirectory, store);
        }
        catch (PolicyRegistryException ex)
        {
            throw new StoreException(ex.Message + "\n  fix the files, or start without --policies and remove a clashing stored policy with delete_policy", ex);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredPolicy> List()
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, doc, source, created_at, updated_at FROM policies ORDER BY id";
        using var reader = command.ExecuteReader();
        var policies = new List<StoredPolicy>();
        while (reader.Read())
        {
            policies.Add(new StoredPolicy(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
                reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture)));
        }

        return policies;
    }

    /// <inheritdoc />
    public async Task<StoredPolicy> PutAsync(string id, string name, string document, string principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(principal);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = time.GetUtcNow();
            var stamp = now.ToString("O", CultureInfo.InvariantCulture);
            using var connection = database.OpenConnection();
            using var tx = connection.BeginTransaction();
            DateTimeOffset? created = null;
            using (var read = connection.CreateCommand())
            {
                read.Transaction = tx;
                read.CommandText = "SELECT created_at FROM policies WHERE id = $id";
                read.Parameters.AddWithValue("$id", id);
                if (read.ExecuteScalar() is string text)
                {
                    created = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
                }
            }

            using (var write = connection.CreateCommand())
            {
                write.Transaction = tx;
                write.CommandText = created is null
                    ? "INSERT INTO policies (id, name, source, doc, created_at, updated_at) VALUES ($id, $name, $source, $doc, $now, NULL)"
                    : "UPDATE policies SET name = $name, source = $source, doc = $doc, updated_at = $now WHERE id = $id";
                write.Parameters.AddWithValue("$id", id);
                write.Parameters.AddWithValue("$name", name);
                write.Parameters.AddWithValue("$source", principal);
                write.Parameters.AddWithValue("$doc", document);
                write.Parameters.AddWithValue("$now", stamp);
                write.ExecuteNonQuery();
            }

            tx.Commit();
            return created is { } c
                ? new StoredPolicy(id, name, document, principal, c, now)
                : new StoredPolicy(id, name, document, principal, now, null);
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM policies WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteNonQuery() > 0;
        }
        finally
        {
            database.WriteLock.Release();
        }
    }
}
