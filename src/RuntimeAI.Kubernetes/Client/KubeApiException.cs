using System.Net;
using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Client;

/// <summary>
/// The API server refused a request. Carries the HTTP status and the API's own <c>Status</c>
/// (reason, message, details); the message names the operation and the resource.
/// </summary>
public class KubeApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KubeApiException() { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KubeApiException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KubeApiException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from a response.</summary>
    /// <param name="operation">What was attempted, e.g. <c>replace deployments "web" in namespace "prod"</c>.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="status">The API's Status body, when there was one.</param>
    public KubeApiException(string operation, HttpStatusCode statusCode, KubeStatus? status)
        : base(FormatMessage(operation, statusCode, status))
    {
        Operation = operation;
        StatusCode = statusCode;
        Status = status;
    }

    /// <summary>The HTTP status code.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The API's reason, e.g. <c>NotFound</c>, <c>Conflict</c>, <c>AlreadyExists</c>, <c>Forbidden</c>, <c>Invalid</c>.</summary>
    public string? Reason => Status?.Reason;

    /// <summary>The API's message, without the operation prefix.</summary>
    public string? ApiMessage => Status?.Message;

    /// <summary>The whole Status body, when the server sent one.</summary>
    public KubeStatus? Status { get; }

    /// <summary>What was attempted.</summary>
    public string? Operation { get; }

    internal static KubeApiException Create(string operation, HttpStatusCode statusCode, KubeStatus? status, TimeSpan? retryAfter) => statusCode switch
    {
        HttpStatusCode.Conflict => new KubeConflictException(operation, status),
        HttpStatusCode.NotFound => new KubeNotFoundException(operation, status),
        HttpStatusCode.Gone => new KubeGoneException(operation, status),
        HttpStatusCode.TooManyRequests => new KubeTooManyRequestsException(operation, status, retryAfter),
        _ => new KubeApiException(operation, statusCode, status),
    };

    private static string FormatMessage(string operation, HttpStatusCode statusCode, KubeStatus? status)
    {
        var code = $"{(int)statusCode} {status?.Reason ?? statusCode.ToString()}";
        return string.IsNullOrEmpty(status?.Message) ? $"{operation} failed: {code}" : $"{operation} failed: {code}: {status.Message}";
    }
}

/// <summary>
/// 409: the object changed since it was read (stale resourceVersion) or already exists
/// (<see cref="KubeApiException.Reason"/> <c>AlreadyExists</c>). Re-read and retry a conflict.
/// </summary>
public sealed class KubeConflictException : KubeApiException
{
    /// <summary>Creates the exception.</summary>
    public KubeConflictException() { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KubeConflictException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KubeConflictException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from a response.</summary>
    /// <param name="operation">What was attempted.</param>
    /// <param name="status">The API's Status body.</param>
    public KubeConflictException(string operation, KubeStatus? status) : base(operation, HttpStatusCode.Conflict, status) { }

    /// <summary>True when the object already exists (create), false for a stale resourceVersion.</summary>
    public bool AlreadyExists => string.Equals(Reason, "AlreadyExists", StringComparison.Ordinal);
}

/// <summary>404: the object (or the resource type) does not exist.</summary>
public sealed class KubeNotFoundException : KubeApiException
{
    /// <summary>Creates the exception.</summary>
    public KubeNotFoundException() { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KubeNotFoundException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KubeNotFoundException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from a response.</summary>
    /// <param name="operation">What was attempted.</param>
    /// <param name="status">The API's Status body.</param>
    public KubeNotFoundException(string operation, KubeStatus? status) : base(operation, HttpStatusCode.NotFound, status) { }
}

/// <summary>410: the requested resourceVersion is too old (watch or continue token expired).</summary>
public sealed class KubeGoneException : KubeApiException
{
    /// <summary>Creates the exception.</summary>
    public KubeGoneException() { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KubeGoneException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KubeGoneException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from a response.</summary>
    /// <param name="operation">What was attempted.</param>
    /// <param name="status">The API's Status body.</param>
    public KubeGoneException(string operation, KubeStatus? status) : base(operation, HttpStatusCode.Gone, status) { }
}

/// <summary>
/// 429: throttled after every retry, or (for an eviction) refused because a PodDisruptionBudget
/// would be violated. Evictions are never retried automatically.
/// </summary>
public sealed class KubeTooManyRequestsException : KubeApiException
{
    /// <summary>Creates the exception.</summary>
    public KubeTooManyRequestsException() { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KubeTooManyRequestsException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KubeTooManyRequestsException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from a response.</summary>
    /// <param name="operation">What was attempted.</param>
    /// <param name="status">The API's Status body.</param>
    /// <param name="retryAfter">The server's <c>Retry-After</c>, when sent.</param>
    public KubeTooManyRequestsException(string operation, KubeStatus? status, TimeSpan? retryAfter)
        : base(operation, HttpStatusCode.TooManyRequests, status) => RetryAfter = retryAfter;

    /// <summary>How long the server asked the client to wait.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True when an eviction was refused because of a disruption budget.</summary>
    public bool DisruptionBudgetViolated =>
        Status?.Details?.Causes?.Any(c => string.Equals(c.Reason, "DisruptionBudget", StringComparison.Ordinal)) == true
        || (Status?.Message?.Contains("disruption budget", StringComparison.OrdinalIgnoreCase) ?? false);
}
