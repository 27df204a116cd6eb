// The webhook outbox end to end on one machine: events appended to the real SQLite store, turned
// into deliveries (one per matching webhook), signed and POSTed to a real Kestrel receiver on
// loopback that verifies every signature. Reports enqueue cost, delivered/s and per-delivery p50/p99.
// A Stopwatch harness:
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Events              (5,000 events x 2 webhooks)
//   dotnet run -c Release --project bench/RuntimeAI.Bench.Events -- --smoke   (200 events x 2 webhooks)
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Rest.Events;
using RuntimeAI.Storage.Sqlite;

var smoke = args.Contains("--smoke");
var events = smoke ? 200 : 5000;
const int Webhooks = 2;
var dir = Directory.CreateTempSubdirectory("runtimeai-bench-events-").FullName;
var time = TimeProvider.System;
var ids = new IdGenerator(time);
var secret = WebhookSignature.NewSecret();
var received = 0;
var badSignatures = 0;

var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
await using var receiver = builder.Build();
receiver.MapPost("/hook", (RequestDelegate)(async context =>
{
    using var buffer = new MemoryStream();
    await context.Request.Body.CopyToAsync(buffer);
    if (!WebhookSignature.Verify(secret, context.Request.Headers[WebhookSignature.SignatureHeader], context.Request.Headers[WebhookSignature.TimestampHeader],
        buffer.ToArray(), time.GetUtcNow(), WebhookSignature.DefaultTolerance))
    {
        Interlocked.Increment(ref badSignatures);
    }

    Interlocked.Increment(ref received);
    context.Response.StatusCode = 204;
}));
await receiver.StartAsync();
var url = new Uri(receiver.Urls.First().TrimEnd('/') + "/hook");

try
{
    using var db = SqliteDatabase.Open(dir);
    var inventory = new SqliteRuntimeInventory(db);
    var runtimeId = ids.New("rt");
    await inventory.SaveRuntimeAsync(new Runtime
    {
        Id = runtimeId, Name = "bench", Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = "acme",
        Spec = new RuntimeSpec { Size = "small" }, CreatedAt = time.GetUtcNow(),
    }, "bench", CancellationToken.None);
    var store = new SqliteWebhookStore(db, time);
    for (var w = 0; w < Webhooks; w++)
    {
        await store.AddSubscriptionAsync(new WebhookSubscription
        {
            Id = ids.New("whs"), TenantId = "acme", Url = url, Secret = secret, CreatedBy = "bench", CreatedAt = time.GetUtcNow(),
        }, CancellationToken.None);
    }

    var append = Stopwatch.StartNew();
    for (var i = 0; i < events; i++)
    {
        await inventory.AppendEventAsync(new RuntimeEvent
        {
            Id = ids.New("evt"), RuntimeId = runtimeId, Type = "lifecycle.started", Ts = time.GetUtcNow(),
            Data = new System.Text.Json.Nodes.JsonObject { ["n"] = i },
        }, CancellationToken.None);
    }

    append.Stop();
    var enqueue = Stopwatch.StartNew();
    var made = 0;
    int batch;
    while ((batch = await store.EnqueueNewEventsAsync(time.GetUtcNow(), 500, CancellationToken.None)) > 0)
    {
        made += batch;
    }

    enqueue.Stop();
    using var worker = new WebhookDeliveryWorker(store, new InventoryChangeFeed(), new EventsOptions(), time, NullLogger<WebhookDeliveryWorker>.Instance);
    var send = Stopwatch.StartNew();
    var attempts = await worker.RunOnceAsync(CancellationToken.None);
    send.Stop();

    var delivered = await store.ListDeliveriesAsync(null, WebhookDeliveryStatus.Delivered, 1000, CancellationToken.None);
    var latencies = delivered.Where(d => d.DeliveredAt is not null).Select(d => (d.DeliveredAt!.Value - d.CreatedAt).TotalMilliseconds).Order().ToList();
    Console.WriteLine($"events appended: {events} in {append.Elapsed.TotalSeconds:F2} s ({events / append.Elapsed.TotalSeconds:F0}/s, one durable transaction each)");
    Console.WriteLine($"deliveries enqueued: {made} ({Webhooks} webhooks) in {enqueue.Elapsed.TotalMilliseconds:F0} ms ({made / enqueue.Elapsed.TotalSeconds:F0}/s)");
    Console.WriteLine($"delivered: {attempts} attempts, {received} received, {badSignatures} bad signatures, in {send.Elapsed.TotalSeconds:F2} s ({attempts / send.Elapsed.TotalSeconds:F0}/s, sequential, each marked delivered durably)");
    Console.WriteLine($"enqueue-to-delivered of the last {latencies.Count}: p50 {Percentile(latencies, 0.5):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms (includes waiting behind earlier deliveries)");
    if (attempts != made || received != made || badSignatures != 0)
    {
        Console.Error.WriteLine("FAILED: every delivery must be attempted once, received once and correctly signed");
        return 1;
    }

    return 0;
}
finally
{
    await receiver.StopAsync();
    Directory.Delete(dir, recursive: true);
}

static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
