using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Watch;

/// <summary>The kind of change a watch reports.</summary>
public enum WatchEventType
{
    /// <summary>The object appeared (or, after a re-list, was not seen before).</summary>
    Added,

    /// <summary>The object changed.</summary>
    Modified,

    /// <summary>The object was deleted; <see cref="WatchEvent.Object"/> is its last state.</summary>
    Deleted,

    /// <summary>A progress marker: only the resourceVersion of <see cref="WatchEvent.Object"/> is meaningful.</summary>
    Bookmark,
}

/// <summary>One change from a watch.</summary>
/// <param name="Type">What happened.</param>
/// <param name="Object">The object after the change (before, for a delete).</param>
/// <param name="Synthetic">
/// True when the client derived the event by re-listing after the server answered 410 Gone (the
/// watch window had expired), rather than receiving it from the server.
/// </param>
public sealed record WatchEvent(WatchEventType Type, KubeObject Object, bool Synthetic = false);
