namespace RuntimeAI.Kubernetes.Client;

/// <summary>Timeouts and retry behaviour of a <see cref="KubeApiClient"/>.</summary>
public sealed class KubeApiClientOptions
{
    /// <summary>Per attempt: until the whole response is read (headers only, for watches and log streams). Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after the first attempt on 429, 5xx, timeouts and connection errors. Default 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>Base of the exponential backoff (with jitter). Default 200 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound of one retry wait, including a server's <c>Retry-After</c>. Default 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failed reconnects after which a watch gives up. Default 10.</summary>
    public int MaxWatchReconnects { get; set; } = 10;

    /// <summary>
    /// A watch that receives nothing (not even a bookmark) for this long is treated as a dropped
    /// connection and resumed; it guards against half-open connections. Default 10 min.
    /// </summary>
    public TimeSpan WatchIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Sent as <c>User-Agent</c>.</summary>
    public string UserAgent { get; set; } = "runtimeai-kube/0.1";

    /// <summary>Checks every value and reports all problems at once.</summary>
    /// <exception cref="ArgumentException">Some value is out of range.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(RequestTimeout)} must be positive");
        }

        if (MaxRetries is < 0 or > 20)
        {
            errors.Add($"{nameof(MaxRetries)} must be between 0 and 20");
        }

        if (RetryBaseDelay < TimeSpan.Zero)
        {
            errors.Add($"{nameof(RetryBaseDelay)} must not be negative");
        }

        if (MaxRetryDelay < RetryBaseDelay)
        {
            errors.Add($"{nameof(MaxRetryDelay)} must be at least {nameof(RetryBaseDelay)}");
        }

        if (MaxWatchReconnects < 0)
        {
            errors.Add($"{nameof(MaxWatchReconnects)} must not be negative");
        }

        if (WatchIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(WatchIdleTimeout)} must be positive");
        }

        if (string.IsNullOrWhiteSpace(UserAgent))
        {
            errors.Add($"{nameof(UserAgent)} must be set");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid KubeApiClientOptions: " + string.Join("; ", errors));
        }
    }
}
