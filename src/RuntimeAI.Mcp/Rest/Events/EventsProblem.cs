using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>
/// Results of the events endpoints: problems through the REST API's one writer
/// (<see cref="RestProblem"/>, RFC 9457), and JSON bodies.
/// </summary>
internal static class EventsProblem
{
    /// <summary>A problem with a detail that names the problem and the fix.</summary>
    public static IResult Problem(int status, string code, string detail) => new ProblemResult(status, code, detail);

    public static IResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "not_found", detail);

    public static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "invalid_params", detail);

    public static IResult Forbidden(string detail) => Problem(StatusCodes.Status403Forbidden, "forbidden", detail);

    /// <summary>A JSON body.</summary>
    public static IResult Json(JsonNode body, int status = StatusCodes.Status200OK) =>
        Results.Content(body.ToJsonString(), "application/json", Encoding.UTF8, status);

    private sealed class ProblemResult(int status, string code, string detail) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => RestProblem.WriteAsync(httpContext, code, detail, status);
    }
}
