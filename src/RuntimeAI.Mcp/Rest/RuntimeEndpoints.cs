using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Common;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Mcp.Rest;

/// <summary>/v1/runtimes and /v1/operations: create, list, get, delete, status, operation (each one tool call).</summary>
internal static class RuntimeEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/runtimes", CreateAsync).WithName("createRuntime").WithTags("Runtimes")
            .AddOpenApiOperationTransformer(RestOpenApi.Body<RuntimeCreateRequest>(required: true))
            .Produces<Runtime>(StatusCodes.Status201Created).Produces<RestPendingApproval>(StatusCodes.Status202Accepted);
        group.MapGet("/runtimes", ListAsync).WithName("listRuntimes").WithTags("Runtimes")
            .Produces<RestRuntimeListResponse>()
            .AddOpenApiOperationTransformer(RestOpenApi.EnumParameters(("type", typeof(RuntimeType)), ("state", typeof(RuntimeState))));
        group.MapGet("/runtimes/{runtime_id}", GetAsync).WithName("getRuntime").WithTags("Runtimes")
            .Produces<Runtime>();
        group.MapDelete("/runtimes/{runtime_id}", DeleteAsync).WithName("deleteRuntime").WithTags("Runtimes")
            .Produces<RestOperation>(StatusCodes.Status202Accepted);
        group.MapGet("/runtimes/{runtime_id}/status", StatusAsync).WithName("getRuntimeStatus").WithTags("Runtimes")
            .Produces<RestRuntimeStatus>();
        group.MapGet("/operations/{operation_id}", OperationAsync).WithName("getOperation").WithTags("Runtimes")
            .Produces<RestOperation>();
    }

    internal static RestGateway Gateway(HttpContext http) => http.RequestServices.GetRequiredService<RestGateway>();

    private static async Task CreateAsync(HttpContext context, [FromQuery(Name = "dry_run")] bool? dryRun, [FromQuery(Name = "proposal_id")] string? proposalId)
    {
        if (await RestIo.ReadBodyAsync(context, required: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!RestIo.ApplyMutationFlags(context, body, out var problem))
        {
            await RestProblem.WriteAsync(context, "invalid_params", problem!).ConfigureAwait(false);
            return;
        }

        var call = await Gateway(context).CallAsync(context, "create_runtime", body).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, async operation =>
        {
            var runtimeId = operation["runtime_id"]?.GetValue<string>();
            var runtime = runtimeId is null ? null : await call.Context.ScopedInventory.GetRuntimeAsync(runtimeId, context.RequestAborted).ConfigureAwait(false);
            if (runtime is null)
            {
                // The operation finished without a runtime to show (never expected): answer with the operation.
                await RestIo.WriteOperationAsync(context, operation).ConfigureAwait(false);
                return;
            }

            var result = CoreJson.ToNode(runtime, CoreJsonContext.Default.Runtime);
            result["operation"] = RestIo.ToOperation(operation);
            context.Response.Headers.Location = $"{RestApi.Prefix}/runtimes/{runtime.Id}";
            await RestJson.WriteAsync(context, StatusCodes.Status201Created, result).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static async Task ListAsync(
        HttpContext context,
        [FromHeader(Name = "tenant_id")] string? tenantId,
        [FromQuery(Name = "type")] string? type,
        [FromQuery(Name = "state")] string? state,
        [FromQuery(Name = "page_size")] int? pageSize,
        [FromQuery(Name = "page_token")] string? pageToken)
    {
        // Passed on as given: the schema firewall names a value that is not a RuntimeType / RuntimeState.
        var arguments = RestIo.Arguments(("type", type), ("state", state), ("tenant_id", tenantId), ("page_size", pageSize), ("page_token", pageToken));
        var call = await Gateway(context).CallAsync(context, "list_runtimes", arguments).ConfigureAwait(false);
        // list_runtimes already answers whole Runtime records and the brief's page shape.
        await RestIo.WriteAsync(context, call, page => RestJson.WriteAsync(context, StatusCodes.Status200OK, page)).ConfigureAwait(false);
    }

    private static async Task GetAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context)
    {
        var call = await Gateway(context).CallAsync(context, "get_runtime", new JsonObject { ["runtime_id"] = runtimeId }).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, runtime => RestJson.WriteAsync(context, StatusCodes.Status200OK, runtime)).ConfigureAwait(false);
    }

    private static async Task DeleteAsync(
        [FromRoute(Name = "runtime_id")] string runtimeId,
        HttpContext context,
        [FromQuery(Name = "dry_run")] bool? dryRun,
        [FromQuery(Name = "proposal_id")] string? proposalId,
        [FromQuery(Name = "keep_data")] bool? keepData,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey)
    {
        var arguments = new JsonObject { ["runtime_id"] = runtimeId };
        if (keepData is { } keep)
        {
            arguments["keep_data"] = keep;
        }

        await MutateAsync(context, "delete_runtime", arguments).ConfigureAwait(false);
    }

    private static async Task StatusAsync([FromRoute(Name = "runtime_id")] string runtimeId, HttpContext context)
    {
        var call = await Gateway(context).CallAsync(context, "get_runtime_status", new JsonObject { ["runtime_id"] = runtimeId }).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, status => RestJson.WriteAsync(context, StatusCodes.Status200OK, RestMapping.ToRuntimeStatus(status))).ConfigureAwait(false);
    }

    private static async Task OperationAsync([FromRoute(Name = "operation_id")] string operationId, HttpContext context)
    {
        var call = await Gateway(context).CallAsync(context, "get_operation", new JsonObject { ["operation_id"] = operationId }).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, operation => RestJson.WriteAsync(context, StatusCodes.Status200OK, RestIo.ToOperation(operation))).ConfigureAwait(false);
    }

    /// <summary>A mutation that answers an Operation: flags applied, one gateway call, 202 + Location.</summary>
    internal static async Task MutateAsync(HttpContext context, string tool, JsonObject arguments)
    {
        if (!RestIo.ApplyMutationFlags(context, arguments, out var problem))
        {
            await RestProblem.WriteAsync(context, "invalid_params", problem!).ConfigureAwait(false);
            return;
        }

        var call = await Gateway(context).CallAsync(context, tool, arguments).ConfigureAwait(false);
        await RestIo.WriteAsync(context, call, operation => RestIo.WriteOperationAsync(context, operation)).ConfigureAwait(false);
    }
}
