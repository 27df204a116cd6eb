using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Telemetry;

namespace RuntimeAI.Core.Tests.Telemetry;

/// <summary>The approval gauges read what a dashboard needs: how many wait, per channel, and for how long.</summary>
public sealed class ApprovalGaugeTests
{
    [Fact]
    public void Gauges_CountWaitingProposalsPerChannel_AgeTheOldest_AndDrainToZero()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var now = time.GetUtcNow();
        RuntimeAiTelemetry.SetPendingApprovals(
            [("approver", now.AddMinutes(-10)), ("approver", now.AddMinutes(-2)), ("client", now.AddSeconds(-30))], time);
        time.Advance(TimeSpan.FromMinutes(1));

        var first = Observe();
        RuntimeAiTelemetry.SetPendingApprovals([], time);
        var drained = Observe();

        Assert.Equal(2, first.Count["approver"]);
        Assert.Equal(1, first.Count["client"]);
        Assert.Equal(660, first.Age["approver"], 3);
        Assert.Equal(90, first.Age["client"], 3);
        Assert.Equal(0, drained.Count["approver"]);
        Assert.Equal(0, drained.Count["client"]);
        Assert.Equal(0, drained.Age["approver"], 3);
    }

    private static (Dictionary<string, long> Count, Dictionary<string, double> Age) Observe()
    {
        var count = new Dictionary<string, long>(StringComparer.Ordinal);
        var age = new Dictionary<string, double>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument == RuntimeAiTelemetry.ApprovalsPending || instrument == RuntimeAiTelemetry.ApprovalsPendingAge)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => count[Channel(tags)] = value);
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) => age[Channel(tags)] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return (count, age);
    }

    private static string Channel(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "channel")
            {
                return (string)tag.Value!;
            }
        }

        throw new InvalidOperationException("no channel tag");
    }
}
