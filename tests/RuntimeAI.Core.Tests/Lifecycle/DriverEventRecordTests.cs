using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.Core.Actions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Lifecycle;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Core.Tests.Lifecycle;

/// <summary>A backend event recorded while an operation writes the same runtime's record.</summary>
public sealed class DriverEventRecordTests
{
    private static readonly DateTimeOffset s_start = new(2026, 12, 8, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task DriverEvent_FoundBeforeAnOperationWroteTheRecord_DoesNotUndoTheWrite()
    {
        var time = new FakeTimeProvider(s_start);
        var driver = new FlippableDriver("fake:one");
        var inventory = new InMemoryInventory();
        var lifecycle = new RuntimeLifecycle(inventory, new DriverRegistry([driver]), new IdGenerator(time), time, NullLogger<RuntimeLifecycle>.Instance);
        var runtime = new Runtime
        {
            Id = "rt_01KAAAAAAAAAAAAAAAAAAAAAAA",
            Name = "web-1",
            Type = RuntimeType.Vm,
            State = RuntimeState.Running,
            Backend = new RuntimeBackendRef(BackendKind.VmBackend, driver.Name + "#web-1"),
            CreatedAt = s_start,
            UpdatedAt = s_start,
        };
        await inventory.SaveRuntimeAsync(runtime, "seed", CancellationToken.None);

        // The backend reports the domain stopped (the first half of a restart); the recorder has
        // found the record (running) and is held right there.
        var found = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        inventory.AfterFind = async () =>
        {
            found.TrySetResult();
            await resume.Task;
        };
        time.Advance(TimeSpan.FromSeconds(1));
        var recording = lifecycle.RecordDriverEventAsync(
            new DriverEvent(runtime.Backend!.Ref, "stopped", RuntimeState.Stopped, "domain stopped", time.GetUtcNow()), CancellationToken.None);
        await found.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        inventory.AfterFind = null;

        // Meanwhile the restart ends and records the runtime running, later than the event.
        time.Advance(TimeSpan.FromSeconds(1));
        var (operation, _) = await lifecycle.RunAsync(new LifecycleRequest { RuntimeId = runtime.Id, Action = ActionType.Restart }, null, CancellationToken.None);
        Assert.Equal("succeeded", Common.EnumText.Name(operation.Status));
        Assert.Equal(RuntimeState.Running, (await inventory.GetRuntimeAsync(runtime.Id, CancellationToken.None))!.State);

        resume.SetResult();
        await recording.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // The event is history: kept as an event, not written over the restart's record.
        var record = (await inventory.GetRuntimeAsync(runtime.Id, CancellationToken.None))!;
        Assert.Equal(RuntimeState.Running, record.State);
        Assert.Equal(s_start.AddSeconds(2), record.UpdatedAt);
        Assert.Contains(inventory.Events, e => e.Type == "backend.stopped" && e.RuntimeId == runtime.Id);
    }
}
