using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>
/// Webhooks against the real server and a real loopback receiver: signed deliveries, retries while
/// the receiver fails, exactly one accepted delivery per delivery id, dead letters, a server kill,
/// tenant scoping and the audit of subscription changes.
/// </summary>
public sealed class EventsWebhookTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    private static async Task<JsonObject> SubscribeAsync(HttpClient http, WebhookReceiver receiver, JsonObject? extra = null)
    {
        var body = new JsonObject { ["url"] = receiver.Url.AbsoluteUri };
        foreach (var (k, v) in extra ?? [])
        {
            body[k] = v?.DeepClone();
        }

        using var response = await http.PostAsync("v1/webhooks", EventsWorld.Body(body), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await EventsWorld.JsonAsync(response);
        Assert.Equal("/v1/webhooks/" + (string)created["id"]!, response.Headers.Location!.OriginalString);
        receiver.Secret = (string)created["secret"]!;
        return created;
    }

    [Fact]
    public async Task Receiver_Returning500ThenRecovering_GetsEveryEventExactlyOncePerDeliveryId_WithValidSignatures()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = 500;
        await using var world = await EventsWorld.StartAsync();
        using var http = world.Client(world.AcmeOperator);
        var ct = TestContext.Current.CancellationToken;
        var subscription = await SubscribeAsync(http, receiver);

        var expected = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            expected.Add((await world.AppendAsync(i % 2 == 0 ? world.Acme1 : world.Acme2, "lifecycle.started", new JsonObject { ["password"] = "hunter2", ["n"] = i })).Id);
            await world.AppendAsync(world.Globex1, "lifecycle.started");
        }

        await receiver.WaitForAsync(r => r.Requests.Count >= 12, s_wait, "two failed rounds");
        receiver.Answer = 200;
        await receiver.WaitForAsync(r => r.Accepted.Count >= 6, s_wait, "every delivery accepted");
        await Task.Delay(1500, ct);

        var accepted = receiver.Accepted;
        Assert.Equal(6, accepted.Count);
        Assert.Equal(6, accepted.Select(a => a.DeliveryId).Distinct().Count());
        Assert.All(receiver.Requests, r => Assert.True(r.SignatureValid, $"bad signature on {r.DeliveryId}"));
        Assert.Equal(expected.Order(), accepted.Select(a => (string)a.Body["event"]!["id"]!).Order());
        Assert.All(accepted, a =>
        {
            Assert.Equal(a.DeliveryId, (string?)a.Body["delivery_id"]);
            Assert.Equal((string?)subscription["id"], (string?)a.Body["subscription_id"]);
            Assert.Equal("lifecycle.started", a.EventType);
            Assert.Equal("[REDACTED]", (string?)a.Body["event"]!["data"]!["password"]);
        });
        Assert.Subset(accepted.Select(a => a.DeliveryId).ToHashSet(), receiver.Requests.Where(r => r.Answered == 500).Select(r => r.DeliveryId).ToHashSet());

        var deliveries = await EventsWorld.JsonAsync(await http.GetAsync($"v1/webhooks/{subscription["id"]}/deliveries", ct));
        Assert.All(deliveries["items"]!.AsArray(), d =>
        {
            Assert.Equal("delivered", (string?)d!["status"]);
            Assert.True((int)d["attempts"]! >= 2);
        });
    }

    [Fact]
    public async Task Delivery_FailingEveryAttempt_IsDeadLetteredAfterMaxAttempts_SeenByAdminsOnly_AndRedeliverable()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = 503;
        await using var world = await EventsWorld.StartAsync(new JsonObject { ["poll_ms"] = 100, ["webhook_max_attempts"] = 3, ["webhook_retry_base_ms"] = 100 });
        using var acme = world.Client(world.AcmeOperator);
        using var admin = world.Client(world.Admin);
        var ct = TestContext.Current.CancellationToken;
        await SubscribeAsync(acme, receiver);
        var appended = await world.AppendAsync(world.Acme1, "lifecycle.stopped");

        await receiver.WaitForAsync(r => r.Requests.Count >= 3, s_wait, "three attempts");
        await Task.Delay(1000, ct);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Single(receiver.Requests.Select(r => r.DeliveryId).Distinct());

        using var refused = await acme.GetAsync("v1/webhooks/dead-letters", ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var dead = Assert.Single((await EventsWorld.JsonAsync(await admin.GetAsync("v1/webhooks/dead-letters", ct)))["items"]!.AsArray())!;
        Assert.Equal("dead", (string?)dead["status"]);
        Assert.Equal(3, (int)dead["attempts"]!);
        Assert.Equal(503, (int)dead["last_status"]!);
        Assert.Equal(appended.Id, (string?)dead["event_id"]);
        var deliveryId = (string)dead["id"]!;
        Assert.Equal(receiver.Requests.First().DeliveryId, deliveryId);

        receiver.Answer = 200;
        using var notAdmin = await acme.PostAsync($"v1/webhooks/deliveries/{deliveryId}/redeliver", null, ct);
        using var redeliver = await admin.PostAsync($"v1/webhooks/deliveries/{deliveryId}/redeliver", null, ct);
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        await receiver.WaitForAsync(r => r.Accepted.Count == 1, s_wait, "the redelivery");
        Assert.Equal(deliveryId, receiver.Accepted[0].DeliveryId);
        Assert.Empty((await EventsWorld.JsonAsync(await admin.GetAsync("v1/webhooks/dead-letters", ct)))["items"]!.AsArray());
        using var again = await admin.PostAsync($"v1/webhooks/deliveries/{deliveryId}/redeliver", null, ct);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Outbox_SurvivesAServerKill_EventsBeforeAndWhileDownAreDeliveredAfterTheRestart()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = 500;
        await using var world = await EventsWorld.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using (var http = world.Client(world.AcmeOperator))
        {
            await SubscribeAsync(http, receiver);
        }

        var expected = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            expected.Add((await world.AppendAsync(world.Acme1, "lifecycle.started")).Id);
        }

        await receiver.WaitForAsync(r => r.Requests.Count >= 3, s_wait, "first failed attempts");
        await world.KillServerAsync();
        for (var i = 0; i < 2; i++)
        {
            expected.Add((await world.AppendAsync(world.Acme2, "lifecycle.stopped")).Id);
        }

        receiver.Answer = 200;
        await world.StartServerAsync();
        await receiver.WaitForAsync(r => r.Accepted.Count >= 5, s_wait, "every delivery after the restart");
        await Task.Delay(1000, ct);

        Assert.Equal(5, receiver.Accepted.Count);
        Assert.Equal(5, receiver.Accepted.Select(a => a.DeliveryId).Distinct().Count());
        Assert.Equal(expected.Order(), receiver.Accepted.Select(a => (string)a.Body["event"]!["id"]!).Order());
        Assert.All(receiver.Requests, r => Assert.True(r.SignatureValid));
    }

    [Fact]
    public async Task Subscriptions_AreTenantScoped_TheSecretIsShownOnceAndNeverAudited_ChangesAreAudited()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var world = await EventsWorld.StartAsync();
        using var acme = world.Client(world.AcmeOperator);
        using var globex = world.Client(world.GlobexOperator);
        using var viewer = world.Client(world.AcmeViewer);
        using var ops = world.Client(world.Operator);
        using var admin = world.Client(world.Admin);
        var ct = TestContext.Current.CancellationToken;

        var created = await SubscribeAsync(acme, receiver, new JsonObject { ["event_types"] = new JsonArray("lifecycle.*"), ["runtime_id"] = world.Acme1 });
        var id = (string)created["id"]!;
        var secret = (string)created["secret"]!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal("acme", (string?)created["tenant_id"]);

        var acmeList = await EventsWorld.JsonAsync(await acme.GetAsync("v1/webhooks", ct));
        var globexList = await EventsWorld.JsonAsync(await globex.GetAsync("v1/webhooks", ct));
        var got = await EventsWorld.JsonAsync(await viewer.GetAsync($"v1/webhooks/{id}", ct));
        using var globexGet = await globex.GetAsync($"v1/webhooks/{id}", ct);
        using var globexDelete = await globex.DeleteAsync($"v1/webhooks/{id}", ct);
        using var viewerDelete = await viewer.DeleteAsync($"v1/webhooks/{id}", ct);
        using var globexOnAcmeRuntime = await globex.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = receiver.Url.AbsoluteUri, ["runtime_id"] = world.Acme1 }), ct);
        using var acmeForGlobex = await acme.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = receiver.Url.AbsoluteUri, ["tenant_id"] = "globex" }), ct);
        using var everyTenantByOperator = await ops.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = receiver.Url.AbsoluteUri }), ct);
        using var everyTenantByAdmin = await admin.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = receiver.Url.AbsoluteUri }), ct);
        using var cleartext = await acme.PostAsync("v1/webhooks", EventsWorld.Body(new JsonObject { ["url"] = "http://hooks.example.com/x", ["colour"] = "red" }), ct);

        Assert.Equal([id], acmeList["items"]!.AsArray().Select(s => (string)s!["id"]!));
        Assert.Empty(globexList["items"]!.AsArray());
        Assert.Null(got["secret"]);
        Assert.DoesNotContain(secret, acmeList.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, globexGet.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, globexDelete.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerDelete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, globexOnAcmeRuntime.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, acmeForGlobex.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, everyTenantByOperator.StatusCode);
        Assert.Equal(HttpStatusCode.Created, everyTenantByAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, cleartext.StatusCode);
        var problem = await cleartext.Content.ReadAsStringAsync(ct);
        Assert.Contains("unknown member(s) colour", problem, StringComparison.Ordinal);
        Assert.Contains("plain http to another machine; use https", problem, StringComparison.Ordinal);

        using var deleted = await acme.DeleteAsync($"v1/webhooks/{id}", ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await acme.GetAsync($"v1/webhooks/{id}", ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var audit = ReadAudit(world.DataDir);
        Assert.Contains(audit, a => a.Tool == "webhooks.create" && a.Principal == "key:acme-op" && a.Doc.Contains("\"outcome\":\"ok\"", StringComparison.Ordinal) && a.Doc.Contains(world.Acme1, StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Tool == "webhooks.create" && a.Principal == "key:ops" && a.Doc.Contains("\"outcome\":\"refused\"", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Tool == "webhooks.delete" && a.Principal == "key:acme-op" && a.Doc.Contains("\"outcome\":\"ok\"", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Tool == "webhooks.delete" && a.Principal == "key:globex-op" && !a.Doc.Contains("\"outcome\":\"ok\"", StringComparison.Ordinal));
        Assert.All(audit, a => Assert.DoesNotContain(secret, a.Doc, StringComparison.Ordinal));
        Assert.DoesNotContain(secret, world.Server!.Stderr, StringComparison.Ordinal);
    }

    private static List<(string Tool, string Principal, string Doc)> ReadAudit(string dataDir)
    {
        using var db = SqliteDatabase.Open(dataDir);
        using var connection = new SqliteConnection($"Data Source={db.Path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT tool, principal, doc FROM audit_log WHERE tool LIKE 'webhooks.%' ORDER BY seq";
        var list = new List<(string, string, string)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return list;
    }
}
