using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Telemetry;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Host;

/// <summary>
/// OTLP export of the server's spans and metrics (docs/telemetry.md). Off by default: with no
/// endpoint (config <c>telemetry.otlp_endpoint</c> or OTEL_EXPORTER_OTLP[_TRACES|_METRICS]_ENDPOINT)
/// nothing is registered, no exporter is built and the instruments have no listener. When an
/// endpoint is set the providers are built when the host starts, never during start-up's DI
/// wiring, and flushed when it stops. There is no console exporter: in stdio mode stdout is the wire.
/// </summary>
internal static class TelemetryExport
{
    /// <summary>What will be exported, resolved from the config and the environment.</summary>
    internal sealed record Plan(bool Traces, bool Metrics, string Why)
    {
        public bool Any => Traces || Metrics;
    }

    /// <summary>Registers the exporting providers when an endpoint is configured; nothing otherwise.</summary>
    public static IServiceCollection AddRuntimeAiTelemetry(this IServiceCollection services, RuntimeAiServerOptions options)
    {
        var plan = Resolve(options.Telemetry, Environment.GetEnvironmentVariable);
        if (plan.Any)
        {
            services.AddHostedService(_ => new Exporting(options.Telemetry, plan));
            if (plan.Metrics)
            {
                services.AddHostedService(sp => new PendingApprovalsSampler(
                    sp.GetRequiredService<IProposalStore>(), sp.GetService<TimeProvider>() ?? TimeProvider.System,
                    SampleInterval(options.Telemetry, Environment.GetEnvironmentVariable),
                    sp.GetRequiredService<ILogger<PendingApprovalsSampler>>()));
            }
        }

        return services;
    }

    /// <summary>Decides which signals to export; standard OTEL_* variables win over the config file.</summary>
    internal static Plan Resolve(TelemetryExportOptions config, Func<string, string?> env)
    {
        if (string.Equals(env("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return new Plan(false, false, "OTEL_SDK_DISABLED=true");
        }

        var common = Set(env("OTEL_EXPORTER_OTLP_ENDPOINT")) ?? config.OtlpEndpoint;
        var traces = (Set(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) ?? common) is not null
                     && config.Traces && !IsNone(env("OTEL_TRACES_EXPORTER"));
        var metrics = (Set(env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) ?? common) is not null
                      && config.Metrics && !IsNone(env("OTEL_METRICS_EXPORTER"));
        return new Plan(traces, metrics, traces || metrics ? "otlp" : "no OTLP endpoint configured");
    }

    /// <summary>How often the waiting proposals are counted: as often as metrics are exported, at most every 15 s.</summary>
    internal static TimeSpan SampleInterval(TelemetryExportOptions config, Func<string, string?> env)
    {
        var ms = int.TryParse(env("OTEL_METRIC_EXPORT_INTERVAL"), System.Globalization.CultureInfo.InvariantCulture, out var fromEnv) && fromEnv > 0
            ? fromEnv
            : config.MetricExportIntervalMs ?? 15_000;
        return TimeSpan.FromMilliseconds(Math.Clamp(ms, 100, 15_000));
    }

    private static string? Set(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool IsNone(string? value) => string.Equals(value?.Trim(), "none", StringComparison.OrdinalIgnoreCase);

    /// <summary>Owns the providers for the host's lifetime.</summary>
    private sealed class Exporting(TelemetryExportOptions config, Plan plan) : IHostedService, IDisposable
    {
        private TracerProvider? _tracer;
        private MeterProvider? _meter;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            var resource = ResourceBuilder.CreateDefault();
            if (Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is not { Length: > 0 })
            {
                resource.AddService(config.ServiceName ?? "runtimeai", serviceVersion: McpServerSetup.Version);
            }

            if (plan.Traces)
            {
                _tracer = Sdk.CreateTracerProviderBuilder()
                    .SetResourceBuilder(resource)
                    .AddSource(RuntimeAiTelemetry.Name)
                    .AddOtlpExporter(o => Configure(o, "traces"))
                    .Build();
            }

            if (plan.Metrics)
            {
                _meter = Sdk.CreateMeterProviderBuilder()
                    .SetResourceBuilder(resource)
                    .AddMeter(RuntimeAiTelemetry.Name)
                    .AddOtlpExporter((o, reader) =>
                    {
                        Configure(o, "metrics");
                        if (config.MetricExportIntervalMs is { } interval && Environment.GetEnvironmentVariable("OTEL_METRIC_EXPORT_INTERVAL") is not { Length: > 0 })
                        {
                            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
                        }
                    })
                    .Build();
            }

            return Task.CompletedTask;
        }

        // Values from the config file apply only where no OTEL_* variable gave one (the exporter reads those itself).
        private void Configure(OtlpExporterOptions options, string signal)
        {
            var grpc = (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL") ?? config.OtlpProtocol) == "grpc";
            if (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL") is not { Length: > 0 } && config.OtlpProtocol is not null)
            {
                options.Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
            }

            var signalVariable = signal == "traces" ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
            if (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is not { Length: > 0 }
                && Environment.GetEnvironmentVariable(signalVariable) is not { Length: > 0 }
                && config.OtlpEndpoint is { } endpoint)
            {
                // A base endpoint set in code is used as is: over HTTP the signal's path is ours to add.
                options.Endpoint = new Uri(grpc ? endpoint : $"{endpoint.TrimEnd('/')}/v1/{signal}");
            }
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            // Flush what is buffered so the last calls before a shutdown are not lost.
            _tracer?.ForceFlush(5000);
            _meter?.ForceFlush(5000);
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            _tracer?.Dispose();
            _meter?.Dispose();
        }
    }

    /// <summary>
    /// Feeds the approval gauges (runtimeai.approvals.pending and .age) from the store, so they
    /// count proposals made by any process on the data directory and drop the decided and expired.
    /// </summary>
    internal sealed class PendingApprovalsSampler(IProposalStore proposals, TimeProvider time, TimeSpan interval, ILogger<PendingApprovalsSampler> logger)
        : BackgroundService
    {
        /// <summary>More waiting proposals than this are not counted (the gauge then reads this many).</summary>
        private const int Limit = 10_000;

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var timer = new PeriodicTimer(interval, time);
            do
            {
                try
                {
                    var now = time.GetUtcNow();
                    var pending = await proposals.ListAsync(ProposalStatus.Pending, Limit, stoppingToken).ConfigureAwait(false);
                    RuntimeAiTelemetry.SetPendingApprovals(
                        pending.Where(p => p.ExpiresAt is not { } expires || expires > now).Select(p => (p.ApprovalChannel, p.CreatedAt)), time);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning("Could not count the proposals waiting for approval: {Message}", ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
    }
}
