using Microsoft.Extensions.Logging;
using RuntimeAI.Kubernetes.Client;
using RuntimeAI.Kubernetes.Config;

namespace RuntimeAI.Kubernetes.Tests.Infrastructure;

internal static class TestClients
{
    public const string Token = "s3cr3t-token-value";

    public static KubeApiClientOptions FastOptions(int maxRetries = 3) => new()
    {
        MaxRetries = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        MaxRetryDelay = TimeSpan.FromSeconds(3),
        RequestTimeout = TimeSpan.FromSeconds(10),
        MaxWatchReconnects = 5,
    };

    public static KubeApiClient For(FakeKubeApi api, KubeApiClientOptions? options = null, ILogger? logger = null) =>
        new(new KubeConnection { Server = api.BaseUri, Token = Token, Namespace = "team-a" }, options ?? FastOptions(), logger: logger);
}

/// <summary>Collects every formatted log line, to prove secrets never reach a log.</summary>
internal sealed class CapturingLogger : ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines)
        {
            Lines.Add(formatter(state, exception));
        }
    }
}
