using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace RuntimeAI.Mcp.Rest;

/// <summary>/v1/runtimes/{id}/intent and /actions: submit_intent, get_intent, plan_actions, execute_actions.</summary>
internal static class IntentEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/runtimes/{runtime_id}/intent", SubmitAsync).WithName("submitIntent").WithTags("Intent")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestIntentRequest>(required: true)).Produces<RestIntentResponse>(StatusCodes.Status202Accepted);
        group.MapGet("/runtimes/{runtime_id}/intent/{intent_id}", GetAsync).WithName("getIntent").WithTags("Intent")
            .Produces<RestIntentRecord>();
        group.MapPost("/runtimes/{runtime_id}/actions/plan", PlanAsync).WithName("planActions").WithTags("Actions")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestActionPlanRequest>(required: true)).Produces<RestActionPlan>();
        group.MapPost("/runtimes/{runtime_id}/actions/execute", ExecuteAsync).WithName("executeActions").WithTags("Actions")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestActionExecutionRequest>(required: true)).Produces<RestOperation>(StatusCodes.Status202Accepted);
    }

    private static async Task SubmitAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId)
    {
        if (await RestIo.ReadBodyAsync(context, required: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        var arguments = new JsonObject { ["runtime_id"] = runtimeId };
        foreach (var (key, value) in body)
        {
            if (value is not null)
            {
                arguments[key] = key == "constraints" && value is JsonObject constraints ? Constraints(constraints) : value.DeepClone();
            }
        }

        if (!RestIo.ApplyMutationFlags(context, arguments, out var problem))
        {
            await RestProblem.WriteAsync(context, "invalid_params", problem!).ConfigureAwait(false);
            return;
        }

        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "submit_intent", arguments).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, record =>
        {
            var response = new JsonObject
            {
                ["intent_id"] = record["intent_id"]?.DeepClone(),
                ["operation_id"] = OperationOf(record),
                ["status"] = IntentStatus(record) is "cancelled" ? "failed" : IntentStatus(record),
                ["planned_actions"] = Actions(record["planned_actions"] as JsonArray ?? record["plan"]?["actions"] as JsonArray),
            };
            AddDetail(response, record);
            response["result"] = record["result"]?.DeepClone();
            context.Response.Headers.Location = $"{RestApi.Prefix}/runtimes/{runtimeId}/intent/{record["intent_id"]}";
            return RestJson.WriteAsync(context, StatusCodes.Status202Accepted, response);
        }).ConfigureAwait(false);
    }

    private static async Task GetAsync([FromRoute(Name = "runtime_id")] string runtimeId, [FromRoute(Name = "intent_id")] string intentId, HttpContext context)
    {
        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "get_intent", new JsonObject { ["intent_id"] = intentId }).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, record =>
        {
            if (!string.Equals(record["runtime_id"]?.GetValue<string>(), runtimeId, StringComparison.Ordinal))
            {
                return RestProblem.WriteAsync(context, "not_found", $"runtime '{runtimeId}' has no intent '{intentId}'; the intent belongs to another runtime or does not exist");
            }

            var request = record["request"] as JsonObject ?? [];
            var briefRequest = new JsonObject { ["goal"] = request["goal"]?.DeepClone() ?? string.Empty };
            foreach (var key in new[] { "constraints", "context", "policy_mode", "dry_run" })
            {
                if (request[key] is { } value)
                {
                    briefRequest[key] = value.DeepClone();
                }
            }

            var result = record["result"] as JsonObject;
            var response = new JsonObject
            {
                ["intent_id"] = record["intent_id"]?.DeepClone(),
                ["runtime_id"] = record["runtime_id"]?.DeepClone(),
                ["request"] = briefRequest,
                ["status"] = IntentStatus(record),
                ["created_at"] = record["created_at"]?.DeepClone(),
            };
            AddDetail(response, record);
            if (record["finished_at"] is JsonValue finished)
            {
                response["finished_at"] = finished.DeepClone();
            }

            if (OperationOf(record) is { Length: > 0 } operationId)
            {
                response["operation_id"] = operationId;
            }

            if (result is not null)
            {
                response["result"] = new JsonObject
                {
                    ["summary"] = result["summary"]?.DeepClone(),
                    ["executed_actions"] = ActionResults(result["executed_actions"] as JsonArray),
                    ["recommendations"] = result["recommendations"]?.DeepClone() ?? new JsonArray(),
                };
            }

            return RestJson.WriteAsync(context, StatusCodes.Status200OK, response);
        }).ConfigureAwait(false);
    }

    private static async Task PlanAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context)
    {
        if (await RestIo.ReadBodyAsync(context, required: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        var arguments = new JsonObject { ["runtime_id"] = runtimeId };
        var ignored = new JsonArray();
        foreach (var (key, value) in body)
        {
            if (value is null)
            {
                continue;
            }

            if (key == "signals")
            {
                // The planner decides on the signals this server measured itself, never on ones a caller asserts.
                ignored.Add((JsonNode)"signals");
                continue;
            }

            arguments[key] = key == "constraints" && value is JsonObject constraints ? Constraints(constraints) : value.DeepClone();
        }

        var call = await RuntimeEndpoints.Gateway(context).CallAsync(context, "plan_actions", arguments).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, plan =>
        {
            var response = new JsonObject
            {
                ["actions"] = Actions(plan["actions"] as JsonArray),
                ["rationale"] = plan["rationale"]?.DeepClone() ?? new JsonArray(),
            };
            foreach (var (key, value) in plan)
            {
                if (key is not ("actions" or "rationale"))
                {
                    response[key] = value?.DeepClone();
                }
            }

            if (ignored.Count > 0)
            {
                response["ignored"] = ignored;
                response["ignored_reason"] = "signals are read from this server's own measurements (get_runtime_status, get_metrics), not taken from the request";
            }

            return RestJson.WriteAsync(context, StatusCodes.Status200OK, response);
        }).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        if (await RestIo.ReadBodyAsync(context, required: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        var arguments = new JsonObject { ["runtime_id"] = runtimeId };
        foreach (var (key, value) in body)
        {
            if (value is null)
            {
                continue;
            }

            if (key == "actions" && value is JsonArray actions)
            {
                var translated = new JsonArray();
                foreach (var action in actions)
                {
                    if (ToEngineAction(action, out var problem) is not { } engine)
                    {
                        await RestProblem.WriteAsync(context, "invalid_params", problem!).ConfigureAwait(false);
                        return;
                    }

                    translated.Add((JsonNode)engine);
                }

                arguments["actions"] = translated;
                continue;
            }

            arguments[key] = value.DeepClone();
        }

        await RuntimeEndpoints.MutateAsync(context, "execute_actions", arguments).ConfigureAwait(false);
    }

    /// <summary>The brief's Action ({type, target, params}) as the engine's ({type, runtime_id, params}).</summary>
    internal static JsonObject? ToEngineAction(JsonNode? node, out string? problem)
    {
        problem = null;
        if (node is not JsonObject action)
        {
            problem = "every entry of actions must be an object {\"type\": ..., \"target\": ..., \"params\": ...}";
            return null;
        }

        var engine = new JsonObject();
        foreach (var (key, value) in action)
        {
            if (value is null)
            {
                continue;
            }

            if (key == "target" && value is JsonObject target)
            {
                foreach (var (targetKey, targetValue) in target)
                {
                    if (targetKey != "runtime_id")
                    {
                        problem = $"target.{targetKey} is not a target this server can address; name another runtime with target.runtime_id or leave target out for the runtime of the path";
                        return null;
                    }

                    engine["runtime_id"] = targetValue?.DeepClone();
                }

                continue;
            }

            if (key == "params" && value is JsonObject parameters && action["type"]?.ToString() == "scale"
                && (parameters.ContainsKey("resources") || parameters.ContainsKey("cpu") || parameters.ContainsKey("memory")))
            {
                // Scale params in the brief's shape ({resources: {cpu, memory}} or {cpu, memory}) become {vcpus, memory_mib}.
                var body = parameters.ContainsKey("resources") ? parameters : new JsonObject { ["resources"] = ResourcesOf(parameters) };
                if (LifecycleEndpoints.ScaleArguments(body, out problem) is not { } scale)
                {
                    return null;
                }

                engine["params"] = scale;
                continue;
            }

            engine[key] = value.DeepClone();
        }

        return engine;
    }

    private static JsonObject ResourcesOf(JsonObject parameters)
    {
        var resources = new JsonObject();
        foreach (var (key, value) in parameters)
        {
            resources[key] = value?.DeepClone();
        }

        return resources;
    }

    /// <summary>The engine's planned actions ({type, runtime_id, params}) as the brief's ({type, target, params}).</summary>
    internal static JsonArray Actions(JsonArray? actions)
    {
        var result = new JsonArray();
        foreach (var node in actions ?? [])
        {
            if (node is JsonObject action)
            {
                result.Add((JsonNode)ToBriefAction(action));
            }
        }

        return result;
    }

    private static JsonObject ToBriefAction(JsonObject action)
    {
        var brief = new JsonObject { ["type"] = action["type"]?.DeepClone() };
        if (action["runtime_id"] is JsonValue runtime)
        {
            brief["target"] = new JsonObject { ["runtime_id"] = runtime.DeepClone() };
        }

        brief["params"] = action["params"]?.DeepClone() ?? new JsonObject();
        return brief;
    }

    private static JsonArray ActionResults(JsonArray? executed)
    {
        var result = new JsonArray();
        foreach (var node in executed ?? [])
        {
            if (node is not JsonObject entry)
            {
                continue;
            }

            var action = entry["action"] as JsonObject ?? entry;
            var status = entry["status"]?.ToString() switch
            {
                "succeeded" or "ok" or "done" => "succeeded",
                "skipped" => "skipped",
                _ => "failed",
            };
            var item = new JsonObject { ["action"] = ToBriefAction(action), ["status"] = status };
            if ((entry["message"] ?? entry["error"]) is JsonNode message)
            {
                item["message"] = message is JsonValue ? message.DeepClone() : message.ToJsonString();
            }

            if (entry["operation_id"] is JsonValue operation)
            {
                item["operation_id"] = operation.DeepClone();
            }

            result.Add((JsonNode)item);
        }

        return result;
    }

    /// <summary>
    /// The brief's free-form constraints ({latency: "&lt;50ms", availability, cost}) as the planner's
    /// (latency_ms, availability, cost_budget, maintenance_window). "cost": "optimize" is what the
    /// goal already says and adds nothing; anything else goes on for the schema firewall to judge.
    /// </summary>
    internal static JsonObject Constraints(JsonObject constraints)
    {
        var result = new JsonObject();
        foreach (var (key, value) in constraints)
        {
            if (key == "latency" && value is JsonValue latency)
            {
                var text = latency.ToString().Trim().TrimStart('<', '=', ' ');
                text = text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? text[..^2] : text;
                result["latency_ms"] = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : value.DeepClone();
            }
            else if (key == "cost" && value is JsonValue cost)
            {
                if (cost.TryGetValue<double>(out var budget))
                {
                    result["cost_budget"] = budget;
                }
                else if (cost.ToString() is not ("optimize" or "minimize" or "reduce"))
                {
                    result["cost"] = value.DeepClone();
                }
            }
            else
            {
                result[key] = value?.DeepClone();
            }
        }

        return result;
    }

    /// <summary>The brief's intent status; the engine's finer states are kept in <c>status_detail</c>.</summary>
    private static string IntentStatus(JsonObject record) => record["status"]?.ToString() switch
    {
        "accepted" => "accepted",
        "executing" => "executing",
        "succeeded" => "succeeded",
        "failed" or "failed_compensated" => "failed",
        "cancelled" or "rejected" or "expired" => "cancelled",
        _ => "planned",
    };

    private static void AddDetail(JsonObject response, JsonObject record)
    {
        if (record["status"]?.ToString() is { } status && status != response["status"]?.ToString())
        {
            response["status_detail"] = status;
        }

        if (record["proposal_id"] is JsonValue proposal)
        {
            response["proposal_id"] = proposal.DeepClone();
        }
    }

    /// <summary>The intent's operation (empty when nothing ran: a dry run, an inconclusive plan, a pending approval).</summary>
    private static string OperationOf(JsonObject record) =>
        record["operation_id"]?.ToString() ?? record["result"]?["operation_id"]?.ToString() ?? string.Empty;
}
