namespace RuntimeAI.Host.Tests.Rest;

/// <summary>The <c>events</c> settings of the config file.</summary>
public sealed class EventsConfigTests
{
    [Fact]
    public void Config_EventsSettings_AreRead_AndEveryBadOneIsNamed()
    {
        var dir = TestPaths.NewDataDir();
        var good = Path.Combine(dir, "good.json");
        var bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(good, """{"events": {"heartbeat_seconds": 5, "poll_ms": 250, "webhook_max_attempts": 4, "webhook_retry_base_ms": 500, "webhook_retry_max_ms": 60000, "webhook_timeout_ms": 3000}}""");
        File.WriteAllText(bad, """{"events": {"heartbeat_seconds": 0, "webhook_max_attempts": 1000, "webhook_retry_base_ms": 900000, "colour": 1}}""");

        var read = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = good }, new Dictionary<string, string?>());
        var refused = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = bad }, new Dictionary<string, string?>());

        Assert.Empty(read.Errors);
        var events = read.Options.Events;
        Assert.Equal(TimeSpan.FromSeconds(5), events.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), events.StreamPollInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), events.Webhooks.PollInterval);
        Assert.Equal(4, events.Webhooks.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(500), events.Webhooks.BaseDelay);
        Assert.Equal(TimeSpan.FromMinutes(1), events.Webhooks.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(3), events.Webhooks.AttemptTimeout);
        Assert.True(refused.Errors.Count == 4, string.Join("\n", refused.Errors));
        Assert.Contains(refused.Errors, e => e.Contains("'events.heartbeat_seconds' must be a positive whole number", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("webhook_max_attempts must be between 1 and 100", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("webhook_retry_base_ms must be positive and at most webhook_retry_max_ms", StringComparison.Ordinal));
        Assert.Contains(refused.Errors, e => e.Contains("'events.colour' is not a known setting", StringComparison.Ordinal));
    }
}
