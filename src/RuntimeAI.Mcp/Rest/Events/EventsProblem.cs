using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RuntimeAI.Mcp.Rest.Events;

/// <summary>
/// RFC 9457 problem details and JSON bodies for the events endpoints; the one place that writes
/// them, so it can be swapped for the REST API's shared writer.
/// </summary>
internal static class EventsProblem
{
    /// <summary>A problem (<c>application/problem+json</c>) with a detail that names the problem and the fix.</summary>
    public static IResult Problem(int status, string title, string detail, string? code = null)
    {
        var body = new JsonObject
        {
            ["type"] = "about:blank",
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
        };
        if (code is not null)
        {
            body["code"] = code;
        }

        return Results.Content(body.ToJsonString(), "application/problem+json", Encoding.UTF8, status);
    }

    public static IResult NotFound(string what) => Problem(StatusCodes.Status404NotFound, "Not Found", what, "not_found");

    public static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad Request", detail, "invalid_params");

    public static IResult Forbidden(string detail) => Problem(StatusCodes.Status403Forbidden, "Forbidden", detail, "forbidden");

    /// <summary>A JSON body.</summary>
    public static IResult Json(JsonNode body, int status = StatusCodes.Status200OK) =>
        Results.Content(body.ToJsonString(), "application/json", Encoding.UTF8, status);
}
