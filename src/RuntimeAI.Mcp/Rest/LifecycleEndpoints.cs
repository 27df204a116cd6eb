using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace RuntimeAI.Mcp.Rest;

/// <summary>/v1/runtimes/{id}/lifecycle/*: each verb is the execute tool of the same name (202 → Operation).</summary>
internal static class LifecycleEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/runtimes/{runtime_id}/lifecycle/start", StartAsync).WithName("startRuntime").WithTags("Lifecycle")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestLifecycleStartRequest>(required: false)).Produces<RestOperation>(StatusCodes.Status202Accepted);
        group.MapPost("/runtimes/{runtime_id}/lifecycle/stop", StopAsync).WithName("stopRuntime").WithTags("Lifecycle")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestLifecycleStopRequest>(required: false)).Produces<RestOperation>(StatusCodes.Status202Accepted);
        group.MapPost("/runtimes/{runtime_id}/lifecycle/restart", RestartAsync).WithName("restartRuntime").WithTags("Lifecycle")
            .Produces<RestOperation>(StatusCodes.Status202Accepted);
        group.MapPost("/runtimes/{runtime_id}/lifecycle/scale", ScaleAsync).WithName("scaleRuntime").WithTags("Lifecycle")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestLifecycleScaleRequest>(required: true)).Produces<RestOperation>(StatusCodes.Status202Accepted);
        group.MapPost("/runtimes/{runtime_id}/lifecycle/snapshot", SnapshotAsync).WithName("snapshotRuntime").WithTags("Lifecycle")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestLifecycleSnapshotRequest>(required: false)).Produces<RestOperation>(StatusCodes.Status202Accepted);
        group.MapPost("/runtimes/{runtime_id}/lifecycle/restore", RestoreAsync).WithName("restoreRuntime").WithTags("Lifecycle")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RestLifecycleRestoreRequest>(required: true)).Produces<RestOperation>(StatusCodes.Status202Accepted);
    }

    private static async Task StartAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        if (await RestIo.ReadBodyAsync(context, required: false).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        var arguments = new JsonObject { ["runtime_id"] = runtimeId };
        if (body["reason"] is JsonValue reason)
        {
            arguments["reasoning"] = reason.DeepClone();
            body.Remove("reason");
        }

        await RuntimeEndpoints.MutateAsync(context, "start_runtime", Merge(arguments, body)).ConfigureAwait(false);
    }

    private static async Task StopAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        if (await RestIo.ReadBodyAsync(context, required: false).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        await RuntimeEndpoints.MutateAsync(context, "stop_runtime", Merge(new JsonObject { ["runtime_id"] = runtimeId }, body)).ConfigureAwait(false);
    }

    private static async Task RestartAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        if (await RestIo.ReadBodyAsync(context, required: false).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        await RuntimeEndpoints.MutateAsync(context, "restart_runtime", Merge(new JsonObject { ["runtime_id"] = runtimeId }, body)).ConfigureAwait(false);
    }

    private static async Task ScaleAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        if (await RestIo.ReadBodyAsync(context, required: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (ScaleArguments(body, out var problem) is not { } parameters)
        {
            await RestProblem.WriteAsync(context, "invalid_params", problem!).ConfigureAwait(false);
            return;
        }

        await RuntimeEndpoints.MutateAsync(context, "scale_runtime", Merge(new JsonObject { ["runtime_id"] = runtimeId }, parameters)).ConfigureAwait(false);
    }

    private static async Task SnapshotAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        if (await RestIo.ReadBodyAsync(context, required: false).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        // The brief makes the name optional; the engine names every snapshot, so one is made from the clock.
        if (body["name"] is null)
        {
            var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            body["name"] = "snap-" + now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        }

        await RuntimeEndpoints.MutateAsync(context, "snapshot_runtime", Merge(new JsonObject { ["runtime_id"] = runtimeId }, body)).ConfigureAwait(false);
    }

    private static async Task RestoreAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        if (await RestIo.ReadBodyAsync(context, required: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        await RuntimeEndpoints.MutateAsync(context, "restore_snapshot", Merge(new JsonObject { ["runtime_id"] = runtimeId }, body)).ConfigureAwait(false);
    }

    /// <summary>Body members join the arguments; the path's runtime wins over a runtime_id in the body.</summary>
    internal static JsonObject Merge(JsonObject arguments, JsonObject body)
    {
        foreach (var (key, value) in body)
        {
            if (!arguments.ContainsKey(key) && value is not null)
            {
                arguments[key] = value.DeepClone();
            }
        }

        return arguments;
    }

    /// <summary>
    /// The brief's scale body ({size} or {resources: {cpu, memory, gpu, replicas}}) as the engine's
    /// parameters ({size} or {vcpus, memory_mib}); null with the problem when it cannot be one.
    /// </summary>
    internal static JsonObject? ScaleArguments(JsonObject body, out string? problem)
    {
        problem = null;
        var parameters = new JsonObject();
        foreach (var (key, value) in body)
        {
            if (key is "resources" or "size" || value is null)
            {
                continue;
            }

            // Anything else (vcpus, memory_mib, reasoning…) goes on to the schema firewall as given.
            parameters[key] = value.DeepClone();
        }

        if (body["size"] is JsonValue size && size.GetValueKind() != System.Text.Json.JsonValueKind.Null)
        {
            parameters["size"] = size.DeepClone();
        }

        if (body["resources"] is JsonObject resources)
        {
            if (resources["gpu"] is JsonValue gpu && gpu.GetValueKind() != System.Text.Json.JsonValueKind.Null)
            {
                problem = "resources.gpu cannot be scaled: neither the libvirt, KubeVirt nor vCluster backend of this server attaches GPUs; scale with size or resources.cpu / resources.memory";
                return null;
            }

            if (resources["replicas"] is JsonValue replicas && replicas.GetValueKind() != System.Text.Json.JsonValueKind.Null)
            {
                problem = "resources.replicas cannot be scaled: a runtime here is one VM or one virtual cluster, which has no replica count; scale with size or resources.cpu / resources.memory";
                return null;
            }

            if (resources["cpu"] is JsonValue cpu && cpu.GetValueKind() != System.Text.Json.JsonValueKind.Null)
            {
                if (!cpu.TryGetValue<double>(out var cores) || cores != Math.Floor(cores))
                {
                    problem = $"resources.cpu is {cpu.ToJsonString()}; send a whole number of vCPUs (e.g. 4)";
                    return null;
                }

                parameters["vcpus"] = (long)cores;
            }

            if (resources["memory"] is JsonValue memory && memory.GetValueKind() != System.Text.Json.JsonValueKind.Null)
            {
                if (!memory.TryGetValue<string>(out var quantity) || RestIo.MemoryMib(quantity) is not { } mib)
                {
                    problem = $"resources.memory is {memory.ToJsonString()}; send a quantity such as \"8Gi\" or \"512Mi\"";
                    return null;
                }

                parameters["memory_mib"] = mib;
            }

            foreach (var (key, _) in resources)
            {
                if (key is not ("cpu" or "memory" or "gpu" or "replicas"))
                {
                    problem = $"resources.{key} is not a resource; send cpu and/or memory";
                    return null;
                }
            }
        }

        if (!parameters.ContainsKey("size") && !parameters.ContainsKey("vcpus") && !parameters.ContainsKey("memory_mib"))
        {
            problem = "say what to scale to: {\"size\": \"large\"} or {\"resources\": {\"cpu\": 4, \"memory\": \"8Gi\"}}";
            return null;
        }

        return parameters;
    }
}
