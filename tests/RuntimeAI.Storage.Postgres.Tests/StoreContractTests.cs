using System.Text.Json.Nodes;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Events;
using RuntimeAI.Core.Events.Webhooks;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Core.Operations;
using RuntimeAI.Core.Planning;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Core.Signals;

namespace RuntimeAI.Storage.Postgres.Tests;

/// <summary>
/// The store contracts as the engine uses them, run unchanged against each store: what one replica
/// writes, another reads; the audit trail stays one verifiable chain when replicas append at once.
/// </summary>
public abstract class StoreContractTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    /// <summary>A new empty store (skips when its server is not available).</summary>
    protected abstract Task<IStoreUnderTest> CreateStoreAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Runtime NewRuntime(string id, string? tenant = null, IReadOnlyDictionary<string, string>? labels = null, string size = "small") => new()
    {
        Id = id, Name = id.Replace("rt_", "name-", StringComparison.Ordinal), Type = RuntimeType.Vm, State = RuntimeState.Running, TenantId = tenant,
        Labels = labels ?? new Dictionary<string, string>(), Backend = new RuntimeBackendRef(BackendKind.VmBackend, "dom-" + id),
        Spec = new RuntimeSpec { Size = size }, CreatedAt = s_t0,
    };

    private static RuntimeEvent NewEvent(string id, string runtimeId, string type, int minute) =>
        new() { Id = id, RuntimeId = runtimeId, Type = type, Ts = s_t0.AddMinutes(minute) };

    [Fact]
    public async Task Runtimes_SavedOnOneReplica_ReadOnAnother_RevisionsOnlyWhenSpecChanges()
    {
        await using var store = await CreateStoreAsync();
        var a = await store.OpenReplicaAsync();
        var b = await store.OpenReplicaAsync();

        await a.Inventory.SaveRuntimeAsync(NewRuntime("rt_1"), "created", Ct);
        await a.Inventory.SaveRuntimeAsync(NewRuntime("rt_1") with { State = RuntimeState.Stopped, UpdatedAt = s_t0.AddMinutes(1) }, "stopped", Ct);
        await b.Inventory.SaveRuntimeAsync(NewRuntime("rt_1", size: "large") with { UpdatedAt = s_t0.AddMinutes(2) }, "scaled", Ct);

        var read = await a.Inventory.GetRuntimeAsync("rt_1", Ct);
        Assert.Equal("large", read!.Spec.Size);
        Assert.Equal(RuntimeState.Running, read.State);
        Assert.Equal("rt_1", (await b.Inventory.FindRuntimeByBackendRefAsync("dom-rt_1", Ct))!.Id);
        var revisions = await b.Inventory.GetSpecRevisionsAsync("rt_1", Ct);
        Assert.Equal([(1, "created", "small"), (2, "scaled", "large")], revisions.Select(r => (r.Revision, r.Reason, r.Spec.Size!)));
        Assert.Null(await b.Inventory.GetRuntimeAsync("rt_missing", Ct));
    }

    [Fact]
    public async Task RuntimeList_FiltersByTenantAndLabels_PagesWithTokens_RefusesForeignToken()
    {
        await using var store = await CreateStoreAsync();
        var s = await store.OpenReplicaAsync();
        for (var i = 0; i < 5; i++)
        {
            await s.Inventory.SaveRuntimeAsync(NewRuntime($"rt_{i}", tenant: i % 2 == 0 ? "team-a" : "team-b",
                labels: new Dictionary<string, string> { ["env"] = i < 3 ? "prod" : "dev" }), "created", Ct);
        }

        await s.Inventory.SaveRuntimeAsync(NewRuntime("rt_9", tenant: "team-a") with { State = RuntimeState.Deleted }, "deleted", Ct);

        var first = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { TenantIds = ["team-a"], PageSize = 2 }, Ct);
        Assert.Equal(["rt_0", "rt_2"], first.Items.Select(r => r.Id));
        Assert.NotNull(first.NextPageToken);
        var second = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { TenantIds = ["team-a"], PageSize = 2, PageToken = first.NextPageToken }, Ct);
        Assert.Equal(["rt_4"], second.Items.Select(r => r.Id));
        Assert.Null(second.NextPageToken);

        var prod = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { Labels = new Dictionary<string, string> { ["env"] = "prod" } }, Ct);
        Assert.Equal(["rt_0", "rt_1", "rt_2"], prod.Items.Select(r => r.Id));
        var withDeleted = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { TenantId = "team-a", IncludeDeleted = true }, Ct);
        Assert.Contains("rt_9", withDeleted.Items.Select(r => r.Id));
        await Assert.ThrowsAsync<InvalidPageTokenException>(() =>
            s.Inventory.ListRuntimesAsync(new RuntimeQuery { TenantIds = ["team-b"], PageToken = first.NextPageToken }, Ct));
    }

    [Fact]
    public async Task RuntimeList_WithLabel_KeepsTheRuntimesCarryingTheKey_PagesWithTokens()
    {
        await using var store = await CreateStoreAsync();
        var s = await store.OpenReplicaAsync();
        var dependsOn = DryRunSimulator.DependsOnLabel;
        await s.Inventory.SaveRuntimeAsync(NewRuntime("rt_0", labels: new Dictionary<string, string> { [dependsOn] = "name-db" }), "created", Ct);
        await s.Inventory.SaveRuntimeAsync(NewRuntime("rt_1", labels: new Dictionary<string, string> { ["env"] = "prod" }), "created", Ct);
        await s.Inventory.SaveRuntimeAsync(NewRuntime("rt_2", labels: new Dictionary<string, string> { [dependsOn] = "a, b", ["team"] = "x" }), "created", Ct);
        await s.Inventory.SaveRuntimeAsync(NewRuntime("rt_3", labels: new Dictionary<string, string> { [dependsOn] = "a" }) with { State = RuntimeState.Deleted }, "deleted", Ct);
        await s.Inventory.SaveRuntimeAsync(NewRuntime("rt_4"), "created", Ct);

        var first = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { WithLabel = dependsOn, PageSize = 1 }, Ct);
        var second = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { WithLabel = dependsOn, PageSize = 1, PageToken = first.NextPageToken }, Ct);
        var team = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { WithLabel = "team" }, Ct);
        var withDeleted = await s.Inventory.ListRuntimesAsync(new RuntimeQuery { WithLabel = dependsOn, IncludeDeleted = true }, Ct);

        Assert.Equal(["rt_0"], first.Items.Select(r => r.Id));
        Assert.Equal(["rt_2"], second.Items.Select(r => r.Id));
        Assert.Null(second.NextPageToken);
        Assert.Equal(["rt_2"], team.Items.Select(r => r.Id));
        Assert.Equal(["rt_0", "rt_2", "rt_3"], withDeleted.Items.Select(r => r.Id));
        // A token is bound to its filter: it does not page a list without the label filter.
        await Assert.ThrowsAsync<InvalidPageTokenException>(() =>
            s.Inventory.ListRuntimesAsync(new RuntimeQuery { PageSize = 1, PageToken = first.NextPageToken }, Ct));
    }

    [Fact]
    public async Task Events_FromTwoReplicas_FeedReadsThemInPositionOrder_ListIsNewestFirst()
    {
        await using var store = await CreateStoreAsync();
        var a = await store.OpenReplicaAsync();
        var b = await store.OpenReplicaAsync();
        await a.Inventory.SaveRuntimeAsync(NewRuntime("rt_1", tenant: "team-a"), "created", Ct);
        await a.Inventory.SaveRuntimeAsync(NewRuntime("rt_2", tenant: "team-b"), "created", Ct);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? a : b).Inventory.AppendEventAsync(NewEvent($"evt_{i:D2}", i % 4 < 2 ? "rt_1" : "rt_2", i % 3 == 0 ? "runtime.state_changed" : "operation.finished", i), Ct)));

        var feed = await b.Events.ReadAfterAsync(new EventFeedQuery { AfterSeq = 0, Limit = 100 }, Ct);
        Assert.Equal(40, feed.Count);
        Assert.Equal(feed.Select(e => e.Seq).Order(), feed.Select(e => e.Seq));
        Assert.Equal(40, feed.Select(e => e.Event.Id).Distinct().Count());
        Assert.Equal(feed[^1].Seq, await a.Events.LatestSeqAsync(Ct));
        var teamA = await a.Events.ReadAfterAsync(new EventFeedQuery { AfterSeq = feed[5].Seq, VisibleTenantIds = ["team-a"], Limit = 100 }, Ct);
        Assert.All(teamA, e => Assert.Equal("team-a", e.TenantId));
        Assert.All(teamA, e => Assert.True(e.Seq > feed[5].Seq));

        var page = await a.Inventory.ListEventsAsync(new EventQuery { RuntimeId = "rt_1", TypePrefix = "runtime.", PageSize = 3 }, Ct);
        Assert.Equal(3, page.Items.Count);
        Assert.All(page.Items, e => Assert.StartsWith("runtime.", e.Type, StringComparison.Ordinal));
        // Newest first means last written first (position order), whatever the events' own timestamps.
        var positions = feed.ToDictionary(e => e.Event.Id, e => e.Seq);
        var expected = feed.Where(e => e.Event.RuntimeId == "rt_1" && e.Event.Type.StartsWith("runtime.", StringComparison.Ordinal))
            .OrderByDescending(e => e.Seq).Select(e => e.Event.Id).ToList();
        Assert.Equal(expected.Take(3), page.Items.Select(e => e.Id));
        var rest = await a.Inventory.ListEventsAsync(new EventQuery { RuntimeId = "rt_1", TypePrefix = "runtime.", PageSize = 10, PageToken = page.NextPageToken }, Ct);
        Assert.Equal(expected.Skip(3), rest.Items.Select(e => e.Id));
        Assert.All(rest.Items, e => Assert.True(positions[e.Id] < positions[page.Items[^1].Id]));
    }

    [Fact]
    public async Task Operations_UnfinishedListed_MutationsCountedSince()
    {
        await using var store = await CreateStoreAsync();
        var s = await store.OpenReplicaAsync();
        Operation Op(string id, string rt, OperationStatus status, int minute) => new()
        {
            OperationId = id, Status = status, Action = "stop", RuntimeId = rt, CreatedAt = s_t0.AddMinutes(minute),
        };
        await s.Inventory.SaveOperationAsync(Op("op_1", "rt_1", OperationStatus.Running, 0), Ct);
        await s.Inventory.SaveOperationAsync(Op("op_2", "rt_2", OperationStatus.Queued, 5), Ct);
        await s.Inventory.SaveOperationAsync(Op("op_3", "rt_2", OperationStatus.Succeeded, 10), Ct);
        await s.Inventory.SaveOperationAsync(Op("op_1", "rt_1", OperationStatus.Failed, 0), Ct);

        Assert.Equal(["op_2"], (await s.Inventory.ListUnfinishedOperationsAsync(Ct)).Select(o => o.OperationId));
        Assert.Equal(OperationStatus.Failed, (await s.Inventory.GetOperationAsync("op_1", Ct))!.Status);
        Assert.Equal((2, 1), await s.Inventory.CountMutationsSinceAsync(s_t0.AddMinutes(5), Ct));
    }

    [Fact]
    public async Task SagaSteps_ReplacedByStep_ReadInOrder()
    {
        await using var store = await CreateStoreAsync();
        var s = await store.OpenReplicaAsync();
        SagaStep Step(int n, SagaStepStatus status) => new()
        {
            Step = n, ActionIndex = n, Kind = "action", Command = new SagaCommand { Type = SagaCommandType.Stop },
            Compensation = new SagaCommand { Type = SagaCommandType.Start }, Status = status, UpdatedAt = s_t0.AddSeconds(n),
        };
        await s.Sagas.SaveStepsAsync("op_1", [Step(2, SagaStepStatus.Pending), Step(1, SagaStepStatus.Pending)], Ct);
        await s.Sagas.SaveStepAsync("op_1", Step(1, SagaStepStatus.Succeeded), Ct);

        var steps = await s.Sagas.GetStepsAsync("op_1", Ct);
        Assert.Equal([(1, SagaStepStatus.Succeeded), (2, SagaStepStatus.Pending)], steps.Select(x => (x.Step, x.Status)));
        Assert.Equal(SagaCommandType.Start, steps[0].Compensation!.Type);
        Assert.Empty(await s.Sagas.GetStepsAsync("op_none", Ct));
    }

    [Fact]
    public async Task IdempotencyKey_ClaimedAtOnceOnTwoReplicas_OneHolder_ScopedByPrincipal()
    {
        await using var store = await CreateStoreAsync();
        var a = await store.OpenReplicaAsync();
        var b = await store.OpenReplicaAsync();
        IdempotencyRecord Candidate(string principal, string op) => new()
        {
            Key = "k-1", Principal = principal, Tool = "stop_runtime", PayloadDigest = "digest-" + op, OperationId = op, CreatedAt = s_t0,
        };

        var holders = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            (i % 2 == 0 ? a : b).Idempotency.ClaimAsync(Candidate("alice", $"op_{i}"), Ct)));
        Assert.Single(holders.Select(h => h.OperationId).Distinct());

        var bob = await b.Idempotency.ClaimAsync(Candidate("bob", "op_bob"), Ct);
        Assert.Equal("op_bob", bob.OperationId);
        await a.Idempotency.CompleteAsync(holders[0], """{"ok":true}""", Ct);
        Assert.Equal(holders[0].OperationId, (await b.Idempotency.FindAsync("alice", "k-1", Ct))!.OperationId);
        Assert.Null(await b.Idempotency.FindAsync("carol", "k-1", Ct));
    }

    [Fact]
    public async Task ProposalApprovals_FromTheSameReadOnTwoReplicas_SecondIsRefused()
    {
        await using var store = await CreateStoreAsync();
        var a = await store.OpenReplicaAsync();
        var b = await store.OpenReplicaAsync();
        var pending = new Proposal
        {
            ProposalId = "prp_1", Status = ProposalStatus.Pending, Title = "stop_runtime rt_1", Digest = "d",
            ProposedBy = "agent:bot", RequiredApprovals = 2, CreatedAt = s_t0,
        };
        await a.Proposals.SaveAsync(pending, Ct);
        var read = (await b.Proposals.GetAsync("prp_1", Ct))!;
        ProposalApproval By(string who) => new() { By = who, Channel = ApprovalChannels.Approver, At = s_t0 };

        Assert.True(await a.Proposals.TransitionAsync(read with { Approvals = [By("human:alice")] }, ProposalStatus.Pending, Ct, approvalsBefore: 0));
        Assert.False(await b.Proposals.TransitionAsync(read with { Approvals = [By("human:bob")] }, ProposalStatus.Pending, Ct, approvalsBefore: 0));
        var approved = (await b.Proposals.GetAsync("prp_1", Ct))! with { Status = ProposalStatus.Approved };
        Assert.True(await b.Proposals.TransitionAsync(approved, ProposalStatus.Pending, Ct));
        Assert.False(await a.Proposals.TransitionAsync(approved, ProposalStatus.Pending, Ct));

        Assert.Equal(["prp_1"], (await a.Proposals.ListAsync(ProposalStatus.Approved, 10, Ct)).Select(p => p.ProposalId));
        Assert.Empty(await a.Proposals.ListAsync(ProposalStatus.Pending, 10, Ct));
        Assert.Equal(["human:alice"], (await a.Proposals.GetAsync("prp_1", Ct))!.Approvals.Select(x => x.By));
    }

    [Fact]
    public async Task Policies_PutUpdateListDelete()
    {
        await using var store = await CreateStoreAsync();
        var s = await store.OpenReplicaAsync();
        var created = await s.Policies.PutAsync("p-b", "budget", """{"id":"p-b"}""", "admin:ann", Ct);
        Assert.Null(created.UpdatedAt);
        await s.Policies.PutAsync("p-a", "first", """{"id":"p-a"}""", "admin:ann", Ct);
        var updated = await s.Policies.PutAsync("p-b", "budget2", """{"id":"p-b","v":2}""", "admin:bo", Ct);
        Assert.Equal(created.CreatedAt, updated.CreatedAt);
        Assert.NotNull(updated.UpdatedAt);

        var listed = (await store.OpenReplicaAsync()).Policies.List();
        Assert.Equal(["p-a", "p-b"], listed.Select(p => p.Id));
        Assert.Equal(("budget2", "admin:bo", """{"id":"p-b","v":2}"""), (listed[1].Name, listed[1].UpdatedBy, listed[1].Document));
        Assert.True(await s.Policies.DeleteAsync("p-a", Ct));
        Assert.False(await s.Policies.DeleteAsync("p-a", Ct));
        Assert.Equal(["p-b"], s.Policies.List().Select(p => p.Id));
    }

    [Fact]
    public async Task ApiKeys_OneActiveKeyPerName_RevokedByName_NameFreedAfterRevoke()
    {
        await using var store = await CreateStoreAsync();
        var s = await store.OpenReplicaAsync();
        ApiKey Key(string id) => new()
        {
            Id = id, Name = "ci-bot", SecretHash = "hash-" + id, Kind = PrincipalKind.Agent, Roles = [Role.Operator], CreatedBy = "admin", CreatedAt = s_t0,
        };
        Assert.True(await s.ApiKeys.AddAsync(Key("key_1"), Ct));
        Assert.False(await s.ApiKeys.AddAsync(Key("key_2"), Ct));
        var revoked = await s.ApiKeys.RevokeAsync("ci-bot", "admin", s_t0.AddHours(1), Ct);
        Assert.Equal("key_1", revoked!.Id);
        Assert.Null(await s.ApiKeys.RevokeAsync("ci-bot", "admin", s_t0.AddHours(2), Ct));
        Assert.True(await s.ApiKeys.AddAsync(Key("key_2"), Ct));
        Assert.Equal(s_t0.AddHours(1), (await s.ApiKeys.GetAsync("key_1", Ct))!.RevokedAt);
        Assert.Equal(["key_1", "key_2"], (await s.ApiKeys.ListAsync(Ct)).Select(k => k.Id).Order());
    }

    [Fact]
    public async Task IntentsAndSignals_RoundTrip_RollupsKeepTheAverageExact()
    {
        await using var store = await CreateStoreAsync();
        var s = await store.OpenReplicaAsync();
        var intent = new IntentRecord
        {
            IntentId = "int_1", Status = "planned", Request = new JsonObject { ["goal"] = "scale" }, Plan = new JsonObject { ["steps"] = 2 },
            Principal = "alice", CreatedAt = s_t0,
        };
        await s.Intents.SaveAsync(intent, Ct);
        await s.Intents.SaveAsync(intent with { Status = "applied" }, Ct);
        Assert.Equal("applied", (await s.Intents.GetAsync("int_1", Ct))!.Status);

        await s.Signals.AppendAsync([
            new SignalSample("rt_1", "cpu", s_t0.AddSeconds(1), 10),
            new SignalSample("rt_1", "cpu", s_t0.AddSeconds(30), 30),
            new SignalSample("rt_1", "cpu", s_t0.AddMinutes(1).AddSeconds(5), 50),
        ], Ct);
        var minutes = await s.Signals.QueryAsync("rt_1", "cpu", s_t0, s_t0.AddHours(1), SignalResolution.Minute, Ct);
        Assert.Equal([(20.0, 10.0, 30.0, 2), (50.0, 50.0, 50.0, 1)], minutes.Select(p => (p.Avg, p.Min, p.Max, p.Count)));
        var raw = await s.Signals.QueryAsync("rt_1", "cpu", s_t0, s_t0.AddHours(1), SignalResolution.Raw, Ct);
        Assert.Equal([10.0, 30.0, 50.0], raw.Select(p => p.Avg));
    }

    [Fact]
    public async Task WebhookOutbox_EnqueuedOnceAcrossReplicas_DeliveredOnce()
    {
        await using var store = await CreateStoreAsync();
        var a = await store.OpenReplicaAsync();
        var b = await store.OpenReplicaAsync();
        await a.Inventory.SaveRuntimeAsync(NewRuntime("rt_1", tenant: "team-a"), "created", Ct);
        var sub = await a.Webhooks.AddSubscriptionAsync(new WebhookSubscription
        {
            Id = "whs_1", Url = new Uri("http://127.0.0.1:9/hook"), Secret = "s3cret", CreatedBy = "alice", CreatedAt = s_t0, EventTypes = ["runtime.*"],
        }, Ct);
        for (var i = 0; i < 6; i++)
        {
            await b.Inventory.AppendEventAsync(NewEvent($"evt_{i}", "rt_1", i % 2 == 0 ? "runtime.state_changed" : "operation.finished", i), Ct);
        }

        var made = await Task.WhenAll(a.Webhooks.EnqueueNewEventsAsync(s_t0, 100, Ct), b.Webhooks.EnqueueNewEventsAsync(s_t0, 100, Ct));
        Assert.Equal(3, made.Sum());
        var due = await b.Webhooks.ListDueAsync(s_t0.AddMinutes(1), 10, Ct);
        Assert.Equal(3, due.Count);
        Assert.All(due, d => Assert.Equal(sub.Id, d.Delivery.SubscriptionId));
        await a.Webhooks.MarkDeliveredAsync(due[0].Delivery.Id, 200, s_t0.AddMinutes(1), Ct);
        await a.Webhooks.MarkFailedAsync(due[1].Delivery.Id, 500, "HTTP 500", s_t0.AddMinutes(5), Ct);
        await a.Webhooks.MarkFailedAsync(due[2].Delivery.Id, null, "refused", null, Ct);

        Assert.Equal(WebhookDeliveryStatus.Delivered, (await b.Webhooks.GetDeliveryAsync(due[0].Delivery.Id, Ct))!.Status);
        Assert.Equal(s_t0.AddMinutes(5), await b.Webhooks.NextDueAtAsync(Ct));
        Assert.Single(await b.Webhooks.ListDeliveriesAsync(sub.Id, WebhookDeliveryStatus.Dead, 10, Ct));
        Assert.True(await b.Webhooks.RedeliverAsync(due[2].Delivery.Id, s_t0.AddMinutes(2), Ct));
        Assert.True(await b.Webhooks.DeleteSubscriptionAsync(sub.Id, Ct));
        Assert.Empty(await a.Webhooks.ListDeliveriesAsync(null, null, 10, Ct));
    }

    [Fact]
    public async Task Audit_CallBegunOnOneReplica_EndedOnAnother_FoundByEveryRuntimeItTouched()
    {
        await using var store = await CreateStoreAsync();
        var a = await store.OpenReplicaAsync();
        var b = await store.OpenReplicaAsync();
        await a.Audit.BeginAsync(new AuditBegin { CallId = "call-1", Ts = s_t0, Tool = "run_saga", Principal = "alice" }, Ct);
        Assert.Equal(["call-1"], (await b.Audit.ListInFlightAsync(Ct)).Select(x => x.CallId));

        var record = await b.Audit.EndAsync(new AuditEnd
        {
            CallId = "call-1", Ts = s_t0.AddSeconds(1), Outcome = "ok", RuntimeId = "rt_1", RuntimeIds = ["rt_1", "rt_2"],
        }, Ct);

        Assert.Equal("alice", record.Begin.Principal);
        Assert.Empty(await a.Audit.ListInFlightAsync(Ct));
        Assert.Equal(["call-1"], (await a.Audit.QueryAsync(new AuditQuery { RuntimeId = "rt_2" }, Ct)).Select(r => r.Begin.CallId));
        Assert.Empty(await a.Audit.QueryAsync(new AuditQuery { RuntimeId = "rt_3" }, Ct));
        Assert.Single(await a.Audit.QueryAsync(new AuditQuery { Principal = "alice", Tool = "run_saga", Since = s_t0 }, Ct));
    }

    [Fact]
    public async Task Audit_TwoReplicasAppendingAtOnce_OneChainWithoutGaps_Verifies()
    {
        await using var store = await CreateStoreAsync();
        var replicas = new[] { await store.OpenReplicaAsync(), await store.OpenReplicaAsync() };
        const int PerReplica = 120;

        var records = await Task.WhenAll(Enumerable.Range(0, 2 * PerReplica).Select(i => Task.Run(async () =>
        {
            var log = replicas[i % 2].Audit;
            var id = $"r{i % 2}-call-{i:D3}";
            // Half the calls are read-only (kept in memory until the end), half write their start first.
            if (i % 4 < 2)
            {
                await log.BeginAsync(new AuditBegin { CallId = id, Ts = s_t0.AddMilliseconds(i), Tool = "stop_runtime", Principal = "alice" }, CancellationToken.None);
            }
            else
            {
                await log.BeginReadOnlyAsync(new AuditBegin { CallId = id, Ts = s_t0.AddMilliseconds(i), Tool = "list_runtimes", Principal = "bob" }, CancellationToken.None);
            }

            return await log.EndAsync(new AuditEnd { CallId = id, Ts = s_t0.AddMilliseconds(i + 1), Outcome = "ok" }, CancellationToken.None);
        })));

        var stored = await replicas[0].Audit.QueryAsync(new AuditQuery { PageSize = 10_000 }, Ct);
        var verdict = AuditChain.Verify(stored);
        Assert.True(verdict.Ok, verdict.Reason);
        Assert.Equal(Enumerable.Range(1, 2 * PerReplica).Select(i => (long)i), stored.Select(r => r.Seq));
        Assert.Equal(records.Select(r => r.Begin.CallId).Order(StringComparer.Ordinal), stored.Select(r => r.Begin.CallId).Order(StringComparer.Ordinal));
        Assert.Equal(records.Select(r => (r.Seq, r.Hash)).Order(), stored.Select(r => (r.Seq, r.Hash)));
        Assert.Empty(await replicas[1].Audit.ListInFlightAsync(Ct));
    }
}

/// <summary>The contracts on the embedded SQLite store.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    protected override Task<IStoreUnderTest> CreateStoreAsync() => Task.FromResult<IStoreUnderTest>(new SqliteStoreUnderTest());
}

/// <summary>The contracts on PostgreSQL (skipped with the reason when no server is configured).</summary>
public sealed class PostgresStoreContractTests : StoreContractTests
{
    protected override async Task<IStoreUnderTest> CreateStoreAsync() => await PostgresStoreUnderTest.CreateAsync();
}
