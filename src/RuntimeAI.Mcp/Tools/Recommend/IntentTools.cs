using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Governance;
using RuntimeAI.Core.Planning;
using RuntimeAI.Core.Policies;
using RuntimeAI.Core.Runtimes;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Pipeline;
using RuntimeAI.Mcp.Tools.Analyse;

namespace RuntimeAI.Mcp.Tools.Recommend;

/// <summary>The inputs plan_actions and submit_intent share, and the planning both do.</summary>
internal static class IntentPlanning
{
    public const string IntentIdPattern = "^int_\\w{26}$";

    public static Prop[] Inputs() =>
    [
        Schema.Optional("runtime_id", Schema.String(null, Schema.RuntimeIdPattern)),
        SignalQueries.Selector(),
        Schema.Optional("goal", Schema.String()),
        Schema.Optional("constraints", Schema.Object(
            Schema.Optional("latency_ms", Schema.Number()),
            Schema.Optional("availability", Schema.Enum(null, ["high", "normal"])),
            Schema.Optional("cost_budget", Schema.Number()),
            Schema.Optional("maintenance_window", Schema.String()))),
        Schema.Optional("policy_mode", Schema.Enum(null, ["safe_first", "balanced", "aggressive"])),
        Schema.Optional("window", SignalQueries.Duration()),
    ];

    /// <summary>The plan for a call's goal over its runtimes (an error when the input cannot be planned at all).</summary>
    public static async Task<(IntentPlan? Plan, List<Runtime> Runtimes, ToolResult? Error)> PlanAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (SignalQueries.Store(call) is not { } store)
        {
            return (null, [], SignalQueries.NoHistory());
        }

        var goalText = call.GetString("goal");
        if (goalText is null || goalText.Length > 500)
        {
            return (null, [], ToolResult.Error("invalid_goal", $"goal is required (at most 500 characters): one of {string.Join(", ", IntentParser.GoalNames)}, or a sentence such as \"reduce cost while keeping latency < 50ms\""));
        }

        var (runtimes, error) = await SignalQueries.ScopeAsync(call, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return (null, [], error);
        }

        var parsed = IntentParser.TryParseGoal(goalText, out var named)
            ? new ParsedIntent(named, new IntentConstraints(), [])
            : IntentParser.Parse(goalText);
        var given = call.Arguments["constraints"] as JsonObject;
        if (given?["maintenance_window"]?.GetValue<string>() is { } w && !System.Text.RegularExpressions.Regex.IsMatch(w, IntentParser.WindowPattern))
        {
            return (null, [], ToolResult.Error("invalid_constraints", $"constraints.maintenance_window '{w}' is not a window; write HH:MM-HH:MM in UTC, e.g. 22:00-02:00"));
        }

        if (given?["latency_ms"]?.GetValue<double>() is <= 0 || given?["cost_budget"]?.GetValue<double>() is < 0)
        {
            return (null, [], ToolResult.Error("invalid_constraints", "constraints.latency_ms must be above 0 and constraints.cost_budget at least 0"));
        }

        // Structured constraints win over what the text said.
        var constraints = parsed.Constraints with
        {
            LatencyMs = given?["latency_ms"]?.GetValue<double>() ?? parsed.Constraints.LatencyMs,
            Availability = given?["availability"]?.GetValue<string>() ?? parsed.Constraints.Availability,
            CostBudget = given?["cost_budget"]?.GetValue<double>() ?? parsed.Constraints.CostBudget,
            MaintenanceWindow = given?["maintenance_window"]?.GetValue<string>() ?? parsed.Constraints.MaintenanceWindow,
        };
        var now = call.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var window = SignalQueries.ParseDuration(call.GetString("window"), TimeSpan.FromHours(1));
        if (parsed.Goal is not { } goal)
        {
            var unserved = new IntentPlan
            {
                Status = "inconclusive",
                Missing = [$"the goal \"{goalText}\" names nothing the planner serves; say one of {string.Join(", ", IntentParser.GoalNames)} (or in words: reduce cost, improve availability, improve latency, recover, prepare for maintenance, absorb load)"],
                Trace = [new TraceEntry("conclusion", "inconclusive: no goal recognised in the text; nothing is guessed", [])],
            };
            return (unserved, runtimes, null);
        }

        var options = call.Services.GetRequiredService<RuntimeAiServerOptions>();
        var signals = new List<RuntimeSignals>(runtimes.Count);
        var needSnapshots = goal is IntentGoal.RecoverDegraded or IntentGoal.ImproveAvailability or IntentGoal.PrepareMaintenance;
        foreach (var runtime in runtimes.Where(r => r.State != RuntimeState.Deleted))
        {
            signals.Add(await SignalQueries.GatherAsync(call, store, runtime, window, now, needSnapshots, cancellationToken).ConfigureAwait(false));
        }

        var request = new PlanRequest
        {
            Goal = goal,
            Constraints = constraints,
            Mode = Mode(call.GetString("policy_mode")),
            Window = window,
            Horizon = TimeSpan.FromHours(24),
            Now = now,
            Prices = options.Prices,
            ParseNotes = parsed.Notes,
        };
        var plan = IntentPlanner.Plan(request, signals, Policy(call, options, runtimes));
        return (plan, runtimes, null);
    }

    /// <summary>
    /// The planner asks policy about each step so it never plans what a deny rule forbids. It asks
    /// at copilot or above: at advisor every change is refused anyway, and the plan is for a human.
    /// </summary>
    private static StepPolicy Policy(ToolCall call, RuntimeAiServerOptions options, List<Runtime> runtimes)
    {
        var evaluator = call.Services.GetRequiredService<IPolicySource>().Current;
        return (runtimeId, action) =>
        {
            var runtime = runtimes.First(r => r.Id == runtimeId);
            var level = AutonomyScope.Resolve(options.Autonomy, options.AutonomyScopes, runtime.TenantId, runtime.Labels);
            var size = action.Params?["size"]?.GetValue<string>();
            var facts = PolicyRuntimeFacts.From(runtime, size);
            if (SizeTable.TryGet(size, out var s))
            {
                facts = facts with { TargetVcpus = s.Vcpus, TargetMemoryMiB = s.MemoryMiB };
            }

            var decision = evaluator.Evaluate(new PolicyInput
            {
                Action = action.Type,
                Autonomy = level < AutonomyLevel.Copilot ? AutonomyLevel.Copilot : level,
                Runtime = facts,
            });
            return new StepVerdict(decision.Effect == PolicyEffect.Deny, $"rules {string.Join(", ", decision.RuleIds)}: {string.Join("; ", decision.Reasons)}");
        };
    }

    private static IntentPolicyMode Mode(string? text) => text switch
    {
        "balanced" => IntentPolicyMode.Balanced,
        "aggressive" => IntentPolicyMode.Aggressive,
        _ => IntentPolicyMode.SafeFirst,
    };

    /// <summary>The plan's actions in execute_actions form (each names its runtime).</summary>
    public static JsonArray Actions(IntentPlan plan) => new(plan.Steps.Select(s =>
    {
        var action = new JsonObject { ["type"] = EnumText.Name(s.Action.Type), ["runtime_id"] = s.RuntimeId };
        if (s.Action.Params is { Count: > 0 } p)
        {
            action["params"] = p.DeepClone();
        }

        return (JsonNode)action;
    }).ToArray());

    /// <summary>The plan as tools show it (the brief's ActionPlan plus the trace and the effect).</summary>
    public static JsonObject ToJson(IntentPlan plan) => new()
    {
        ["status"] = plan.Status,
        ["goal"] = plan.Goal is { } g ? IntentParser.Name(g) : null,
        ["actions"] = Actions(plan),
        ["rationale"] = SignalQueries.Strings(plan.Rationale),
        ["steps"] = new JsonArray(plan.Steps.Select(s => (JsonNode)new JsonObject
        {
            ["runtime_id"] = s.RuntimeId,
            ["type"] = EnumText.Name(s.Action.Type),
            ["reason"] = s.Reason,
            ["evidence"] = SignalQueries.Strings(s.Evidence),
        }).ToArray()),
        ["explanation_trace"] = new JsonArray(plan.Trace.Select(t => (JsonNode)new JsonObject
        {
            ["step"] = t.Step,
            ["detail"] = t.Detail,
            ["evidence"] = SignalQueries.Strings(t.Evidence),
        }).ToArray()),
        ["expected_effect"] = new JsonObject
        {
            ["vcpus_freed"] = plan.Effect.VcpusFreed,
            ["memory_mib_freed"] = plan.Effect.MemoryMiBFreed,
            ["cost_delta_monthly"] = plan.Effect.CostDeltaMonthly,
            ["currency"] = plan.Effect.Currency,
        },
        ["recommendations"] = SignalQueries.Strings(plan.Recommendations),
        ["missing"] = SignalQueries.Strings(plan.Missing),
    };

    public static string Summary(IntentPlan plan) => plan.Status switch
    {
        "planned" => $"{plan.Steps.Count} step(s): {string.Join("; ", plan.Rationale)}. Expected: {plan.Effect.VcpusFreed:0.#} vCPU, {plan.Effect.MemoryMiBFreed:0} MiB freed, {plan.Effect.CostDeltaMonthly.ToString("+0.##;-0.##;0", CultureInfo.InvariantCulture)} {plan.Effect.Currency}/month",
        "inconclusive" => "inconclusive: " + string.Join("; ", plan.Missing),
        _ => plan.Trace.LastOrDefault()?.Detail ?? "nothing to do",
    };
}

internal sealed class PlanActionsTool : RuntimeTool
{
    public override string Name => "plan_actions";

    public override string Title => "Plan actions for a goal";

    public override ToolTier Tier => ToolTier.Recommend;

    public override bool Idempotent => true;

    public override bool OpenWorld => false;

    public override string Description =>
        "Plan actions for a goal (name or sentence) from stored signals, with evidence.";

    public override JsonObject InputSchema { get; } = Schema.Object([.. IntentPlanning.Inputs(), Schema.Reasoning()]);

    public override JsonObject OutputSchema { get; } = Schema.Row("status");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var (plan, _, error) = await IntentPlanning.PlanAsync(call, cancellationToken).ConfigureAwait(false);
        return error ?? ToolResult.Ok(IntentPlanning.ToJson(plan!), IntentPlanning.Summary(plan!) + ".");
    }
}

internal sealed class SubmitIntentTool : RuntimeTool
{
    public override string Name => "submit_intent";

    public override string Title => "Submit an intent";

    public override ToolTier Tier => ToolTier.Recommend;

    // Recommend tier (not destructive, closed-world): it reaches infrastructure only through the
    // execute_actions call it makes, which carries its own execute-tier contract and gates, and
    // which the autonomy gate refuses at advisor.
    public override bool OpenWorld => false;

    public override string Description =>
        "Plan a goal, run it as one gated execute_actions; resume: intent_id+proposal_id.";

    public override JsonObject InputSchema { get; } = Schema.Object([
        .. IntentPlanning.Inputs(),
        Schema.Optional("context", Schema.OpenObject()),
        Schema.Optional("dry_run", Schema.Boolean()),
        Schema.Optional("intent_id", Schema.String(null, IntentPlanning.IntentIdPattern)),
        Schema.Optional("proposal_id", Schema.String(null, "^prp_[0-9A-HJKMNP-TV-Z]{26}$")),
        Schema.Reasoning()]);

    public override JsonObject OutputSchema { get; } = Schema.Row("intent_id");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var store = call.Services.GetRequiredService<IIntentStore>();
        var time = call.Services.GetRequiredService<TimeProvider>();
        if (call.GetString("intent_id") is { } existingId)
        {
            return await ContinueAsync(call, store, existingId, cancellationToken).ConfigureAwait(false);
        }

        var (plan, runtimes, error) = await IntentPlanning.PlanAsync(call, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var request = call.Arguments.DeepClone().AsObject();
        request.Remove("reasoning");
        request.Remove("proposal_id");
        var record = new IntentRecord
        {
            IntentId = call.Services.GetRequiredService<IdGenerator>().New("int"),
            RuntimeId = call.GetString("runtime_id"),
            Status = plan!.Status == "planned" ? "planned" : plan.Status == "inconclusive" ? "inconclusive" : "succeeded",
            Request = request,
            Plan = IntentPlanning.ToJson(plan),
            Principal = call.Principal,
            CreatedAt = time.GetUtcNow(),
        };
        if (plan.Status != "planned")
        {
            record = record with
            {
                FinishedAt = time.GetUtcNow(),
                Result = Result(IntentPlanning.Summary(plan!), [], plan!.Recommendations.Concat(plan.Missing)),
            };
            await store.SaveAsync(record, cancellationToken).ConfigureAwait(false);
            return Answer(record, IntentPlanning.Summary(plan));
        }

        await store.SaveAsync(record, cancellationToken).ConfigureAwait(false);
        return await RunAsync(call, store, record, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Redeems an approved proposal for a planned intent: the stored plan runs, not a new one.</summary>
    private static async Task<ToolResult> ContinueAsync(ToolCall call, IIntentStore store, string intentId, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(intentId, cancellationToken).ConfigureAwait(false);
        if (record is null || (record.Principal != call.Principal && !call.Caller.AllTenants))
        {
            return ToolResult.Error("not_found", $"intent '{intentId}' does not exist; submit_intent returns the intent_id");
        }

        if (call.GetString("proposal_id") is not { } proposalId)
        {
            return ToolResult.Error("invalid_params", $"intent '{intentId}' continues only with the approved proposal_id ({record.ProposalId ?? "none was made"}); to plan again, omit intent_id");
        }

        if (record.Status != "pending_approval")
        {
            return ToolResult.Error("invalid_state", $"intent '{intentId}' is {record.Status}, not pending_approval; nothing to continue");
        }

        return await RunAsync(call, store, record, proposalId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the plan as one execute_actions call through the very same pipeline a direct call
    /// passes (authorization, schema, autonomy, policy, dry-run, approval, idempotency, saga, audit):
    /// the intent adds no way around a gate, and its own audit record sits beside the inner one.
    /// </summary>
    private static async Task<ToolResult> RunAsync(ToolCall call, IIntentStore store, IntentRecord record, string? proposalId, CancellationToken cancellationToken)
    {
        var time = call.Services.GetRequiredService<TimeProvider>();
        var actions = record.Plan["actions"]!.AsArray();
        var arguments = new JsonObject
        {
            ["runtime_id"] = actions[0]!["runtime_id"]!.GetValue<string>(),
            ["actions"] = actions.DeepClone(),
            ["idempotency_key"] = record.IntentId,
            ["reasoning"] = $"intent {record.IntentId}: {record.Request["goal"]}",
        };
        if (record.Request["dry_run"] is JsonValue dry && dry.GetValue<bool>())
        {
            arguments["dry_run"] = true;
        }

        if (proposalId is not null)
        {
            arguments["proposal_id"] = proposalId;
        }

        var executeActions = ToolCatalog.Find("execute_actions")!;
        var inner = new ToolCallContext
        {
            CallId = call.Services.GetRequiredService<IdGenerator>().New("call"),
            ToolName = executeActions.Name,
            Tool = executeActions,
            Arguments = arguments,
            Principal = call.Caller,
            User = call.User,
            Client = call.Context.Client,
            Transport = call.Context.Transport,
            ProtocolVersion = call.Context.ProtocolVersion,
            Autonomy = call.Services.GetRequiredService<RuntimeAiServerOptions>().Autonomy,
            Reasoning = arguments["reasoning"]!.GetValue<string>(),
            Services = call.Services,
            // No MCP request: an approval becomes a proposal (one for the whole plan), never an
            // in-client prompt whose retry would re-plan on newer signals.
            Request = null,
        };
        var result = await call.Services.GetRequiredService<ToolCallPipeline>().InvokeAsync(inner, async ct =>
        {
            ToolResult r;
            try
            {
                r = await executeActions.InvokeAsync(new ToolCall(inner, call.Progress), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ToolErrors.FromKnown(ex) is { } known)
            {
                r = known;
            }

            return ToolResultMapper.ToCallToolResult(r);
        }, cancellationToken).ConfigureAwait(false);

        var text = string.Join(' ', result.Content.OfType<TextContentBlock>().Select(t => t.Text));
        var structured = result.StructuredContent is { } element ? JsonNode.Parse(element.GetRawText()) as JsonObject : null;
        var recommendations = record.Plan["recommendations"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        string status;
        string summary;
        if (result.IsError == true)
        {
            var code = structured?["error"]?["code"]?.GetValue<string>();
            if (code == "autonomy_denied")
            {
                status = "planned";
                summary = "planned; not run: autonomy is advisor here, so a human runs the plan (execute_actions with planned_actions, or raise the level)";
            }
            else
            {
                status = "failed";
                summary = $"failed: {text}";
            }
        }
        else if (structured?["status"]?.GetValue<string>() == "pending_approval")
        {
            status = "pending_approval";
            summary = $"the whole plan is one proposal ({structured["proposal_id"]}) waiting for a human; once approved call submit_intent with intent_id and proposal_id";
        }
        else if (structured?["operation_id"] is null)
        {
            status = "planned";
            summary = "dry run: " + text;
        }
        else
        {
            status = structured["status"]?.GetValue<string>() switch
            {
                "succeeded" => "succeeded",
                "failed" or "stuck" => "failed",
                _ => "executing",
            };
            summary = text;
        }

        var finished = status is "succeeded" or "failed" || (status == "planned" && record.Request["dry_run"] is not null);
        var updated = record with
        {
            Status = status,
            Autonomy = inner.Autonomy.ToString().ToLowerInvariant(),
            // A failed saga answers with an error whose text names its operation.
            OperationId = structured?["operation_id"]?.GetValue<string>()
                ?? (System.Text.RegularExpressions.Regex.Match(text, "op_[0-9A-HJKMNP-TV-Z]{26}") is { Success: true } m ? m.Value : null)
                ?? record.OperationId,
            ProposalId = structured?["proposal_id"]?.GetValue<string>() ?? proposalId ?? record.ProposalId,
            Result = Result(summary, Executed(structured, actions), recommendations),
            FinishedAt = finished ? time.GetUtcNow() : null,
        };
        await store.SaveAsync(updated, cancellationToken).ConfigureAwait(false);
        return Answer(updated, summary);
    }

    private static IEnumerable<JsonNode> Executed(JsonObject? operation, JsonArray actions)
    {
        if (operation?["operation_id"] is null)
        {
            return [];
        }

        var status = operation["status"]?.GetValue<string>();
        return actions.Select(a => (JsonNode)new JsonObject
        {
            ["action"] = a!.DeepClone(),
            ["operation_id"] = operation["operation_id"]!.DeepClone(),
            ["status"] = status,
        });
    }

    internal static JsonObject Result(string summary, IEnumerable<JsonNode> executed, IEnumerable<string> recommendations) => new()
    {
        ["summary"] = summary,
        ["executed_actions"] = new JsonArray(executed.ToArray()),
        ["recommendations"] = SignalQueries.Strings(recommendations),
    };

    internal static ToolResult Answer(IntentRecord record, string summary)
    {
        var structured = IntentRecordJson(record);
        return ToolResult.Ok(structured, $"Intent {record.IntentId} is {record.Status}: {summary}.");
    }

    internal static JsonObject IntentRecordJson(IntentRecord record)
    {
        var node = CoreJson.ToNode(record, CoreJsonContext.Default.IntentRecord);
        node["planned_actions"] = record.Plan["actions"]?.DeepClone();
        return node;
    }
}

internal sealed class GetIntentTool : RuntimeTool
{
    public override string Name => "get_intent";

    public override string Title => "Get an intent";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "Read an intent: status, plan, trace, operation, proposal, result.";

    public override JsonObject InputSchema { get; } = Schema.Object(
        Schema.Required("intent_id", Schema.String(null, IntentPlanning.IntentIdPattern)), Schema.Reasoning());

    public override JsonObject OutputSchema { get; } = Schema.Row("status");

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var id = call.GetString("intent_id")!;
        var record = await call.Services.GetRequiredService<IIntentStore>().GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (record is null || (record.RuntimeId is { } rt && await call.Inventory.GetRuntimeAsync(rt, cancellationToken).ConfigureAwait(false) is null)
            || (record.RuntimeId is null && !call.Caller.AllTenants && record.Principal != call.Principal))
        {
            return ToolResult.Error("not_found", $"intent '{id}' does not exist; use the intent_id submit_intent returned");
        }

        // An executing intent follows its operation.
        if (record.Status == "executing" && record.OperationId is { } op
            && await call.Inventory.GetOperationAsync(op, cancellationToken).ConfigureAwait(false) is { } operation
            && operation.Status is Core.Operations.OperationStatus.Succeeded or Core.Operations.OperationStatus.Failed)
        {
            record = record with
            {
                Status = operation.Status == Core.Operations.OperationStatus.Succeeded ? "succeeded" : "failed",
                FinishedAt = operation.FinishedAt ?? call.Services.GetRequiredService<TimeProvider>().GetUtcNow(),
            };
            await call.Services.GetRequiredService<IIntentStore>().SaveAsync(record, cancellationToken).ConfigureAwait(false);
        }

        var summary = record.Result?["summary"]?.GetValue<string>() ?? record.Status;
        return ToolResult.Ok(SubmitIntentTool.IntentRecordJson(record), $"Intent {id} is {record.Status}: {summary}.");
    }
}
