using System.Text.Json;

namespace RuntimeAI.Core.Inside;

/// <summary>
/// A cluster view that can list whole objects and watch them (the state and event graph keeps
/// itself current this way): a list gives the objects and the collection's resourceVersion, a watch
/// resumes from it. Implemented by the Kubernetes views.
/// </summary>
public interface IClusterWatchSource
{
    /// <summary>Every object of a kind in every namespace (paged by the source), with the list's resourceVersion.</summary>
    Task<WatchListing> ListForWatchAsync(ResourceKind kind, CancellationToken cancellationToken);

    /// <summary>
    /// Watch events of a kind from <paramref name="resourceVersion"/> with bookmarks, until the server ends
    /// the stream. An <c>ERROR</c> event carries the API's Status (410 when the version is too old).
    /// </summary>
    /// <exception cref="ResourceVersionExpiredException">The server answered the watch itself with 410 Gone.</exception>
    IAsyncEnumerable<ClusterWatchEvent> WatchAsync(ResourceKind kind, string resourceVersion, CancellationToken cancellationToken);
}

/// <summary>A full listing.</summary>
/// <param name="Items">The objects (each a JSON object).</param>
/// <param name="ResourceVersion">The list's resourceVersion: a watch resumes from it.</param>
public sealed record WatchListing(IReadOnlyList<JsonElement> Items, string ResourceVersion);

/// <summary>One watch event.</summary>
/// <param name="Type"><c>ADDED</c>, <c>MODIFIED</c>, <c>DELETED</c>, <c>BOOKMARK</c> or <c>ERROR</c>.</param>
/// <param name="Object">The object (for ERROR, the API's Status).</param>
public sealed record ClusterWatchEvent(string Type, JsonElement Object);

/// <summary>The resourceVersion a watch asked for is older than the server keeps (410 Gone): list again.</summary>
public sealed class ResourceVersionExpiredException(string message) : Exception(message);
