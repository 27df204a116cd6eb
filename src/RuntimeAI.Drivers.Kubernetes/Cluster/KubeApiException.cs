using System.Net;
using RuntimeAI.Core.Drivers;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>
/// A Kubernetes API call that failed, mapped to a driver error: the HTTP status, the API's reason
/// (<c>NotFound</c>, <c>Conflict</c>, <c>AlreadyExists</c>, <c>Forbidden</c>…) and a message that
/// names the cause and the fix.
/// </summary>
public sealed class KubeApiException : RuntimeDriverException
{
    /// <summary>Creates the error.</summary>
    /// <param name="status">HTTP status, or null when no answer came back.</param>
    /// <param name="reason">The Status reason from the API, when it sent one.</param>
    /// <param name="message">Operator-facing message.</param>
    /// <param name="inner">The underlying exception.</param>
    public KubeApiException(HttpStatusCode? status, string? reason, string message, Exception? inner = null)
        : base(message, inner ?? new InvalidOperationException(message))
    {
        StatusCode = status;
        Reason = reason;
    }

    /// <summary>The HTTP status; null when the API did not answer (transport error, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The API's Status reason, e.g. <c>Conflict</c> or <c>AlreadyExists</c>.</summary>
    public string? Reason { get; }

    /// <summary>True for 404 Not Found.</summary>
    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;

    /// <summary>True for a 409 caused by a stale resourceVersion (not AlreadyExists).</summary>
    public bool IsStaleResourceVersion => StatusCode == HttpStatusCode.Conflict && Reason != "AlreadyExists";

    /// <summary>Maps a status to the driver's error code.</summary>
    internal static string CodeFor(HttpStatusCode? status, string? reason) => status switch
    {
        null => "unreachable",
        HttpStatusCode.NotFound => "not_found",
        HttpStatusCode.Conflict when reason == "AlreadyExists" => "already_exists",
        HttpStatusCode.Conflict => "conflict",
        HttpStatusCode.Forbidden => "forbidden",
        HttpStatusCode.Unauthorized => "unauthorized",
        HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity => "invalid",
        HttpStatusCode.TooManyRequests => "throttled",
        >= HttpStatusCode.InternalServerError => "unreachable",
        _ => "driver_error",
    };
}
