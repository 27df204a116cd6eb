using System.Text.Json.Nodes;
using RuntimeAI.Core.Policies;

namespace RuntimeAI.Core.Governance;

/// <summary>A policy kept in the store (managed through <c>put_policy</c> / <c>delete_policy</c>).</summary>
/// <param name="Id">The policy id.</param>
/// <param name="Name">The policy name.</param>
/// <param name="Document">The policy exactly as it was put, as JSON text.</param>
/// <param name="UpdatedBy">The principal who last put it.</param>
/// <param name="CreatedAt">When it was first put.</param>
/// <param name="UpdatedAt">When it was last replaced, if ever.</param>
public sealed record StoredPolicy(string Id, string Name, string Document, string UpdatedBy, DateTimeOffset CreatedAt, DateTimeOffset? UpdatedAt);

/// <summary>Where policies managed through the admin tools are persisted.</summary>
public interface IPolicyStore
{
    /// <summary>Every stored policy, ordered by id.</summary>
    /// <returns>The policies.</returns>
    IReadOnlyList<StoredPolicy> List();

    /// <summary>Creates or replaces a policy.</summary>
    /// <param name="id">The policy id.</param>
    /// <param name="name">The policy name.</param>
    /// <param name="document">The policy as JSON text.</param>
    /// <param name="principal">Who puts it.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored row.</returns>
    Task<StoredPolicy> PutAsync(string id, string name, string document, string principal, CancellationToken cancellationToken);

    /// <summary>Deletes a policy.</summary>
    /// <param name="id">The policy id.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>False when there was no such policy.</returns>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}

/// <summary>One policy in force and where it comes from.</summary>
/// <param name="Policy">The validated policy.</param>
/// <param name="File">The file it was read from (relative to the policies directory), or null for a stored policy.</param>
/// <param name="Stored">The store row, or null for a file policy.</param>
public sealed record PolicyEntry(Policy Policy, string? File, StoredPolicy? Stored)
{
    /// <summary>True for a policy read from the policies directory (read-only at run time).</summary>
    public bool IsFile => File is not null;
}

/// <summary>The outcome of <see cref="PolicyRegistry.PutAsync"/> or <see cref="PolicyRegistry.DeleteAsync"/>.</summary>
public sealed record PolicyChange
{
    /// <summary>Every problem that refused the change; empty when it was applied.</summary>
    public IReadOnlyList<PolicyLoadError> Errors { get; init; } = [];

    /// <summary>The policy after a put (null after a delete or a refusal).</summary>
    public PolicyEntry? Entry { get; init; }

    /// <summary>True when a put created a policy rather than replacing one.</summary>
    public bool Created { get; init; }

    /// <summary>True when the change was applied.</summary>
    public bool Ok => Errors.Count == 0;
}

/// <summary>The policies could not be loaded; <see cref="Exception.Message"/> lists every error.</summary>
public sealed class PolicyRegistryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PolicyRegistryException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PolicyRegistryException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PolicyRegistryException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<PolicyLoadError> Errors { get; init; } = [];
}

/// <summary>
/// The policies in force: the files of the policies directory (read once at start, read-only at
/// run time) plus the policies stored through the admin tools. Every change is validated against
/// the whole set (ids must stay unique across files and store), persisted, and only then published
/// as a new immutable evaluator by swapping one reference, so a call always decides with either the
/// old set or the new one, never a mix.
/// </summary>
public sealed class PolicyRegistry : IPolicySource
{
    private const string PutSourceName = "policy";

    private readonly IReadOnlyList<PolicySource> _files;
    private readonly Dictionary<string, string> _fileOfPolicy;
    private readonly IPolicyStore _store;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private Snapshot _snapshot;

    private PolicyRegistry(string? directory, IReadOnlyList<PolicySource> files, Dictionary<string, string> fileOfPolicy, IPolicyStore store, Snapshot snapshot)
    {
        Directory = directory;
        _files = files;
        _fileOfPolicy = fileOfPolicy;
        _store = store;
        _snapshot = snapshot;
    }

    /// <summary>The policies directory, or null when the server runs on stored policies only.</summary>
    public string? Directory { get; }

    /// <inheritdoc />
    public PolicyEvaluator Current => Volatile.Read(ref _snapshot).Evaluator;

    /// <summary>Every policy in force: file policies in file order, then stored ones by id.</summary>
    public IReadOnlyList<PolicyEntry> Entries => Volatile.Read(ref _snapshot).Entries;

    /// <summary>Loads the files of <paramref name="directory"/> (if any) and the stored policies.</summary>
    /// <param name="directory">The policies directory, or null for stored policies only.</param>
    /// <param name="store">The policy store.</param>
    /// <returns>The registry.</returns>
    /// <exception cref="PolicyRegistryException">A file or stored policy has an error; the message lists all of them.</exception>
    public static PolicyRegistry Load(string? directory, IPolicyStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var errors = new List<PolicyLoadError>();
        IReadOnlyList<PolicySource> files = [];
        if (directory is not null)
        {
            try
            {
                files = PolicySource.ReadDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.Add(new PolicyLoadError(directory, "", null, ex.Message, "check the policies directory path and its permissions"));
            }
        }

        var fileOfPolicy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var policy in PolicyLoader.Parse([file]).Policies)
            {
                fileOfPolicy.TryAdd(policy.Id, file.Name);
            }
        }

        var stored = store.List().ToDictionary(p => p.Id, StringComparer.Ordinal);
        var (snapshot, buildErrors) = Build(files, fileOfPolicy, stored);
        errors.AddRange(buildErrors);
        if (errors.Count > 0)
        {
            throw new PolicyRegistryException(Describe(errors, directory)) { Errors = errors };
        }

        return new PolicyRegistry(directory, files, fileOfPolicy, store, snapshot!);
    }

    /// <summary>
    /// Validates a policy (given as the JSON object of <c>put_policy</c>) against the whole set,
    /// stores it and publishes the new evaluator. Nothing changes when there is any error.
    /// </summary>
    /// <param name="document">The policy object.</param>
    /// <param name="principal">Who puts it (kept with the policy).</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>The change, or every error with its path.</returns>
    public async Task<PolicyChange> PutAsync(JsonNode? document, string principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var parsed = PolicyLoader.ParsePolicy(document, PutSourceName);
        if (!parsed.Ok)
        {
            return new PolicyChange { Errors = parsed.Errors };
        }

        var policy = parsed.Policies[0];
        if (_fileOfPolicy.TryGetValue(policy.Id, out var file))
        {
            return new PolicyChange
            {
                Errors =
                [
                    new PolicyLoadError(PutSourceName, "/id", null,
                        $"the policy '{policy.Id}' comes from the file {file} in the policies directory {Directory} and is read-only at run time",
                        $"edit {file} and restart the server, or put the policy under another id"),
                ],
            };
        }

        var text = document!.ToJsonString();
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = Volatile.Read(ref _snapshot);
            var stored = new Dictionary<string, StoredPolicy>(current.Stored, StringComparer.Ordinal);
            var existed = stored.Remove(policy.Id);
            // Validate the whole set with the candidate so rule ids stay unique across files and store.
            stored[policy.Id] = new StoredPolicy(policy.Id, policy.Name, text, principal, default, null);
            var (_, errors) = Build(_files, _fileOfPolicy, stored);
            if (errors.Count > 0)
            {
                return new PolicyChange { Errors = errors };
            }

            stored[policy.Id] = await _store.PutAsync(policy.Id, policy.Name, text, principal, cancellationToken).ConfigureAwait(false);
            var (snapshot, _) = Build(_files, _fileOfPolicy, stored);
            Volatile.Write(ref _snapshot, snapshot!);
            return new PolicyChange { Entry = snapshot!.Entries.First(e => e.Policy.Id == policy.Id), Created = !existed };
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Deletes a stored policy and publishes the new evaluator.</summary>
    /// <param name="id">The policy id.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>The change, or the error (unknown id, or a file policy).</returns>
    public async Task<PolicyChange> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (_fileOfPolicy.TryGetValue(id, out var file))
        {
            return new PolicyChange
            {
                Errors =
                [
                    new PolicyLoadError(id, "", null,
                        $"the policy '{id}' comes from the file {file} in the policies directory {Directory} and is read-only at run time",
                        $"remove it from {file} and restart the server"),
                ],
            };
        }

        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = Volatile.Read(ref _snapshot);
            if (!current.Stored.ContainsKey(id))
            {
                return new PolicyChange
                {
                    Errors = [new PolicyLoadError(id, "", null, $"there is no policy '{id}'", "call list_policies for the ids in force")],
                };
            }

            await _store.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
            var stored = new Dictionary<string, StoredPolicy>(current.Stored, StringComparer.Ordinal);
            stored.Remove(id);
            var (snapshot, errors) = Build(_files, _fileOfPolicy, stored);
            if (errors.Count > 0)
            {
                // Removing a policy cannot create a conflict; if it somehow did, keep deciding with the old set.
                throw new PolicyRegistryException(Describe(errors, Directory)) { Errors = errors };
            }

            Volatile.Write(ref _snapshot, snapshot!);
            return new PolicyChange();
        }
        finally
        {
            _writes.Release();
        }
    }

    private static (Snapshot? Snapshot, IReadOnlyList<PolicyLoadError> Errors) Build(
        IReadOnlyList<PolicySource> files, Dictionary<string, string> fileOfPolicy, Dictionary<string, StoredPolicy> stored)
    {
        var ordered = stored.Values.OrderBy(p => p.Id, StringComparer.Ordinal).ToArray();
        var sources = files.Concat(ordered.Select(p => new PolicySource(
            p.CreatedAt == default ? PutSourceName : $"stored policy '{p.Id}'", p.Document)));
        var result = PolicyLoader.Parse(sources);
        if (!result.Ok)
        {
            return (null, result.Errors);
        }

        var entries = result.Policies
            .Select(p => new PolicyEntry(p, fileOfPolicy.GetValueOrDefault(p.Id), stored.GetValueOrDefault(p.Id)))
            .ToArray();
        return (new Snapshot(result.CreateEvaluator(), entries, stored), []);
    }

    private static string Describe(IReadOnlyList<PolicyLoadError> errors, string? directory) =>
        $"{errors.Count} policy error{(errors.Count == 1 ? "" : "s")}" +
        (directory is null ? "" : $" (policies directory {directory})") + ":\n  " + string.Join("\n  ", errors);

    private sealed record Snapshot(PolicyEvaluator Evaluator, IReadOnlyList<PolicyEntry> Entries, IReadOnlyDictionary<string, StoredPolicy> Stored);
}
