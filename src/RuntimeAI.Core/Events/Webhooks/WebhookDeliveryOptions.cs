using System.ComponentModel.DataAnnotations;

namespace RuntimeAI.Core.Events.Webhooks;

/// <summary>How webhook deliveries are attempted and retried.</summary>
public sealed class WebhookDeliveryOptions
{
    /// <summary>Attempts before a delivery is dead-lettered (default 10: about 8.5 minutes of retries at the default delays).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Delay before the second attempt; each later one doubles it (default 1 s).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts (default 5 minutes).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one attempt may take before it counts as failed (default 10 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the outbox looks for events written by other processes (the CLI) when nothing wakes it (default 2 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a claimed delivery is this process's to attempt: twice the attempt timeout plus 5 s
    /// (25 s at the default timeout), room for the attempt and for recording its outcome. A process
    /// that dies holding a claim leaves it to expire; any replica then retries it.
    /// </summary>
    public TimeSpan ClaimLease => (2 * AttemptTimeout) + TimeSpan.FromSeconds(5);

    /// <summary>The delay after the <paramref name="attempts"/>-th failed attempt: base × 2^(attempts−1), capped.</summary>
    public TimeSpan DelayAfter(int attempts)
    {
        var exponent = Math.Clamp(attempts - 1, 0, 30);
        var ticks = BaseDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Every problem with these options, not just the first.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxAttempts is < 1 or > 100)
        {
            errors.Add($"webhook_max_attempts must be between 1 and 100 (got {MaxAttempts})");
        }

        if (BaseDelay <= TimeSpan.Zero || BaseDelay > MaxDelay)
        {
            errors.Add($"webhook_retry_base_ms must be positive and at most webhook_retry_max_ms (got {BaseDelay.TotalMilliseconds} ms, max {MaxDelay.TotalMilliseconds} ms)");
        }

        if (AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add("the webhook attempt timeout must be positive");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            errors.Add("the outbox poll interval must be positive");
        }

        return errors;
    }
}
